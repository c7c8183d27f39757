/**
 * (d) End to end through LocalStack: a private copy of the messaging topology (the same CDK
 * construct, test/support/private-messaging.ts), one real worker process (src/cli/worker.ts,
 * test/support/worker-process.ts), events published to the catalog topic with PublishBatch
 * (`occurredAt` = the moment the batch is sent), and the worker's L1 broadcasts observed on
 * `<namespace>:l1`. A broadcast follows the deletes in the same pipeline and carries Redis'
 * server time (`publishedAtMs`, same machine clock) and the `eventIds` it covers, so
 *
 *   lag(event)  = broadcast.publishedAtMs - event.occurredAt
 *   events/s    = events / (last broadcast - first publish)
 *
 * The test harness is imported rather than copied: a bench whose topology or worker
 * environment drifted from the tests' would measure something else.
 */
import { Redis } from 'ioredis';
import { PublishBatchCommand } from '@aws-sdk/client-sns';
import { parseBroadcast } from '../../src/adapters/redis/broadcast-message.ts';
import { queueDepth, snsClient, sqsClient } from '../../test/support/aws.ts';
import { privateMessaging, type PrivateMessaging } from '../../test/support/private-messaging.ts';
import { stack } from '../../test/support/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../../test/support/worker-process.ts';
import { benchKeys, populateProducts, survivingProducts } from './bench-keys.ts';
import { productEvent } from './product-events.ts';
import { percentile } from './stats.ts';
import { adminHeaders } from '../../src/admin/admin-token.ts';
import { stackAccess } from '../../test/support/redis-access.ts';

export interface EndToEndOptions {
  readonly namespace: string;
  readonly events: number;
  readonly warmupEvents: number;
  /** Concurrent PublishBatch callers, so that publishing is not the bottleneck. */
  readonly publishers: number;
  /** Events of the paced phase, published one by one at `pacedPerSecond`. */
  readonly pacedEvents: number;
  readonly pacedPerSecond: number;
  readonly pollersPerQueue: number;
  readonly timeoutMs: number;
  /** First ASIN index used (indexes below belong to the in-memory runs). */
  readonly firstIndex: number;
}

export interface EndToEndRun {
  readonly events: number;
  readonly seen: number;
  readonly publishMs: number;
  readonly spanMs: number;
  readonly eventsPerSecond: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly broadcasts: number;
  /** The paced phase: lag when the worker keeps up. */
  readonly paced: {
    readonly events: number;
    readonly seen: number;
    readonly perSecond: number;
    readonly lagP50Ms: number;
    readonly lagP99Ms: number;
    readonly lagMaxMs: number;
  };
  readonly survivingKeys: number;
  readonly dlqDepth: number;
  readonly setupMs: number;
  /** What the worker's own `/lag.json` said, when it serves one. */
  readonly workerLagJson: string;
}

