import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { createRedisHotKeySource } from '../../../src/refresh/hot-key-source.ts';
import { createReviewRefresher } from '../../../src/refresh/review-refresher.ts';
import type { ReviewRefresherDeps } from '../../../src/refresh/review-refresher.ts';
import { windowKeys, windowOf } from '../../../src/refresh/refresh-window.ts';
import { acquireRunLock } from '../../../src/refresh/run-lock.ts';
import type { SimHarness } from '../origin-sim/sim-harness.ts';
import { sentinelConfig } from '../redis/redis-test-kit.ts';
import {
  asins,
  cleanup,
  namespace,
  reviewStats,
  seedHotness,
  startRefreshEnv,
  testLogger,
  tickAt,
} from './refresh-harness.ts';

const LOCK = { ttlMs: 1_000, renewEveryMs: 250, waitMs: 300 };

describe('one refresh run per window (run lock)', () => {
  let env: Awaited<ReturnType<typeof startRefreshEnv>>;
  let sim: SimHarness;
  let conn: RedisConnection;
  let other: RedisConnection;
  let ns: string;

  beforeAll(async () => {
    env = await startRefreshEnv(0.01);
    sim = env.sim;
    conn = env.conn;
    other = createRedisConnection(sentinelConfig()); // the second worker's own connection
  });
  afterEach(async () => {
    await cleanup(conn.client, ns);
  });
  afterAll(async () => {
    await Promise.allSettled([env.close(), other.close()]);
  });

  const refresher = (connection: RedisConnection, overrides: Partial<ReviewRefresherDeps> = {}) =>
    createReviewRefresher({
      redis: connection.client,
      keys: createKeyBuilder({ namespace: ns }),
      originBaseUrl: sim.url,
      hotKeys: createRedisHotKeySource(connection.client, ns),
      limits: { concurrency: 16, ratePerSecond: 400 },
      logger: testLogger,
      lock: LOCK,
      ...overrides,
    });

  it('runs once when two workers receive ticks for the same window at the same moment', async () => {
    // Prepare: two distinct tick messages (a duplicate schedule) for the same hour.
    ns = namespace();
    const n = 400; // ~1 s at 400/s: longer than a contender waits for the lock
    await seedHotness(conn.client, ns, asins(n));
    await sim.post('/_sim/reset');
    const scheduledAt = new Date().toISOString();

    // Act
    const results = await Promise.all([
      refresher(conn).handleTick(tickAt(scheduledAt)),
      refresher(other).handleTick(tickAt(scheduledAt)),
    ]);
    const late = await refresher(other).handleTick(tickAt(scheduledAt));

    // Assess: one run, N origin calls (not 2N); a late tick finds the window done.
    expect(results.map((r) => r.status).sort()).toEqual(['completed', 'skipped-duplicate']);
    expect(results.find((r) => r.status === 'completed')).toMatchObject({ total: n, written: n });
    expect((await reviewStats(sim)).calls).toBe(n);
    expect(late.status).toBe('skipped-done');
    expect(await conn.client.exists(windowKeys(ns, 'default', windowOf(scheduledAt)).lock)).toBe(0);
  });

  it('takes over a window whose holder died (its lock expires) and resumes', async () => {
    // Prepare: a dead holder: a lock taken and never renewed nor released.
    ns = namespace();
    await seedHotness(conn.client, ns, asins(50));
    const tick = tickAt();
    const lockKey = windowKeys(ns, 'default', windowOf(tick.scheduledAt)).lock;
    await conn.client.set(lockKey, 'dead-worker', 'PX', 400);

    // Act: the redelivered tick contends for up to one TTL.
    const result = await refresher(conn, { lock: { ...LOCK, waitMs: LOCK.ttlMs } }).handleTick(tick);

    // Assess
    expect(result).toMatchObject({ status: 'completed', total: 50, written: 50 });
  });

  it('lets only the owner renew or release the lock, and reports a lost lock', async () => {
    // Prepare
    ns = namespace();
    const key = `${ns}:{refresh:default:2026-11-22T10Z}:lock`;
    const held = await acquireRunLock(conn.client, key, LOCK);
    expect(held).toBeDefined();
    const contender = await acquireRunLock(other.client, key, { ...LOCK, waitMs: 100 });

    // Act: someone else's token replaces ours (as after an expiry and a takeover).
    await new Promise((r) => setTimeout(r, 600)); // renewals keep it alive past its TTL
    const stillOurs = await conn.client.get(key);
    await conn.client.set(key, 'someone-else', 'PX', 5_000);
    await new Promise((r) => setTimeout(r, 400));

    // Assess
    expect(contender).toBeUndefined();
    expect(stillOurs).toBe(held?.token);
    expect(held?.lost.aborted).toBe(true);
    expect(await held?.release()).toBe(false); // compare-and-delete: not ours, not deleted
    expect(await conn.client.get(key)).toBe('someone-else');
  });

  it('skips a tick older than maxTickAgeMs, without touching Redis state', async () => {
    ns = namespace();
    const old = tickAt(new Date(Date.now() - 3 * 3_600_000).toISOString());
    const result = await refresher(conn).handleTick(old);
    expect(result.status).toBe('skipped-stale');
    expect(await conn.client.exists(windowKeys(ns, 'default', windowOf(old.scheduledAt)).lock)).toBe(0);
  });
});
