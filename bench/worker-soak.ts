/**
 * Worker memory soak (issue 15, "soak"): one real worker process at a steady event rate for
 * several minutes, its memory sampled, heap snapshots taken on demand.
 *
 *   node bench/worker-soak.ts [--rate 50] [--minutes 5] [--warmup-s 60] [--snapshots 60,end]
 *
 * Everything is private: a messaging topology deployed to LocalStack under a random prefix
 * (test/support/private-messaging.ts) and a replication group of its own (primary, replica,
 * three Sentinels: test/support/private-sentinel-group.ts, profile fast), so the worker runs
 * as in the stack (Sentinel mode, WAIT for critical deletes, held acks, the replay ring) and
 * touches nobody else's queues or keys. The worker is `src/cli/worker.ts` (via
 * test/support/worker-process.ts) with bench/worker/memory-probe.ts preloaded, which prints
 * `process.memoryUsage()` every 5 s; RSS is also read from /proc/<pid>/status.
 *
 * Events: a mix per second of catalog.product.updated (distinct ASINs), promotion.changed
 * (critical: WAIT, held acks) and session.started, published with PublishBatch to the three
 * topics. `--snapshots` lists the seconds (or `end`) at which the worker gets SIGUSR2 and
 * writes a heap snapshot (`--heapsnapshot-signal`) into test-results/soak/; read one with
 * `node bench/worker/heap-summary.ts <file> [<earlier file>]`.
 *
 * Verdict: RSS after warm-up under --max-rss-mib (default 307 = 60 % of the task's 512 MiB),
 * and flat: the least-squares slope of RSS over the samples after warm-up under
 * --max-slope-mib-min (default 1 MiB/min). Exit 1 when either fails or events went missing.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { PublishBatchCommand } from '@aws-sdk/client-sns';
import { Redis } from 'ioredis';
import { parseBroadcast } from '../src/adapters/redis/broadcast-message.ts';
import { queueDepth, snsClient, sqsClient } from '../test/support/aws.ts';
import { makeEvent } from '../test/support/events.ts';
import { privateMessaging, type PrivateMessaging } from '../test/support/private-messaging.ts';
import {
  startPrivateSentinelGroup,
  type PrivateSentinelGroup,
} from '../test/support/private-sentinel-group.ts';
import { stack } from '../test/support/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../test/support/worker-process.ts';
import { benchNamespace } from './worker/bench-keys.ts';
import { asinFor } from './worker/product-events.ts';
import { int, loadAverage, machine } from './worker/stats.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    minutes: { type: 'string', default: '5' },
    'warmup-s': { type: 'string', default: '60' },
    snapshots: { type: 'string', default: '' },
    'sample-s': { type: 'string', default: '5' },
    'max-rss-mib': { type: 'string', default: '307' },
    'max-slope-mib-min': { type: 'string', default: '1' },
    pollers: { type: 'string', default: '2' },
    /** Shares of the mix: product,promotion,session. */
    mix: { type: 'string', default: '70,15,15' },
    /** Extra Node options for the worker (e.g. a heap limit), appended to NODE_OPTIONS. */
    'node-options': { type: 'string', default: '' },
  },
});
const rate = Number(args.rate);
const durationMs = Number(args.minutes) * 60_000;
const warmupMs = Number(args['warmup-s']) * 1000;
const sampleMs = Number(args['sample-s']) * 1000;
const maxRssMib = Number(args['max-rss-mib']);
const maxSlope = Number(args['max-slope-mib-min']);
const mix = args.mix.split(',').map(Number);
const snapshotAt = args.snapshots
  .split(',')
  .filter((s) => s !== '')
  .map((s) => (s === 'end' ? Number.POSITIVE_INFINITY : Number(s) * 1000));
if (![rate, durationMs, warmupMs, sampleMs, maxRssMib, maxSlope].every((n) => Number.isFinite(n) && n >= 0))
  throw new RangeError('every numeric flag must be a non-negative number');
if (mix.length !== 3 || mix.some((n) => !(n >= 0)))
  throw new RangeError('--mix is product,promotion,session');

const MiB = 1024 * 1024;
const OUT_DIR = fileURLToPath(new URL('../test-results/soak/', import.meta.url));
const PROBE = fileURLToPath(new URL('./worker/memory-probe.ts', import.meta.url));
const log = (line = '') => console.log(line);

interface Sample {
  readonly tMs: number;
  readonly rssMib: number;
  readonly heapUsedMib: number;
  readonly heapTotalMib: number;
  readonly externalMib: number;
  readonly arrayBuffersMib: number;
}

/** VmRSS of a process from /proc, MiB. */
function procRssMib(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** Least-squares slope of y over x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return num / den;
}