/** Deploys, runs and tears down; every resource created is removed even on failure. */
export async function runEndToEnd(o: EndToEndOptions, log: (line: string) => void): Promise<EndToEndRun> {
  const s = stack();
  const keys = benchKeys(o.namespace);
  const sns = snsClient();
  const sqs = sqsClient();
  const redis = new Redis({ ...stackAccess().node, ...s.redis.primary });
  const subscriber = new Redis({ ...stackAccess().node, ...s.redis.primary });
  let messaging: PrivateMessaging | undefined;
  let worker: WorkerProcess | undefined;
  const seenAt = new Map<string, number>();
  let broadcasts = 0;
  try {
    const setupStarted = Date.now();
    await subscriber.subscribe(`${o.namespace}:l1`);
    subscriber.on('message', (_channel: string, raw: string) => {
      const m = parseBroadcast(raw);
      if (m?.type !== 'invalidate') return;
      broadcasts++;
      for (const id of m.eventIds) if (!seenAt.has(id)) seenAt.set(id, m.publishedAtMs);
    });
    messaging = await privateMessaging({ visibilityTimeoutSeconds: 30 });
    worker = await startWorkerProcess({
      messaging,
      namespace: o.namespace,
      redisMode: 'sentinel',
      env: {
        WORKER_POLLERS_PER_QUEUE: String(o.pollersPerQueue),
        WORKER_LOG_LEVEL: 'info',
        // The worker also consumes the review-refresh queue, which needs the origin's URL.
        WORKER_ORIGIN_URL: s.origin.url,
      },
    });
    const topic = messaging.topics.catalog;
    const setupMs = Date.now() - setupStarted;
    log(`    private stack ${messaging.stackName} + worker pid ${worker.proc.pid} ready in ${setupMs} ms`);

    /** Publishes ASIN indexes [from, from + count): `publishers` loops of PublishBatch, or paced one by one. */
    const publishRange = async (from: number, count: number, pace?: { perSecond: number }) => {
      const published = new Map<string, number>();
      const size = pace ? 1 : 10;
      const started = Date.now();
      let next = 0;
      const publisher = async () => {
        for (;;) {
          const b = next;
          next += size;
          if (b >= count) return;
          if (pace) {
            const due = started + (b * 1000) / pace.perSecond;
            if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          }
          const at = Date.now();
          const chunk = Array.from({ length: Math.min(size, count - b) }, (_, n) =>
            productEvent(from + b + n, at),
          );
          const res = await sns.send(
            new PublishBatchCommand({
              TopicArn: topic,
              PublishBatchRequestEntries: chunk.map((e, n) => ({
                Id: String(n),
                Message: JSON.stringify(e),
                MessageAttributes: { eventType: { DataType: 'String', StringValue: e.type } },
              })),
            }),
          );
          if ((res.Failed ?? []).length > 0) throw new Error(`publish failed: ${JSON.stringify(res.Failed)}`);
          for (const e of chunk) published.set(e.eventId, Date.parse(e.occurredAt));
        }
      };
      await Promise.all(Array.from({ length: pace ? 1 : o.publishers }, publisher));
      return published;
    };
    const lagsOf = (published: ReadonlyMap<string, number>) => {
      const lags: number[] = [];
      let last = 0;
      for (const [id, occurredAtMs] of published) {
        const at = seenAt.get(id);
        if (at === undefined) continue;
        lags.push(at - occurredAtMs);
        last = Math.max(last, at);
      }
      return { lags: lags.sort((a, b) => a - b), last };
    };
    const awaitAll = async (ids: Iterable<string>) => {
      const deadline = Date.now() + o.timeoutMs;
      const wanted = [...ids];
      while (wanted.some((id) => !seenAt.has(id))) {
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    // Warm-up: first SDK connections, LocalStack's first receives, script loading.
    const total = o.warmupEvents + o.events + o.pacedEvents;
    await populateProducts(redis, keys, o.firstIndex, total);
    let from = o.firstIndex;
    await awaitAll((await publishRange(from, o.warmupEvents)).keys());
    from += o.warmupEvents;
    const broadcastsBefore = broadcasts;

    // The burst: as fast as the publishers go; throughput, and lag under a backlog.
    const firstPublish = Date.now();
    const published = await publishRange(from, o.events);
    const publishMs = Date.now() - firstPublish;
    await awaitAll(published.keys());
    from += o.events;
    const burst = lagsOf(published);
    const spanMs = burst.last - firstPublish;
    const burstBroadcasts = broadcasts - broadcastsBefore;
    const workerLagJson = await readWorkerLag(worker.adminPort);

    // Paced: well under the throughput, so the lag is the path's, not the backlog's.
    const paced = await publishRange(from, o.pacedEvents, { perSecond: o.pacedPerSecond });
    await awaitAll(paced.keys());
    const calm = lagsOf(paced);

    const survivingKeys = await survivingProducts(redis, keys, o.firstIndex, total);
    const dlqDepth = await queueDepth(sqs, messaging.queues.catalog.dlqUrl);
    const lags = burst.lags;
    return {
      events: published.size,
      seen: lags.length,
      publishMs,
      spanMs,
      eventsPerSecond: (lags.length / spanMs) * 1000,
      lagP50Ms: percentile(lags, 50),
      lagP99Ms: percentile(lags, 99),
      lagMaxMs: lags.at(-1) ?? Number.NaN,
      broadcasts: burstBroadcasts,
      paced: {
        events: paced.size,
        seen: calm.lags.length,
        perSecond: o.pacedPerSecond,
        lagP50Ms: percentile(calm.lags, 50),
        lagP99Ms: percentile(calm.lags, 99),
        lagMaxMs: calm.lags.at(-1) ?? Number.NaN,
      },
      survivingKeys,
      dlqDepth,
      setupMs,
      workerLagJson,
    };
  } finally {
    const exit = await worker?.stop().catch(() => undefined);
    if (exit !== undefined && exit.code !== 0) log(`    worker exited with ${exit.code ?? exit.signal}`);
    await messaging
      ?.teardown()
      .catch((err: unknown) => log(`    teardown of ${messaging?.stackName} failed: ${String(err)}`));
    subscriber.disconnect();
    redis.disconnect();
    sns.destroy();
    sqs.destroy();
  }
}

/** Stages of the worker's own `/lag.json` printed as a cross-check (see src/metrics/lag-stages.ts). */
const WORKER_STAGES = ['origin_to_delete', 'sent_to_delete', 'receive_to_delete'];

/** The worker's own product lag (since it started) from `/lag.json`, or why it is not there. */
async function readWorkerLag(port: number): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/lag.json`, {
      headers: adminHeaders(),
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) return `not served (HTTP ${res.status})`;
    const report = (await res.json()) as {
      series?: { family: string; stage: string; total?: { count?: number; p50?: number; p99?: number } }[];
    };
    const product = (report.series ?? []).filter(
      (x) => x.family === 'product' && WORKER_STAGES.includes(x.stage),
    );
    return product.length === 0
      ? 'served, no product series'
      : product
          .map((x) => `${x.stage} n=${x.total?.count} p50=${x.total?.p50} p99=${x.total?.p99} ms`)
          .join('; ');
  } catch (err) {
    return `not reachable (${String(err)})`;
  }
}
