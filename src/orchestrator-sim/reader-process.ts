/**
 * One demo Orchestrator task (a child process of main.ts): reads the Zipf mix at its rate
 * through the cache client (or one of the hand-written designs of naive-cache.ts: naive,
 * ttl-l1, local-flight), records hotness, keeps its read trace
 * and serves its admin port:
 *   GET /metrics     Prometheus read-side metrics (cache_read_hits_total, ..., cache_origin_calls_total)
 *   GET /reads.json  the per-process read counters (read-trace.ts)
 *   GET /l1          what L1 holds for one entity, for the consistency auditor (authenticated;
 *                    src/auditor/l1-inspection-route.ts)
 *   GET /healthz
 * SIGTERM stops issuing reads, waits for those in flight, closes the client, exits.
 *
 *   node src/orchestrator-sim/reader-process.ts '<settings JSON>'   (see reader-settings.ts)
 */
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createRedisConnection } from '../adapters/redis/redis-connection.ts';
import { redisAccessTuning } from '../local/local-redis.ts';
import type { RedisConfig } from '../adapters/redis/redis-connection.ts';
import type { InvalidateMessage } from '../adapters/redis/broadcast-message.ts';
import { createCacheClient } from '../client/cache-client.ts';
import { DEFAULT_LAG_WINDOW_MS } from '../client/pipeline-trust.ts';
import type { CacheClient } from '../client/cache-client.ts';
import { createHotnessRecorder } from '../client/hotness-recorder.ts';
import type { HotnessRecorder } from '../client/hotness-recorder.ts';
import { onStopSignal, runMain } from '../cli/run-main.ts';
import { createKeyBuilder } from '../core/key-builder.ts';
import { registerMetricsRoutes } from '../metrics/metrics-routes.ts';
import { PrometheusMetrics } from '../metrics/prometheus-metrics.ts';
import { mulberry32 } from '../origin-sim/deterministic-random.ts';
import { startAdminServer } from '../worker/admin-server.ts';
import { loadAdminToken } from '../admin/admin-token.ts';
import { registerL1InspectionRoute } from '../auditor/l1-inspection-route.ts';
import { createNaiveCache } from './naive-cache.ts';
import { originLoaders } from './origin-loaders.ts';
import { ReadTrace } from './read-trace.ts';
import { ReaderSettingsSchema } from './reader-settings.ts';
import type { ReaderSettings } from './reader-settings.ts';
import { Workload } from './workload.ts';

const TICK_MS = 20;
/** The warm-up read's product: outside any catalog the demo draws from (ranks count up from 0). */
export const WARM_UP_ASIN = 'B999999999';

