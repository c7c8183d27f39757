/**
 * The chaos drills: what each one needs from its world and how it injects its fault. Each
 * `inject` returns the fault's window (drill-summary.ts); the runner (run-drills.ts) does the
 * rest: warm-up, load, drain, the checks. Durations come in two sizes: `full` (the issue's
 * figures, `npm run drill`) and `short` (the CI e2e test, every drill once in a few minutes).
 */
import type { SentinelProfile } from '../local/private-sentinel-group.ts';
import { adminHeaders } from '../admin/admin-token.ts';
import { createKeyBuilder, DEFAULT_LOCALES } from '../core/key-builder.ts';
import { createRedisConnection } from '../adapters/redis/redis-connection.ts';
import { createCacheClient, type CacheClient } from '../client/cache-client.ts';
import { createNaiveCache } from '../orchestrator-sim/naive-cache.ts';
import { originLoaders } from '../orchestrator-sim/origin-loaders.ts';
import type { Design } from '../scenarios/designs.ts';
import { asinOf } from '../orchestrator-sim/workload.ts';
import type { FaultWindow } from './drill-summary.ts';
import type { World } from './drill-world.ts';

export type DrillSize = 'full' | 'short';

export interface DrillContext {
  readonly world: World;
  readonly size: DrillSize;
  readonly profile: SentinelProfile;
  /** The readers' design (drill-designs.ts): ours unless the run compares. */
  readonly design: Design;
  readonly lagWindowMs: number;
  readonly log: (message: string) => void;
}

export interface WorldNeeds {
  /** Workers reach Redis through a fault path. */
  readonly redisFaults?: boolean;
  /** Workers reach LocalStack through a fault path. */
  readonly localstackFaults?: boolean;
  /** Readers without L1 (every read goes to Redis, so an L2 expiry reaches the origin). */
  readonly noL1?: boolean;
  /** Sentinel's down-after (ms), e.g. high enough that a frozen primary is not failed over. */
  readonly downAfterMs?: (size: DrillSize, profile: SentinelProfile) => number | undefined;
}

export interface DrillSpec {
  readonly name: string;
  readonly title: string;
  /** Repetitions of a full run. */
  readonly fullRepeat: number;
  /** Profiles a full run covers (default: the one asked for). */
  readonly profiles?: readonly SentinelProfile[];
  readonly needs?: WorldNeeds;
  /** Load before the fault (ms). */
  readonly warmupMs?: (size: DrillSize) => number;
  /** Whole run length for the soak (ms); other drills end when recovered. */
  readonly soakMs?: (size: DrillSize) => number;
  /**
   * The fault stops or delays invalidation (nothing can delete what the caches hold while it
   * lasts): the auditor's findings inside the fault's window are the fault's own
   * (`auditOwnWindow` in drill-summary.ts). The reads are judged in full all the same.
   */
  readonly delaysInvalidation?: boolean;
  /** Before the warm-up ends (its origin calls are not counted against the budget). */
  prepare?(ctx: DrillContext): Promise<Record<string, unknown>>;
  inject(ctx: DrillContext): Promise<FaultWindow>;
  /** After the drain, before the readers stop: figures of the drill's own (into the fault's notes). */
  afterDrain?(ctx: DrillContext, fault: FaultWindow): Promise<Record<string, unknown>>;
}

/** The top 1,000 ASINs of the readers' Zipf mix (rank 1 hottest). */
const HOT_KEYS: readonly string[] = Array.from({ length: 1_000 }, (_, r) => asinOf(r));
const PREFILL_CONCURRENCY = 40;
/** The demo reader's Redis connection names (src/orchestrator-sim/reader-process.ts). */
const READER_CONNECTION_PREFIX = 'orchestrator-sim-';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const pick = (size: DrillSize, full: number, short: number) => (size === 'full' ? full : short);

/** A peak: a burst of changes on top of the steady rate, then a moment for the workers to take it in. */
async function peak(world: World, n = 60): Promise<void> {
  world.load.burst(n);
  await sleep(150);
}