const m = machine();
log(`Worker memory soak — ${new Date().toISOString()}`);
log(`machine: ${m.cpus} CPUs, ${m.model}; Node ${m.node}; load average ${loadAverage()}`);
log(
  `offered ${rate} events/s (product/promotion/session ${mix.join('/')}) for ${args.minutes} min; warm-up ${args['warmup-s']} s`,
);

const s = stack();
const namespace = benchNamespace();
const sns = snsClient();
const sqs = sqsClient();
let messaging: PrivateMessaging | undefined;
let group: PrivateSentinelGroup | undefined;
let worker: WorkerProcess | undefined;
let subscriber: Redis | undefined;
let exitCode = 0;
try {
  mkdirSync(OUT_DIR, { recursive: true });
  [messaging, group] = await Promise.all([
    privateMessaging({ visibilityTimeoutSeconds: 30 }),
    startPrivateSentinelGroup({ profile: 'fast' }),
  ]);
  const primary = group.primary();
  subscriber = new Redis({ ...group.access.node, host: primary.host, port: primary.port });
  const applied = new Set<string>();
  await subscriber.subscribe(`${namespace}:l1`);
  subscriber.on('message', (_c: string, raw: string) => {
    const b = parseBroadcast(raw);
    if (b?.type === 'invalidate') for (const id of b.eventIds) applied.add(id);
  });
  worker = await startWorkerProcess({
    messaging,
    namespace,
    redisMode: 'sentinel',
    redisAddresses: group.sentinels.map((h) => `${h.host}:${h.port}`).join(','),
    env: {
      REDIS_SENTINEL_NAME: group.masterName,
      WORKER_POLLERS_PER_QUEUE: args.pollers,
      WORKER_ORIGIN_URL: s.origin.url,
      WORKER_LOG_LEVEL: 'info',
      NODE_OPTIONS: `--import=${PROBE} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${OUT_DIR} ${args['node-options']}`,
      MEMORY_PROBE_MS: String(sampleMs),
    },
  });
  const pid = worker.proc.pid!;
  log(`private stack ${messaging.stackName}, group ${group.masterName}, worker pid ${pid}`);
  log();

  const topics = messaging.topics;
  const published = new Set<string>();
  const started = Date.now();
  let sent = 0;
  let productIndex = 0;
  /** One event of the mix, chosen by its position so the shares hold exactly. */
  const eventAt = (n: number) => {
    const total = mix[0]! + mix[1]! + mix[2]!;
    const r = n % total;
    if (r < mix[0]!)
      return {
        topic: topics.catalog,
        event: makeEvent('catalog.product.updated', { asin: asinFor(productIndex++) }),
      };
    if (r < mix[0]! + mix[1]!)
      return {
        topic: topics.promotions,
        event: makeEvent('promotion.changed', {
          promotionId: `p${n % 40}`,
          storeSections: [`sec-${n % 50}`],
          version: n,
        }),
      };
    return { topic: topics.sessions, event: makeEvent('session.started', { userId: `u${n % 5000}` }) };
  };
  let publishing: Promise<void> = Promise.resolve();
  const publishDue = async () => {
    const due = Math.floor(((Date.now() - started) / 1000) * rate);
    const byTopic = new Map<string, Record<string, unknown>[]>();
    for (; sent < due; sent++) {
      const { topic, event } = eventAt(sent);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), event]);
    }
    await Promise.all(
      [...byTopic].flatMap(([topic, events]) =>
        Array.from({ length: Math.ceil(events.length / 10) }, async (_, c) => {
          const chunk = events.slice(c * 10, c * 10 + 10);
          const res = await sns.send(
            new PublishBatchCommand({
              TopicArn: topic,
              PublishBatchRequestEntries: chunk.map((e, i) => ({
                Id: String(i),
                Message: JSON.stringify(e),
                MessageAttributes: { eventType: { DataType: 'String', StringValue: String(e.type) } },
              })),
            }),
          );
          if ((res.Failed ?? []).length > 0) throw new Error(`publish failed: ${JSON.stringify(res.Failed)}`);
          for (const e of chunk) published.add(String(e.eventId));
        }),
      ),
    );
  };
  const publisher = setInterval(() => {
    publishing = publishing.then(publishDue);
  }, 100);

  const samples: Sample[] = [];
  let latestSpaces: Record<string, number> = {};
  const lastSpaces = () => latestSpaces;
  const pending = [...snapshotAt].sort((a, b) => a - b);
  log(`     t   RSS MiB  heapUsed  heapTotal  external  arrayBuf   published  applied`);
  let lastPrinted = -Infinity;
  while (Date.now() - started < durationMs) {
    await new Promise((r) => setTimeout(r, sampleMs));
    const t = Date.now() - started;
    const probe = worker.logs.findLast((l) => l.msg === 'memory-probe');
    if (probe?.spaces !== undefined) latestSpaces = probe.spaces as Record<string, number>;
    const sample: Sample = {
      tMs: t,
      rssMib: procRssMib(pid),
      heapUsedMib: Number(probe?.heapUsed) / MiB,
      heapTotalMib: Number(probe?.heapTotal) / MiB,
      externalMib: Number(probe?.external) / MiB,
      arrayBuffersMib: Number(probe?.arrayBuffers) / MiB,
    };
    samples.push(sample);
    if (t - lastPrinted >= 30_000) {
      lastPrinted = t;
      log(
        `${(t / 1000).toFixed(0).padStart(6)} ${sample.rssMib.toFixed(1).padStart(9)} ${sample.heapUsedMib.toFixed(1).padStart(9)} ${sample.heapTotalMib.toFixed(1).padStart(10)} ${sample.externalMib.toFixed(1).padStart(9)} ${sample.arrayBuffersMib.toFixed(1).padStart(9)} ${int(published.size).padStart(11)} ${int(applied.size).padStart(8)}`,
      );
    }
    while (pending.length > 0 && pending[0]! <= t) {
      pending.shift();
      worker.proc.kill('SIGUSR2');
      log(`        (heap snapshot requested at ${(t / 1000).toFixed(0)} s)`);
    }
    // Worker logs are kept by worker-process.ts; drop the probe lines so this process stays small.
    for (let i = worker.logs.length - 1; i >= 0; i--)
      if (worker.logs[i]?.msg === 'memory-probe') worker.logs.splice(i, 1);
  }
  clearInterval(publisher);
  await publishing;
  if (pending.length > 0) {
    worker.proc.kill('SIGUSR2');
    log(`        (heap snapshot requested at the end)`);
  }
  // Let the last published events be applied, and a requested snapshot be written.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && [...published].some((id) => !applied.has(id)))
    await new Promise((r) => setTimeout(r, 200));
  const missing = [...published].filter((id) => !applied.has(id)).length;
  // Where the RSS is: anonymous memory (heaps, malloc) against file-backed (code, mapped files).
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1]) / 1024;
  log(
    `RSS at the end: ${kb('Rss').toFixed(1)} MiB = anonymous ${kb('Anonymous').toFixed(1)} + file-backed ${(kb('Rss') - kb('Anonymous')).toFixed(1)}`,
  );

  const after = samples.filter((x) => x.tMs >= warmupMs);
  const rssSlope = slope(after.map((x) => ({ x: x.tMs / 60_000, y: x.rssMib })));
  const heapSlope = slope(after.map((x) => ({ x: x.tMs / 60_000, y: x.heapUsedMib })));
  const maxRss = Math.max(...after.map((x) => x.rssMib));
  const elapsedS = (Date.now() - started) / 1000;
  const spaces = lastSpaces();
  log(
    `V8 spaces at the end (committed MiB): ${Object.entries(spaces)
      .filter(([, b]) => b > 0)
      .map(([n, b]) => `${n.replace('_space', '')} ${(b / MiB).toFixed(1)}`)
      .join(', ')}`,
  );
  log();
  log(
    `published ${int(published.size)} events (${(published.size / elapsedS).toFixed(1)}/s), applied ${int(applied.size)}, missing ${missing}`,
  );
  for (const [name, q] of Object.entries(messaging.queues)) {
    const dlq = await queueDepth(sqs, q.dlqUrl);
    if (dlq > 0) log(`DLQ of ${name}: ${dlq}`);
    if (dlq > 0) exitCode = 1;
  }
  log(
    `after warm-up (${after.length} samples): RSS max ${maxRss.toFixed(1)} MiB (limit ${maxRssMib}), slope ${rssSlope.toFixed(2)} MiB/min (limit ${maxSlope}); heapUsed slope ${heapSlope.toFixed(2)} MiB/min`,
  );
  const verdict = maxRss < maxRssMib && rssSlope < maxSlope && missing === 0;
  log(`verdict: ${verdict ? 'PASS' : 'FAIL'}`);
  if (!verdict) exitCode = 1;
  await new Promise((r) => setTimeout(r, snapshotAt.length > 0 ? 5_000 : 0));
  const snaps = readdirSync(OUT_DIR).filter((f) => f.endsWith('.heapsnapshot') && f.includes(`.${pid}.`));
  for (const f of snaps) log(`heap snapshot: ${join(OUT_DIR, f)}`);
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  const exit = await worker?.stop().catch(() => undefined);
  if (exit !== undefined && exit.code !== 0) log(`worker exited with ${exit.code ?? exit.signal}`);
  subscriber?.disconnect();
  await group?.stop().catch((err: unknown) => log(`group stop failed: ${String(err)}`));
  await messaging?.teardown().catch((err: unknown) => log(`teardown failed: ${String(err)}`));
  sns.destroy();
  sqs.destroy();
}
process.exitCode = exitCode;
