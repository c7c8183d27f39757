/**
 * Worker throughput benchmark (issue 3, "Done when"): `npm run bench:worker`.
 *
 *   node bench/worker-throughput.ts [--events 20000] [--rounds 3] [--loops 8] [--skip-e2e] ...
 *
 * Prints, from one run on this machine:
 *   (a) events/s through the batch pipeline (parse, plan, Redis effects, ack decision),
 *       messages fed in memory, against the local Redis primary (standalone, no WAIT);
 *   (b) a naive baseline: one message at a time, one awaited round trip per command;
 *   (c) redis-benchmark's pipelined rate for the same commands per event (the machine's limit);
 *   (d) end to end through SNS and SQS in LocalStack: events/s and lag p50/p99;
 * then (a)/(b) (target >= 20) and (a)/(c) (target >= 0.5). Every key lives under a private
 * namespace that is deleted at the end; the private messaging stack is torn down.
 * Method and numbers: docs/benchmarks.md.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createRedisConnection } from '../src/adapters/redis/redis-connection.ts';
import { stack } from '../test/support/stack.ts';
import {
  benchKeys,
  benchNamespace,
  BENCH_LOCALES,
  deleteByPrefix,
  populateProducts,
  survivingProducts,
} from './worker/bench-keys.ts';
import { runEndToEnd, type EndToEndRun } from './worker/end-to-end.ts';
import { runNaive } from './worker/naive-baseline.ts';
import { benchBatchHandler, runPipeline, type PipelineRun } from './worker/pipeline-bench.ts';
import { breakdown } from './worker/pipeline-breakdown.ts';
import { messageBatches, type BodyShape } from './worker/product-events.ts';
import { commandCeiling, scriptCeiling, type Ceiling } from './worker/redis-ceiling.ts';
import { int, loadAverage, machine, median } from './worker/stats.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '40000' },
    loops: { type: 'string', default: '8' },
    batch: { type: 'string', default: '10' },
    'naive-events': { type: 'string', default: '5000' },
    'rb-requests': { type: 'string', default: '200000' },
    'rb-clients': { type: 'string', default: '50' },
    'e2e-events': { type: 'string', default: '2000' },
    'e2e-warmup': { type: 'string', default: '100' },
    'e2e-publishers': { type: 'string', default: '4' },
    'e2e-pollers': { type: 'string', default: '2' },
    'e2e-paced-events': { type: 'string', default: '200' },
    'e2e-paced-rate': { type: 'string', default: '50' },
    'skip-e2e': { type: 'boolean', default: false },
    /** Only (a), for `node --cpu-prof`. */
    'pipeline-only': { type: 'boolean', default: false },
  },
});
const positive = (name: keyof typeof args): number => {
  const n = Number(args[name]);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer`);
  return n;
};
const o = {
  events: positive('events'),
  rounds: positive('rounds'),
  warmup: positive('warmup'),
  loops: positive('loops'),
  batch: Math.min(10, positive('batch')),
  naive: positive('naive-events'),
  rbRequests: positive('rb-requests'),
  rbClients: positive('rb-clients'),
  e2eEvents: positive('e2e-events'),
  e2eWarmup: positive('e2e-warmup'),
  e2ePublishers: positive('e2e-publishers'),
  e2ePollers: positive('e2e-pollers'),
  e2ePacedEvents: positive('e2e-paced-events'),
  e2ePacedRate: positive('e2e-paced-rate'),
};

const log = (line = '') => console.log(line);
const s = stack();
const primary = s.redis.primary;
const namespace = benchNamespace();
const keys = benchKeys(namespace);
const redis = new Redis({ host: primary.host, port: primary.port });
const connection = createRedisConnection({ mode: 'standalone', host: primary.host, port: primary.port });

const m = machine();
const redisVersion = /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? '?';
const startedAt = Date.now();
const loadAtStart = loadAverage();
log(`Worker throughput bench (issue 3) — ${new Date(startedAt).toISOString()}`);
log(
  `machine: ${m.cpus} CPUs, ${m.model}; Node ${m.node}; Redis ${redisVersion} at ${primary.host}:${primary.port}`,
);
log(`load average at start: ${loadAtStart}`);
log(`namespace: ${namespace} (every key deleted at the end); locales ${BENCH_LOCALES.join(', ')}`);
log();

/** Thrown to stop after (a) with --pipeline-only (cleanup still runs). */
class PipelineOnly extends Error {}

let indexes = 0;
/** A fresh range of ASIN indexes whose variants exist in Redis, and their SQS batches. */
async function freshBatches(count: number, shape: BodyShape, batchSize = o.batch) {
  const from = indexes;
  indexes += count;
  await populateProducts(redis, keys, from, count);
  return { from, batches: messageBatches(from, count, batchSize, shape) };
}

let exitCode = 0;
try {
  // (a) ------------------------------------------------------------------------------------
  log(`(a) batch pipeline: createBatchHandler (parse, plan, one Redis round trip, ack decision)`);
  log(
    `    ${o.loops} concurrent batch loops, batches of ${o.batch}, one catalog.product.updated per message,`,
  );
  log(
    `    ${BENCH_LOCALES.length} variants + 1 fence per product, 1 broadcast per batch, standalone primary, no WAIT`,
  );
  const counters = { retried: 0 };
  const handle = benchBatchHandler(connection.client, keys, counters);
  const warm = await freshBatches(o.warmup, 'raw');
  await runPipeline(handle, warm.batches, o.loops, counters);
  const runs: PipelineRun[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const { from, batches } = await freshBatches(o.events, 'raw');
    const run = await runPipeline(handle, batches, o.loops, counters);
    const surviving = await survivingProducts(redis, keys, from, o.events);
    if (run.acked !== run.events || run.retried > 0 || surviving > 0) {
      throw new Error(
        `round ${r + 1}: acked ${run.acked}/${run.events}, retried ${run.retried}, ${surviving} keys left`,
      );
    }
    runs.push(run);
    log(
      `    round ${r + 1}: ${int(run.events)} raw-body events in ${run.elapsedMs.toFixed(0)} ms = ${int(run.eventsPerSecond)} events/s (all acked, every variant gone)`,
    );
  }
  const sns = await freshBatches(o.events, 'sns');
  const snsRun = await runPipeline(handle, sns.batches, o.loops, counters);
  log(`    SNS-envelope bodies (one round, for comparison): ${int(snsRun.eventsPerSecond)} events/s`);
  const a = median(runs.map((r) => r.eventsPerSecond));
  log(
    `    => (a) ${int(a)} events/s (median of ${o.rounds} rounds of ${int(o.events)} after ${int(o.warmup)} warm-up)`,
  );
  if (args['pipeline-only']) throw new PipelineOnly();
  const split = await freshBatches(o.events, 'raw');
  const parts = await breakdown(connection.client, keys, split.batches, o.loops);
  log(
    `    split: planBatch alone ${parts.planUsPerEvent.toFixed(1)} µs CPU per event (${int(1e6 / parts.planUsPerEvent)} events/s on one core);`,
  );
  log(
    `           Redis effects alone (plans pre-built, ${o.loops} loops) ${int(parts.effectsEventsPerSecond)} events/s`,
  );
  log();

  // (b) ------------------------------------------------------------------------------------
  log(`(b) naive baseline: one message at a time; JSON.parse + minimal validation, then`);
  log(`    UNLINK key1, UNLINK key2, INCR fence, INCR seq, PUBLISH, each awaited (5 round trips per event)`);
  const naive = await freshBatches(o.naive, 'raw', 1);
  const naiveRun = await runNaive(redis, keys, naive.batches.flat());
  const naiveLeft = await survivingProducts(redis, keys, naive.from, o.naive);
  if (naiveRun.acked !== o.naive || naiveLeft > 0)
    throw new Error(`naive: ${naiveRun.acked} handled, ${naiveLeft} keys left`);
  const b = naiveRun.eventsPerSecond;
  log(`    ${int(o.naive)} events in ${naiveRun.elapsedMs.toFixed(0)} ms`);
  log(`    => (b) ${int(b)} events/s`);
  log();

  // (c) ------------------------------------------------------------------------------------
  const ceilingOptions = {
    host: primary.host,
    port: primary.port,
    requests: o.rbRequests,
    pipeline: 10,
    clients: o.rbClients,
    namespace,
  };
  log(
    `(c) redis-benchmark, pipelined: -n ${o.rbRequests} -c ${o.rbClients} -P 10 -r 100000, one run per command`,
  );
  log(`    events/s at the limit = 1 / sum over the commands of one event of (count / rate)`);
  const printCeiling = (c: Ceiling) => {
    for (const r of c.rates)
      log(`    ${int(r.rps).padStart(9)} req/s  x${+r.perEvent.toFixed(2)} per event  ${r.command}`);
  };
  const ceiling = await commandCeiling(ceilingOptions);
  printCeiling(ceiling);
  const c = ceiling.eventsPerSecond;
  log(`    => (c) ${int(c)} events/s for UNLINK, UNLINK, INCR, INCR, PUBLISH per event`);
  const scripts = await scriptCeiling(redis, ceilingOptions, o.batch);
  printCeiling(scripts);
  log(`    context: the pipeline's own batch script at its limit: ${int(scripts.eventsPerSecond)} events/s`);
  log();

  // (d) ------------------------------------------------------------------------------------
  let d: EndToEndRun | undefined;
  if (args['skip-e2e']) log(`(d) skipped (--skip-e2e)`);
  else {
    log(
      `(d) end to end: SNS PublishBatch (${o.e2ePublishers} concurrent publishers) -> SQS (LocalStack) -> one worker`,
    );
    log(
      `    process (sentinel mode, ${o.e2ePollers} pollers per queue) -> Redis; lag = L1 broadcast publishedAtMs - occurredAt`,
    );
    d = await runEndToEnd(
      {
        namespace,
        events: o.e2eEvents,
        warmupEvents: o.e2eWarmup,
        publishers: o.e2ePublishers,
        pollersPerQueue: o.e2ePollers,
        pacedEvents: o.e2ePacedEvents,
        pacedPerSecond: o.e2ePacedRate,
        timeoutMs: 60_000,
        firstIndex: indexes,
      },
      log,
    );
    log(
      `    ${int(d.events)} events published in ${d.publishMs} ms (after ${o.e2eWarmup} warm-up), ${int(d.seen)} seen applied`,
    );
    log(
      `    in ${d.broadcasts} broadcasts (${(d.seen / Math.max(1, d.broadcasts)).toFixed(1)} events per batch); last delete ${d.spanMs} ms after first publish`,
    );
    log(`    worker's own /lag.json after the burst (includes warm-up): ${d.workerLagJson}`);
    log(
      `    => (d) ${int(d.eventsPerSecond)} events/s end to end; lag under that burst p50 ${d.lagP50Ms} ms, p99 ${d.lagP99Ms} ms, max ${d.lagMaxMs} ms`,
    );
    const p = d.paced;
    log(
      `    paced: ${p.events} events one by one at ${p.perSecond}/s (${p.seen} seen applied): lag p50 ${p.lagP50Ms} ms, p99 ${p.lagP99Ms} ms, max ${p.lagMaxMs} ms`,
    );
    log(`    ${d.survivingKeys} value keys left, DLQ depth ${d.dlqDepth}`);
    if (d.seen !== d.events || p.seen !== p.events || d.survivingKeys > 0 || d.dlqDepth > 0) exitCode = 1;
  }
  log();

  // Summary --------------------------------------------------------------------------------
  const ab = a / b;
  const ac = a / c;
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  log(`summary`);
  log(`  (a) pipeline            ${int(a).padStart(9)} events/s`);
  log(`  (b) naive baseline      ${int(b).padStart(9)} events/s`);
  log(`  (c) redis-benchmark     ${int(c).padStart(9)} events/s (machine's limit for the same commands)`);
  if (d) {
    log(
      `  (d) end to end          ${int(d.eventsPerSecond).padStart(9)} events/s, lag p50 ${d.lagP50Ms} ms, p99 ${d.lagP99Ms} ms (burst)`,
    );
    log(
      `                          paced ${d.paced.perSecond}/s: lag p50 ${d.paced.lagP50Ms} ms, p99 ${d.paced.lagP99Ms} ms`,
    );
  }
  log(`  (a)/(b) = ${ab.toFixed(1)}  (target >= 20)   ${verdict(ab >= 20)}`);
  log(`  (a)/(c) = ${ac.toFixed(3)}  (target >= 0.5)  ${verdict(ac >= 0.5)}`);
  log(`  load average at end: ${loadAverage()}; took ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  if (ab < 20 || ac < 0.5) exitCode = 1;
} catch (err) {
  if (!(err instanceof PipelineOnly)) {
    console.error(err);
    exitCode = 1;
  }
} finally {
  const removed = await deleteByPrefix(redis, `${namespace}:`);
  log(`cleanup: ${removed} keys under ${namespace}: deleted`);
  await connection.close();
  redis.disconnect();
}
process.exitCode = exitCode;