/** Sum of the readers' `cache_l1_flushes_total` (all reasons), from their /metrics. */
export async function readerL1Flushes(world: World): Promise<number | undefined> {
  let headers: Record<string, string>;
  try {
    headers = adminHeaders();
  } catch {
    headers = {};
  }
  let total = 0;
  for (const port of world.readers.adminPorts) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers,
        signal: AbortSignal.timeout(2_000),
      });
      if (!res.ok) return undefined;
      for (const line of (await res.text()).split('\n'))
        if (line.startsWith('cache_l1_flushes_total')) total += Number(line.split(' ').at(-1)) || 0;
    } catch {
      return undefined;
    }
  }
  return total;
}

export const DRILLS: readonly DrillSpec[] = [
  {
    name: 'worker-sigkill',
    delaysInvalidation: true,
    title: 'worker SIGKILL mid-batch',
    fullRepeat: 20,
    async inject({ world, log }) {
      // A burst first, so the victim holds received, unacknowledged messages when it dies.
      await peak(world);
      const { killedAt, worker } = await world.fleet.kill();
      log(`killed worker ${worker.id} (pid ${worker.proc.pid})`);
      // ECS starts a replacement task; here after 2 s.
      await sleep(2_000);
      await world.fleet.add();
      return { injectedAt: killedAt, healedAt: Date.now(), notes: { killedWorker: worker.id } };
    },
  },
  {
    name: 'primary-kill',
    delaysInvalidation: true,
    title: 'Redis primary killed at peak',
    fullRepeat: 10,
    profiles: ['fast', 'elasticache'],
    // Short: ElastiCache-like detection at its floor, 15 s (full: drawn from 15-30 s).
    needs: {
      downAfterMs: (size, profile) => (profile === 'elasticache' && size === 'short' ? 15_000 : undefined),
    },
    async inject({ world, profile, log }) {
      await peak(world);
      const { killedAt } = await world.group.killPrimary();
      const promotion = await world.group.waitForPromotion();
      const reachableAt =
        profile === 'fast' ? promotion.promotedAt : (await world.group.waitForEndpointSwitch()).switchedAt;
      log(
        `promoted ${promotion.promotedAt - killedAt} ms after the kill; reachable at +${reachableAt - killedAt} ms`,
      );
      return {
        injectedAt: killedAt,
        healedAt: reachableAt,
        reachableAt,
        notes: {
          downAfterMs: world.group.downAfterMs,
          promotedAfterMs: promotion.promotedAt - killedAt,
          reachableAfterMs: reachableAt - killedAt,
        },
      };
    },
  },
  {
    name: 'redis-down',
    delaysInvalidation: true,
    title: 'Redis down 20 s (primary frozen, no failover)',
    fullRepeat: 1,
    needs: { downAfterMs: () => 300_000 },
    async inject({ world, size }) {
      const { frozenAt } = world.group.freezePrimary();
      await sleep(pick(size, 20_000, 5_000));
      world.group.thawPrimary();
      return { injectedAt: frozenAt, healedAt: Date.now() };
    },
  },
  {
    name: 'replica-absent',
    delaysInvalidation: true,
    title: 'replica absent for 2 minutes',
    fullRepeat: 1,
    async inject({ world, size }) {
      const injectedAt = Date.now();
      await world.group.stopReplica();
      await sleep(pick(size, 120_000, 6_000));
      await world.group.startReplica();
      return { injectedAt, healedAt: Date.now() };
    },
  },
  {
    name: 'localstack-down',
    delaysInvalidation: true,
    title: 'LocalStack down 30 s (cut between the workers and LocalStack)',
    fullRepeat: 1,
    needs: { localstackFaults: true },
    async inject({ world, size }) {
      const path = world.localstackPath;
      if (!path) throw new Error('localstack-down needs its fault path');
      const injectedAt = Date.now();
      await path.cut();
      await sleep(pick(size, 30_000, 5_000));
      await path.restore();
      return { injectedAt, healedAt: Date.now() };
    },
  },
  {
    name: 'delayed-queue',
    title: 'delayed invalidation queue (deliveries held 60 s)',
    fullRepeat: 1,
    async inject({ world, size, lagWindowMs }) {
      const delayS = pick(size, 60, 8);
      const injectedAt = Date.now();
      await world.setQueueDelay(delayS);
      await sleep(pick(size, 15_000, 3_000));
      await world.setQueueDelay(0);
      const healedAt = Date.now();
      // Its own window: every message sent while the delay was set is delivered delayS later.
      return {
        injectedAt,
        healedAt,
        // Events published up to one lag window before it are still on their way to SQS, and
        // are held too.
        allowStale: {
          from: injectedAt - lagWindowMs,
          to: healedAt + delayS * 1_000 + lagWindowMs + 2_000,
        },
        notes: { delayS },
      };
    },
  },
  {
    name: 'mass-expiry',
    title: 'mass expiry of the top 1,000 hot keys under read load',
    fullRepeat: 1,
    needs: { noL1: true },
    // The hot set cached first, as the design's readers would: through the cache client
    // (fenced populate) for ours, by the design's own cache-aside (a plain SET) otherwise.
    async prepare({ world, design }) {
      const loaders = originLoaders(world.origin.url);
      const redis = world.group.redisConfig('sentinel');
      let client: CacheClient;
      let closeSide = () => Promise.resolve();
      if (design.reader === 'client') {
        client = createCacheClient({
          redis,
          namespace: world.namespace,
          locales: DEFAULT_LOCALES,
          l1: false,
          loaders,
        });
      } else {
        const side = createRedisConnection(redis);
        closeSide = () => side.close();
        client = createNaiveCache({
          redis: side.client,
          keys: createKeyBuilder({ namespace: world.namespace, locales: DEFAULT_LOCALES }),
          loaders,
          l1MaxEntries: 0,
        });
      }
      const reads = HOT_KEYS.flatMap((id) => DEFAULT_LOCALES.map((locale) => ({ id, locale })));
      let next = 0;
      let failed = 0;
      await Promise.all(
        Array.from({ length: PREFILL_CONCURRENCY }, async () => {
          for (let r = reads[next++]; r !== undefined; r = reads[next++])
            await client.get('product', r.id, { locale: r.locale }).catch(() => void failed++);
        }),
      );
      await client.close();
      await closeSide();
      return { prefilled: reads.length - failed };
    },
    async inject({ world }) {
      const c = world.primaryClient();
      try {
        const keys = createKeyBuilder({ namespace: world.namespace, locales: DEFAULT_LOCALES });
        const hot = HOT_KEYS.flatMap((id) => keys.variantKeys({ family: 'product', tenant: 'default', id }));
        const existed = await c.exists(...hot);
        const injectedAt = Date.now();
        await c.unlink(...hot);
        return { injectedAt, healedAt: injectedAt, notes: { keys: hot.length, cachedBefore: existed } };
      } finally {
        c.disconnect();
      }
    },
    // Origin calls for the hot ASINs since the expiry (the simulator's per-key counters, reset
    // just before it), beside the changes to them that justify a fetch again. Our lease lets
    // one reader per value fetch; the naive design fetches once per reader that misses.
    async afterDrain({ world }, fault) {
      const res = await fetch(`${world.origin.url}/_sim/stats?keys=1`);
      const stats = (await res.json()) as { perKey?: Record<string, number>; perKeyTruncated?: boolean };
      const perAsin = HOT_KEYS.map((asin) => stats.perKey?.[`products:${asin}`] ?? 0);
      const hot = new Set(HOT_KEYS);
      return {
        hotAsinOriginCalls: {
          calls: perAsin.reduce((a, b) => a + b, 0),
          asinsCalled: perAsin.filter((n) => n > 0).length,
          maxPerAsin: Math.max(0, ...perAsin),
          changesToHotAsins: world.load.published.filter(
            (e) => e.family === 'product' && hot.has(e.id) && e.occurredAtMs >= fault.injectedAt,
          ).length,
          countersTruncated: stats.perKeyTruncated === true,
        },
      };
    },
  },
  {
    name: 'bus-drop',
    title: "bus drop (the L1 subscribers' connections killed while broadcasts go out)",
    fullRepeat: 1,
    async inject({ world, size, design }) {
      // Only our client's L1 subscribes and flushes; the naive L1 lives its TTL (no subscriber).
      const flushing = design.reader === 'client';
      const before = flushing ? await readerL1Flushes(world) : undefined;
      const c = world.primaryClient();
      const injectedAt = Date.now();
      let killed = 0;
      // Who held the connections killed, by connection name: the readers' (orchestrator-sim-N:
      // our client's L1 subscriber and fill notices; a naive reader has none), the drill's
      // own apply tap, the workers'.
      const byName: Record<string, number> = {};
      try {
        const until = injectedAt + pick(size, 15_000, 4_000);
        while (Date.now() < until) {
          for (const line of String(await c.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\n')) {
            if (!line.includes('id=')) continue;
            const name = /\bname=(\S*)/.exec(line)?.[1] || '(unnamed)';
            byName[name] = (byName[name] ?? 0) + 1;
          }
          killed += Number(await c.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
          await sleep(1_000);
        }
      } finally {
        c.disconnect();
      }
      const after = flushing ? await readerL1Flushes(world) : undefined;
      return {
        injectedAt,
        healedAt: Date.now(),
        notes: {
          subscriberConnectionsKilled: killed,
          readerSubscriberConnectionsKilled: Object.entries(byName)
            .filter(([n]) => n.startsWith(READER_CONNECTION_PREFIX))
            .reduce((a, [, k]) => a + k, 0),
          subscriberConnectionsByName: byName,
          l1Flushes: flushing
            ? before === undefined || after === undefined
              ? null
              : after - before
            : `n/a (${design.name}: no L1 subscriber, a TTL-only L1 that nothing flushes)`,
        },
      };
    },
  },
  {
    name: 'slow-redis',
    delaysInvalidation: true,
    title: 'slow Redis (latency 25 +/- 25 ms and loss bursts between the workers and Redis)',
    fullRepeat: 1,
    needs: { redisFaults: true },
    async inject({ world, size }) {
      const path = world.redisPath;
      if (!path) throw new Error('slow-redis needs its fault path');
      const injectedAt = Date.now();
      await path.slow({ latencyMs: 25, jitterMs: 25 });
      const until = injectedAt + pick(size, 30_000, 5_000);
      // Loss: TCP retransmits what is lost, so a burst of loss is a stall; 400 ms every 3 s.
      while (Date.now() < until) {
        await sleep(2_600);
        await path.stall();
        await sleep(400);
        await path.unstall();
      }
      await path.clear();
      return { injectedAt, healedAt: Date.now() };
    },
  },
  {
    name: 'split',
    title: 'split (workers cut off from Redis, readers still reach it)',
    fullRepeat: 1,
    needs: { redisFaults: true },
    async inject({ world, size, lagWindowMs }) {
      const path = world.redisPath;
      if (!path) throw new Error('split needs its fault path');
      const injectedAt = Date.now();
      await path.cut();
      await sleep(pick(size, 20_000, 5_000));
      await path.restore();
      const healedAt = Date.now();
      // Readers serve what L2 holds while nobody can invalidate it: the split's own window.
      return { injectedAt, healedAt, allowStale: { from: injectedAt, to: healedAt + lagWindowMs + 2_000 } };
    },
  },
  {
    name: 'soak',
    title: 'soak at the highest sustained rate',
    fullRepeat: 1,
    soakMs: (size) => pick(size, 30 * 60_000, 12_000),
    async inject() {
      const now = Date.now();
      return Promise.resolve({ injectedAt: now, healedAt: now });
    },
  },
];

export function drillByName(name: string): DrillSpec | undefined {
  return DRILLS.find((d) => d.name === name);
}