export async function main(argv: readonly string[]): Promise<number> {
  const parsed = ReaderSettingsSchema.safeParse(JSON.parse(argv[2] ?? '{}'));
  if (!parsed.success) {
    process.stderr.write(`reader: invalid settings: ${parsed.error.message}\n`);
    return 1;
  }
  const s: ReaderSettings = parsed.data;
  const logger = pino({ level: 'warn', base: { component: 'orchestrator-sim', process: s.index } });
  const metrics = new PrometheusMetrics({ defaultLabels: { reader: String(s.index), mode: s.mode } });
  const trace = new ReadTrace({ process: s.index, mode: s.mode, tracePath: s.tracePath });
  const keys = createKeyBuilder({ namespace: s.namespace, locales: s.locales });
  const redisConfig = {
    ...s.redis,
    tuning: { ...redisAccessTuning(s.redisAccess ?? {}), connectionName: `orchestrator-sim-${s.index}` },
  } as RedisConfig;
  // Hotness (and the naive mode's GET/SET) on a connection of their own.
  const side = createRedisConnection(redisConfig);
  const loaders = originLoaders(s.originUrl);
  const l1Log = s.l1EventsPath === undefined ? undefined : createWriteStream(s.l1EventsPath, { flags: 'a' });
  const l1Events =
    l1Log === undefined
      ? undefined
      : {
          invalidated: (m: InvalidateMessage) =>
            void l1Log.write(`${JSON.stringify({ t: Date.now(), seq: m.seq, ids: m.eventIds })}\n`),
          flushed: (reason: string) =>
            void l1Log.write(`${JSON.stringify({ t: Date.now(), flush: reason })}\n`),
        };
  // The mode is the design under test (docs/consistency.md); every mode reads the same workload.
  const client: CacheClient =
    s.mode === 'client'
      ? createCacheClient({
          redis: redisConfig,
          namespace: s.namespace,
          locales: s.locales,
          tenant: s.tenant,
          l1: s.l1Entries > 0 ? { maxEntries: s.l1Entries, maxBytes: 64 * 1024 * 1024 } : false,
          loaders,
          metrics,
          logger,
          ...(l1Events === undefined ? {} : { l1Events }),
          ...(s.canaryIntervalMs === undefined || s.canaryIntervalMs === 0
            ? {}
            : {
                pipelineGuard: {
                  canaryIntervalMs: s.canaryIntervalMs,
                  // A run that judges every family by one window (the drills: 2 s) caps each.
                  ...(s.lagWindowMs === undefined
                    ? {}
                    : {
                        lagWindowMs: Object.fromEntries(
                          Object.entries(DEFAULT_LAG_WINDOW_MS).map(([f, w]) => [
                            f,
                            Math.min(w, s.lagWindowMs!),
                          ]),
                        ),
                      }),
                },
              }),
          ...(s.originBudgetPerS === undefined
            ? {}
            : {
                originBudget: {
                  perSecond: Object.fromEntries(
                    (['product', 'promo', 'reco', 'review'] as const).map((f) => [f, s.originBudgetPerS!]),
                  ),
                  ...(s.budgetProcesses === undefined ? {} : { expectedProcesses: s.budgetProcesses }),
                },
              }),
        })
      : createNaiveCache({
          redis: side.client,
          keys,
          loaders,
          tenant: s.tenant,
          l1MaxEntries: s.l1Entries,
          metrics,
          l2: s.mode !== 'ttl-l1',
          singleFlight: s.mode === 'local-flight' ? 'process' : 'none',
        });
  const hotness: HotnessRecorder | undefined =
    s.hotnessSampleEvery > 0
      ? createHotnessRecorder(side.client, keys, { sampleEvery: s.hotnessSampleEvery })
      : undefined;
  const workload = new Workload({
    skew: s.skew,
    catalogSize: s.catalogSize,
    users: s.users,
    locales: s.locales,
    ...(s.mix === undefined ? {} : { mix: s.mix }),
    ...(s.seed === undefined
      ? {}
      : { random: mulberry32(s.seed + s.index), userRandom: mulberry32(s.seed + s.index + 7_919) }),
  });

  const admin = await startAdminServer({
    port: s.adminPort,
    host: '127.0.0.1',
    token: loadAdminToken(),
    onRefused: (reason, route) => metrics.adminRefused(reason, route),
    readiness: () => ({ ready: true, checks: { mode: s.mode } }),
    register: (app) => {
      registerMetricsRoutes(app, metrics, { instance: `orchestrator-sim-${s.index}` });
      app.get('/reads.json', (_req, reply) =>
        reply.header('cache-control', 'no-store').send(trace.snapshot()),
      );
      registerL1InspectionRoute(app, client, { tenant: s.tenant, locales: s.locales });
    },
  });
  if (s.waitForStart === true) {
    // A run that starts its processes together (the scenarios) measures the reads, not the
    // first use of this process's code paths (module loading, Lua script load, JIT): one read
    // of an entity outside every story's key set, before "ready", not traced.
    await client.get('product', WARM_UP_ASIN, { locale: s.locales[0] ?? 'en-US' }).catch(() => undefined);
  }
  process.send?.({ type: 'ready', index: s.index, adminPort: admin.port });

  let stopping = false;
  let inFlight = 0;
  const idle: (() => void)[] = [];
  async function readOnce(): Promise<void> {
    const r = workload.next();
    const started = performance.now();
    inFlight++;
    try {
      const result = await client.get(r.family, r.id, r.dims);
      trace.record(r.family, r.id, performance.now() - started, result, undefined, r.user);
      if (r.family !== 'reco') hotness?.record({ tenant: s.tenant, family: r.family, id: r.id });
    } catch (err) {
      trace.record(r.family, r.id, performance.now() - started, undefined, err, r.user);
    } finally {
      inFlight--;
      if (inFlight === 0) for (const f of idle.splice(0)) f();
    }
  }

  const stop = async (): Promise<void> => {
    stopping = true;
    if (inFlight > 0) await new Promise<void>((resolve) => idle.push(resolve));
    await admin.app.close();
    await client.close();
    await side.close();
    await trace.close();
    if (l1Log !== undefined) await new Promise<void>((resolve) => l1Log.end(resolve));
  };
  onStopSignal(stop, { exitWhenStopped: true });

  if (s.waitForStart === true)
    await new Promise<void>((resolve) => {
      const onMessage = (m: unknown): void => {
        if ((m as { type?: unknown } | null)?.type !== 'start') return;
        process.off('message', onMessage);
        resolve();
      };
      process.on('message', onMessage);
    });
  // Open-loop pacing: each tick issues the reads due since the start (fractions carried).
  const startedAt = performance.now();
  let issued = 0;
  while (!stopping) {
    const elapsedS = (performance.now() - startedAt) / 1000;
    if (s.durationS > 0 && elapsedS >= s.durationS) break;
    const due = Math.floor(elapsedS * s.rate) - issued;
    for (let i = 0; i < due; i++) {
      issued++;
      if (inFlight >= s.maxInFlight) trace.skipped();
      else void readOnce();
    }
    await sleep(TICK_MS);
  }
  if (!stopping) {
    await stop();
    process.send?.({ type: 'done', index: s.index, reads: trace.snapshot() });
  }
  return 0;
}

if (import.meta.main) runMain(main);
