/**
 * Helpers for the read-side client tests: a random namespace per test, heartbeats on its
 * L1 channel (the fleet's workers publish them on `mc`, not on a test's namespace), the
 * invalidation of one entity exactly as the worker does it (applyInvalidationPlan), and
 * clients configured for short timings.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { applyInvalidationPlan } from '../../../src/adapters/redis/invalidation-effects.ts';
import { startHeartbeats } from '../../../src/adapters/redis/l1-heartbeat.ts';
import type { HeartbeatLoop } from '../../../src/adapters/redis/l1-heartbeat.ts';
import type { RedisClient, RedisConfig } from '../../../src/adapters/redis/redis-connection.ts';
import { createCacheClient } from '../../../src/client/cache-client.ts';
import type { CacheClient, CacheClientOptions } from '../../../src/client/cache-client.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import type { EntityRef, KeyBuilder } from '../../../src/core/key-builder.ts';
import { stack, testPrefix } from '../../support/stack.ts';
import { stackAccess } from '../../support/redis-access.ts';
import { cleanup, sentinelAdmin, sentinelConfig } from '../redis/redis-test-kit.ts';
import { parseWatermark } from '../../../src/adapters/redis/watermark-message.ts';
import { LOAD_TOLERANT_REDIS_TIMEOUT_MS, redisBreakerWatch } from '../../support/load-tolerance.ts';

export const HEARTBEAT_MS = 100;
export const LOCALES = ['en-US', 'ja-JP'] as const;

export function clusterConfig(): RedisConfig {
  return { mode: 'cluster', nodes: stack().redis.cluster, tuning: stackAccess().tuning };
}

/** One test's namespace, key builder and heartbeat loop. */
export interface ClientWorld {
  readonly ns: string;
  readonly keys: KeyBuilder;
  readonly clients: CacheClient[];
  client(overrides?: Partial<CacheClientOptions>): Promise<CacheClient>;
  /** Invalidates one entity as the worker does (deletes, fence bump, sequenced broadcast). */
  invalidate(entity: EntityRef): Promise<void>;
  close(): Promise<void>;
}

export function clientWorld(redis: RedisConfig, admin: RedisClient): ClientWorld {
  const ns = testPrefix('cc');
  const keys = createKeyBuilder({ namespace: ns, locales: LOCALES });
  const heartbeats: HeartbeatLoop = startHeartbeats(admin, keys.l1Channel(), HEARTBEAT_MS);
  const clients: CacheClient[] = [];
  return {
    ns,
    keys,
    clients,
    async client(overrides = {}) {
      const c = createCacheClient({
        redis,
        namespace: ns,
        locales: LOCALES,
        tenant: 'acme',
        loaders: {},
        l1Subscriber: { heartbeatIntervalMs: HEARTBEAT_MS, missedHeartbeats: 5 },
        ...overrides,
      });
      clients.push(c);
      await c.ready();
      return c;
    },
    async invalidate(entity) {
      const effect = keys.entityEffect(entity);
      const result = await applyInvalidationPlan(
        admin,
        {
          decisions: [],
          effects: [effect],
          broadcast: {
            keys: effect.unlink,
            fences: [effect.fence],
            eventIds: ['evt-test'],
            originTimeMs: Date.now(),
          },
          critical: effect.critical,
        },
        { channel: keys.l1Channel(), waitReplicas: 0 },
      );
      if (!result.ok) throw result.error;
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await heartbeats.stop();
    },
  };
}

/** A deferred, to hold a loader until the test lets it go. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * For a describe block on the shared Sentinel group: an admin connection and one client world,
 * opened before its tests and closed (the namespace cleaned up) after them. Read the fields
 * inside the tests, not at collection time.
 */
export function sentinelClientWorld(): { readonly admin: Redis; readonly world: ClientWorld } {
  const config = sentinelConfig();
  const held = {} as { admin: Redis; world: ClientWorld };
  beforeAll(() => {
    held.admin = sentinelAdmin(config);
    held.world = clientWorld(config, held.admin);
  });
  afterAll(async () => {
    await held.world.close();
    await cleanup(held.admin, held.world.ns);
    held.admin.disconnect();
  });
  return held;
}

/**
 * Client options for a test that plays the workers itself (canaries, presences, heartbeats
 * from this process) and tests neither the Redis breaker nor the L1 silence rule: a 2 s Redis
 * deadline and 30 x 100 ms of heartbeat silence, so a stall of this process (a loaded CI
 * machine) opens neither. The breaker's openings and every L1 flush are recorded, to assert
 * (0, and only each client's first subscription).
 */
export function selfPlayedClient(): {
  readonly options: Partial<CacheClientOptions>;
  readonly breaker: ReturnType<typeof redisBreakerWatch>;
  readonly flushes: string[];
} {
  const breaker = redisBreakerWatch();
  const flushes: string[] = [];
  return {
    breaker,
    flushes,
    options: {
      redisTimeoutMs: LOAD_TOLERANT_REDIS_TIMEOUT_MS,
      logger: breaker.logger,
      l1Subscriber: { heartbeatIntervalMs: HEARTBEAT_MS, missedHeartbeats: 30 },
      l1Events: { flushed: (reason) => flushes.push(reason) },
    },
  };
}

/** Matches a canary sent from now on (by its origin time, which the trust rule reads, not its arrival). */
export function freshCanary(): (raw: string) => boolean {
  const since = Date.now();
  return (raw) => (parseWatermark(raw)?.originTimeMs ?? 0) >= since;
}
