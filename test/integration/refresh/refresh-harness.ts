/**
 * Shared set-up of the refresh tests (`useRefreshEnv`): an origin simulator on a random port,
 * a Redis connection (through the Sentinels, so a failover test elsewhere cannot leave us
 * writing to a replica), a random namespace per test cleaned up after it; ASIN lists and
 * hotness seeding.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { Logger } from 'pino';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { RedisClient, RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { RefreshTick } from '../../../src/core/events/review-events.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import type { FetchableFamily } from '../../../src/refresh/cached-value-filter.ts';
import { cleanup, namespace, sentinelConfig } from '../redis/redis-test-kit.ts';
import { startSim } from '../origin-sim/sim-harness.ts';
import type { SimHarness } from '../origin-sim/sim-harness.ts';

/** `count` distinct ASINs, `B` + 9 digits, starting at `from`. */
export function asins(count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => `B${String(from + i).padStart(9, '0')}`);
}

/** Makes `ids` hot, hottest first (one ZADD). */
export async function seedHotness(
  client: RedisClient,
  ns: string,
  ids: readonly string[],
  family: FetchableFamily = 'review',
  tenant = 'default',
): Promise<void> {
  const args = ids.flatMap((id, i) => [ids.length - i, id]);
  await client.zadd(createKeyBuilder({ namespace: ns }).hotKeysKey(tenant, family), ...args);
}

/** A refresh tick for the hour of `scheduledAt` (default: the current hour). */
export function tickAt(scheduledAt: string = new Date().toISOString(), tenant = 'default'): RefreshTick {
  return {
    type: 'refresh.tick',
    schemaVersion: 1,
    eventId: randomUUID(),
    occurredAt: scheduledAt,
    scheduledAt,
    version: 1,
    tenant,
  };
}

/** Per-key origin calls of the reviews endpoint, by ASIN. */
export async function reviewCalls(sim: SimHarness): Promise<Map<string, number>> {
  const { body } = await sim.get('/_sim/stats?keys=1');
  const perKey = (body as { perKey: Record<string, number> }).perKey;
  const calls = new Map<string, number>();
  for (const [k, n] of Object.entries(perKey)) if (k.startsWith('reviews:')) calls.set(k.slice(8), n);
  return calls;
}

/** Origin stats of the reviews endpoint. */
export async function reviewStats(sim: SimHarness): Promise<{ calls: number; maxPerSecond: number }> {
  const { body } = await sim.get('/_sim/stats');
  const stats = body as { calls: { reviews: number }; maxPerSecond: { reviews: number } };
  return { calls: stats.calls.reviews, maxPerSecond: stats.maxPerSecond.reviews };
}

/** A quiet logger (set LOG_LEVEL=info to watch a run). */
export const testLogger: Logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

/** What a refresh test works with; read inside hooks and tests only. */
export interface RefreshEnv {
  /** The origin simulator (random port). */
  readonly sim: SimHarness;
  /** Redis through the Sentinels. */
  readonly conn: RedisConnection;
  /** This test's namespace: fresh for each test, its keys deleted after it. */
  readonly ns: string;
}

export interface RefreshEnvOptions {
  /** The simulator's latency scale. Default 0.01. */
  readonly latencyScale?: number;
  /** Runs after each test, after its keys are deleted (e.g. reset the simulator's config). */
  readonly afterEach?: (env: RefreshEnv) => Promise<unknown>;
}

/**
 * The set-up every refresh test file shares, registered as vitest hooks of the calling
 * `describe`: a simulator and a Redis connection for the file, a namespace per test whose
 * keys are deleted after it, everything closed at the end.
 */
export function useRefreshEnv(options: RefreshEnvOptions = {}): RefreshEnv {
  let sim: SimHarness | undefined;
  let conn: RedisConnection | undefined;
  let ns: string | undefined;
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the refresh env's ${what} is read outside a test`);
    return value;
  };
  const env: RefreshEnv = {
    get sim() {
      return need(sim, 'simulator');
    },
    get conn() {
      return need(conn, 'connection');
    },
    get ns() {
      return need(ns, 'namespace');
    },
  };
  beforeAll(async () => {
    sim = await startSim({ config: { latencyScale: options.latencyScale ?? 0.01 } });
    conn = createRedisConnection(sentinelConfig());
  });
  beforeEach(() => {
    ns = namespace();
  });
  afterEach(async () => {
    if (conn !== undefined && ns !== undefined) await cleanup(conn.client, ns);
    ns = undefined;
    await options.afterEach?.(env);
  });
  afterAll(async () => {
    await Promise.allSettled([sim?.sim.close(), conn?.close()]);
  });
  return env;
}
