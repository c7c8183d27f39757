/**
 * End-to-end lag, decomposed, against LocalStack's own limit (issue 13 item 4):
 * `npm run bench:e2e` (= node bench/end-to-end-lag.ts).
 *
 *   node bench/end-to-end-lag.ts [--loads 50,200] [--seconds 20] [--burst 3000] [--raw-loops 8]
 *                                [--pollers 8] [--wait-s 20] [--publishers 4]
 *
 * Two consumers of the same private catalog queue (a messaging topology deployed from the
 * CDK construct under a random prefix, test/support/private-messaging.ts) at the same offered
 * loads, one after the other:
 *
 *   raw    `--raw-loops` loops of ReceiveMessage (10, long poll 1 s) + DeleteMessageBatch and
 *          nothing else: what LocalStack itself delivers. Per event: SNS publish (the moment
 *          PublishBatch is called, = occurredAt) -> SQS sent (SentTimestamp) -> received (the
 *          receive's response) -> delete confirmed (DeleteMessageBatch's response).
 *   fleet  one real worker process (src/cli/worker.ts, test/support/worker-process.ts) on a
 *          private redis-server, `--pollers` per queue. Per event, seen by this process: SNS
 *          publish -> L1 broadcast published (its `publishedAtMs`, Redis' clock, same machine).
 *          The hops inside come from the worker's own /lag.json (stages since its start,
 *          src/metrics/lag-stages.ts): publish -> sent = origin_to_delete - sent_to_delete,
 *          sent -> received = sent_to_delete - receive_to_delete, received -> delete confirmed
 *          = receive_to_delete, delete -> broadcast = origin_to_broadcast - origin_to_delete
 *          (differences of percentiles, so approximate; the end-to-end figures are exact).
 *
 * Offered loads: each of `--loads` paced for `--seconds` (PublishBatch of up to 10 every
 * 100 ms). Then a backlog: `--burst` events published while the consumer is stopped, drained
 * once it starts; the raw consumer's drain rate (events / (last completion - first)) is
 * LocalStack's maximum, and a last paced phase offers `--max-share` of it to both ("max
 * sustained"). Throughput of a paced phase = events / (last completion - first publish); the
 * ratio is fleet / raw at the same offered load (target >= 0.8).
 */
import { parseArgs } from 'node:util';
import { PublishBatchCommand } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { parseBroadcast } from '../src/adapters/redis/broadcast-message.ts';
import { adminHeaders } from '../src/admin/admin-token.ts';
import { queueDepth, snsClient, sqsClient } from '../test/support/aws.ts';
import { privateMessaging } from '../test/support/private-messaging.ts';
import { startPrivateRedis } from '../test/support/private-redis.ts';
import { stack } from '../test/support/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../test/support/worker-process.ts';
import { benchNamespace } from './worker/bench-keys.ts';
import { productEvent } from './worker/product-events.ts';
import { int, loadAverage, machine, percentile } from './worker/stats.ts';

const { values: args } = parseArgs({
  options: {
    loads: { type: 'string', default: '50,200' },
    seconds: { type: 'string', default: '20' },
    burst: { type: 'string', default: '3000' },
    'raw-loops': { type: 'string', default: '8' },
    pollers: { type: 'string', default: '8' },
    /** The worker's long poll (WORKER_WAIT_TIME_S); 20 as deployed (the tests' workers use 1). */
    'wait-s': { type: 'string', default: '20' },
    publishers: { type: 'string', default: '4' },
    'max-share': { type: 'string', default: '0.9' },
  },
});
const loads = args.loads.split(',').map(Number);
const seconds = Number(args.seconds);
const burst = Number(args.burst);
const rawLoops = Number(args['raw-loops']);
const publishers = Number(args.publishers);
const maxShare = Number(args['max-share']);
if (![...loads, seconds, burst, rawLoops, publishers, maxShare].every((n) => Number.isFinite(n) && n > 0))
  throw new RangeError('every numeric flag must be a positive number');

const log = (line = '') => console.log(line);
const sns = snsClient();
const sqs = sqsClient();
const s = stack();

/** What one consumer reported for one event (ms since epoch). */
interface Seen {
  sentAt?: number;
  receivedAt?: number;
  doneAt: number;
}

interface Phase {
  readonly name: string;
  readonly offered: number | 'burst';
  readonly events: number;
  readonly completed: number;
  readonly spanMs: number;
  readonly eventsPerSecond: number;
  /** Backlog phases: events / (last completion - first completion). */
  readonly drainPerSecond: number;
  /** End to end (publish -> delete confirmed for raw, -> broadcast for the fleet), sorted. */
  readonly lags: number[];
  /** Per-hop lags (raw only), sorted. */
  readonly hops?: { publishToSent: number[]; sentToReceived: number[]; receivedToDeleted: number[] };
}

/** Publishes `count` product events paced at `perSecond` (or as a burst); resolves with publish times. */
async function publish(
  topic: string,
  from: number,
  count: number,
  perSecond: number | 'burst',
): Promise<Map<string, number>> {
  const published = new Map<string, number>();
  const started = Date.now();
  let next = 0;
  const send = async (n: number) => {
    const at = Date.now();
    const chunk = Array.from({ length: n }, (_, k) => productEvent(from + next + k, at));
    next += n;
    const res = await sns.send(
      new PublishBatchCommand({
        TopicArn: topic,
        PublishBatchRequestEntries: chunk.map((e, i) => ({
          Id: String(i),
          Message: JSON.stringify(e),
          MessageAttributes: { eventType: { DataType: 'String', StringValue: e.type } },
        })),
      }),
    );
    if ((res.Failed ?? []).length > 0) throw new Error(`publish failed: ${JSON.stringify(res.Failed)}`);
    for (const e of chunk) published.set(e.eventId, at);
  };
  if (perSecond === 'burst') {
    await Promise.all(
      Array.from({ length: publishers }, async () => {
        while (next < count) await send(Math.min(10, count - next));
      }),
    );
    return published;
  }
  // Every 100 ms, what is due by then (a PublishBatch per 10), so the offered rate is exact.
  const inFlight: Promise<void>[] = [];
  while (next < count) {
    const due = Math.min(count, Math.floor(((Date.now() - started) / 1000) * perSecond));
    while (next < due) inFlight.push(send(Math.min(10, due - next)));
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(inFlight);
  return published;
}

async function waitFor(ids: Iterable<string>, seen: ReadonlyMap<string, Seen>, timeoutMs = 120_000) {
  const wanted = [...ids];
  const deadline = Date.now() + timeoutMs;
  while (wanted.some((id) => !seen.has(id)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
}

function phaseOf(
  name: string,
  offered: number | 'burst',
  published: ReadonlyMap<string, number>,
  seen: ReadonlyMap<string, Seen>,
): Phase {
  const lags: number[] = [];
  const hops = {
    publishToSent: [] as number[],
    sentToReceived: [] as number[],
    receivedToDeleted: [] as number[],
  };
  let first = Number.POSITIVE_INFINITY;
  let firstDone = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const [id, at] of published) {
    first = Math.min(first, at);
    const x = seen.get(id);
    if (x === undefined) continue;
    last = Math.max(last, x.doneAt);
    firstDone = Math.min(firstDone, x.doneAt);
    lags.push(x.doneAt - at);
    if (x.sentAt !== undefined && x.receivedAt !== undefined) {
      hops.publishToSent.push(x.sentAt - at);
      hops.sentToReceived.push(x.receivedAt - x.sentAt);
      hops.receivedToDeleted.push(x.doneAt - x.receivedAt);
    }
  }
  const sort = (xs: number[]) => xs.sort((a, b) => a - b);
  const spanMs = last - first;
  return {
    name,
    offered,
    events: published.size,
    completed: lags.length,
    spanMs,
    eventsPerSecond: (lags.length / spanMs) * 1000,
    drainPerSecond: ((lags.length - 1) / (last - firstDone)) * 1000,
    lags: sort(lags),
    ...(hops.publishToSent.length > 0
      ? {
          hops: {
            publishToSent: sort(hops.publishToSent),
            sentToReceived: sort(hops.sentToReceived),
            receivedToDeleted: sort(hops.receivedToDeleted),
          },
        }
      : {}),
  };
}

/** Starts and stops one consumer (between phases, for the backlog). */
interface Consumer {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs the offered loads against one consumer; `seen` fills as the consumer completes events. */
async function runLoads(
  name: string,
  topic: string,
  seen: ReadonlyMap<string, Seen>,
  consumer: Consumer,
  firstIndex: number,
  maxRate?: number,
): Promise<{ phases: Phase[]; burstRate: number }> {
  await consumer.start();
  const phases: Phase[] = [];
  let index = firstIndex;
  // Warm-up: connections, LocalStack's first receives.
  const warm = await publish(topic, index, 50, 'burst');
  index += 50;
  await waitFor(warm.keys(), seen);
  for (const rate of loads) {
    const p = await publish(topic, index, Math.round(rate * seconds), rate);
    index += p.size;
    await waitFor(p.keys(), seen);
    phases.push(phaseOf(name, rate, p, seen));
  }
  // The backlog: published with the consumer stopped, then drained.
  await consumer.stop();
  const b = await publish(topic, index, burst, 'burst');
  index += b.size;
  await consumer.start();
  await waitFor(b.keys(), seen);
  const burstPhase = phaseOf(name, 'burst', b, seen);
  phases.push(burstPhase);
  const sustained = Math.round(maxRate ?? burstPhase.drainPerSecond * maxShare);
  const m = await publish(topic, index, Math.round(sustained * seconds), sustained);
  await waitFor(m.keys(), seen);
  phases.push(phaseOf(name, sustained, m, seen));
  await consumer.stop();
  return { phases, burstRate: burstPhase.drainPerSecond };
}

const q = (xs: readonly number[], p: number) =>
  xs.length === 0 ? 'n/a' : String(Math.round(percentile(xs, p)));
const pp = (xs: readonly number[]) => `${q(xs, 50)} / ${q(xs, 99)}`;

const m = machine();
log(`End-to-end lag against LocalStack's own limit (issue 13) — ${new Date().toISOString()}`);
log(`machine: ${m.cpus} CPUs, ${m.model}; Node ${m.node}; load average ${loadAverage()}`);
log(
  `offered loads ${loads.join(', ')} events/s for ${seconds} s each, a burst of ${burst}, then ${maxShare * 100} % of the raw burst rate`,
);

const messaging = await privateMessaging({ visibilityTimeoutSeconds: 30 });
const redis = await startPrivateRedis();
const namespace = benchNamespace();
let exitCode = 0;
try {
  const topic = messaging.topics.catalog;
  const queueUrl = messaging.queues.catalog.url;
  log(`private stack ${messaging.stackName}; private redis-server :${redis.port}`);

  // raw -------------------------------------------------------------------------------------
  const rawSeen = new Map<string, Seen>();
  let stopRaw = false;
  let rawLoops$: Promise<void>[] = [];
  const rawLoop = async () => {
    while (!stopRaw) {
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['SentTimestamp'],
        }),
      );
      const receivedAt = Date.now();
      const messages = res.Messages ?? [];
      if (messages.length === 0) continue;
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((x, i) => ({ Id: String(i), ReceiptHandle: x.ReceiptHandle })),
        }),
      );
      const doneAt = Date.now();
      for (const x of messages) {
        const id = (JSON.parse(x.Body ?? '{}') as { eventId?: string }).eventId;
        if (id !== undefined && !rawSeen.has(id))
          rawSeen.set(id, { sentAt: Number(x.Attributes?.SentTimestamp), receivedAt, doneAt });
      }
    }
  };
  log(`raw consumer: ${rawLoops} loops of ReceiveMessage(10, wait 1 s) + DeleteMessageBatch`);
  const raw = await runLoads(
    'raw',
    topic,
    rawSeen,
    {
      start: () => {
        stopRaw = false;
        rawLoops$ = Array.from({ length: rawLoops }, rawLoop);
        return Promise.resolve();
      },
      stop: async () => {
        stopRaw = true;
        await Promise.all(rawLoops$);
      },
    },
    0,
  );

  // fleet -----------------------------------------------------------------------------------
  const fleetSeen = new Map<string, Seen>();
  const subscriber = redis.client.duplicate();
  await subscriber.subscribe(`${namespace}:l1`);
  subscriber.on('message', (_c: string, rawMessage: string) => {
    const b = parseBroadcast(rawMessage);
    if (b?.type !== 'invalidate') return;
    for (const id of b.eventIds) if (!fleetSeen.has(id)) fleetSeen.set(id, { doneAt: b.publishedAtMs });
  });
  let worker: WorkerProcess | undefined;
  // The stages of every worker process the fleet phases ran (one per start).
  const lagReports: LagJson[] = [];
  const fleetConsumer: Consumer = {
    start: async () => {
      worker = await startWorkerProcess({
        messaging,
        namespace,
        redisMode: 'standalone',
        redisAddresses: `127.0.0.1:${redis.port}`,
        env: {
          WORKER_POLLERS_PER_QUEUE: args.pollers,
          WORKER_WAIT_TIME_S: args['wait-s'],
          WORKER_ORIGIN_URL: s.origin.url,
        },
      });
    },
    stop: async () => {
      if (worker === undefined) return;
      const report = await readLagJson(worker.adminPort);
      if (report !== undefined) lagReports.push(report);
      const exit = await worker.stop();
      if (exit.code !== 0) log(`worker exited with ${exit.code ?? exit.signal}`);
      worker = undefined;
      // Its aborted long polls stay open in LocalStack until their wait time ends, and take
      // any message published meanwhile into flight for the visibility timeout (30 s).
      await new Promise((r) => setTimeout(r, (Number(args['wait-s']) + 1) * 1000));
    },
  };
  log(
    `fleet: one worker process, ${args.pollers} pollers per queue, long poll ${args['wait-s']} s, private redis`,
  );
  let fleet: { phases: Phase[]; burstRate: number };
  try {
    const sustainedRaw = raw.phases.at(-1)!.offered as number;
    fleet = await runLoads('fleet', topic, fleetSeen, fleetConsumer, 1_000_000, sustainedRaw);
  } finally {
    await fleetConsumer.stop();
    subscriber.disconnect();
  }

  // report ----------------------------------------------------------------------------------
  log();
  log(`offered     consumer  completed  events/s  ratio   end-to-end p50 / p99 ms   hops p50 / p99 ms`);
  // A backlog's rate is its drain rate; its lag includes the time the events waited for the consumer.
  const rate = (x: Phase) => (x.offered === 'burst' ? x.drainPerSecond : x.eventsPerSecond);
  for (let i = 0; i < raw.phases.length; i++) {
    const r = raw.phases[i]!;
    const f = fleet.phases[i]!;
    const offered = r.offered === 'burst' ? `backlog ${burst}` : `${r.offered}/s`;
    const h = r.hops!;
    log(
      `${offered.padEnd(11)} raw       ${int(r.completed).padStart(9)} ${rate(r).toFixed(1).padStart(9)}         ${pp(r.lags).padStart(14)} (to delete)   publish->sent ${pp(h.publishToSent)}, sent->received ${pp(h.sentToReceived)}, received->deleted ${pp(h.receivedToDeleted)}`,
    );
    const ratio = rate(f) / rate(r);
    log(
      `${''.padEnd(11)} fleet     ${int(f.completed).padStart(9)} ${rate(f).toFixed(1).padStart(9)}  ${ratio.toFixed(2).padStart(5)}  ${pp(f.lags).padStart(14)} (to broadcast)`,
    );
    if (f.completed !== f.events || r.completed !== r.events) exitCode = 1;
    if (ratio < 0.8) exitCode = 1;
  }
  // The worker of the paced phases (the first start): its stages since it started.
  const lagJson = lagReports[0];
  if (lagJson !== undefined) {
    const st = (stage: string) =>
      lagJson.series.find((x) => x.family === 'product' && x.stage === stage)?.total;
    const o2d = st('origin_to_delete');
    const s2d = st('sent_to_delete');
    const r2d = st('receive_to_delete');
    const o2b = st('origin_to_broadcast');
    log();
    log(
      `the worker's own stages over the paced phases before the backlog (product, since its start; n = ${o2d?.count ?? 0}):`,
    );
    for (const [name, x] of [
      ['origin_to_delete', o2d],
      ['sent_to_delete', s2d],
      ['receive_to_delete', r2d],
      ['origin_to_broadcast', o2b],
    ] as const)
      log(`  ${name.padEnd(20)} p50 ${x?.p50 ?? 'n/a'} ms  p99 ${x?.p99 ?? 'n/a'} ms`);
    if (o2d && s2d && r2d && o2b) {
      const share = (a: number, b: number) => `${Math.max(0, a - b).toFixed(1)} ms`;
      log(
        `  hops at p50: publish->sent ${share(o2d.p50, s2d.p50)}, sent->received ${share(s2d.p50, r2d.p50)}, received->delete ${r2d.p50.toFixed(1)} ms, delete->broadcast ${share(o2b.p50, o2d.p50)}`,
      );
      log(
        `  hops at p99: publish->sent ${share(o2d.p99, s2d.p99)}, sent->received ${share(s2d.p99, r2d.p99)}, received->delete ${r2d.p99.toFixed(1)} ms, delete->broadcast ${share(o2b.p99, o2d.p99)}`,
      );
    }
  }
  const dlq = await queueDepth(sqs, messaging.queues.catalog.dlqUrl);
  log(`DLQ depth ${dlq}; load average at end ${loadAverage()}`);
  if (dlq > 0) exitCode = 1;
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  await redis.stop();
  await messaging.teardown().catch((err: unknown) => log(`teardown failed: ${String(err)}`));
  sns.destroy();
  sqs.destroy();
}
process.exitCode = exitCode;

interface LagJson {
  series: { family: string; stage: string; total?: { count: number; p50: number; p99: number } }[];
}

async function readLagJson(port: number): Promise<LagJson | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/lag.json`, {
      headers: adminHeaders(),
      signal: AbortSignal.timeout(2000),
    });
    return res.ok ? ((await res.json()) as LagJson) : undefined;
  } catch {
    return undefined;
  }
}
