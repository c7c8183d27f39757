import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { createRedisHotKeySource } from '../../../src/adapters/redis/hot-key-ranking.ts';
import { createReviewRefresher } from '../../../src/refresh/review-refresher.ts';
import type { ReviewRefresherDeps } from '../../../src/refresh/review-refresher.ts';
import { windowOf } from '../../../src/refresh/refresh-window.ts';
import { acquireRunLock } from '../../../src/adapters/redis/refresh-run-lock.ts';
import { sentinelConfig } from '../redis/redis-test-kit.ts';
import { asins, reviewStats, seedHotness, useRefreshEnv, testLogger, tickAt } from './refresh-harness.ts';

const LOCK = { ttlMs: 1_000, renewEveryMs: 250, waitMs: 300 };

describe('one refresh run per window (run lock)', () => {
  let other: RedisConnection;

  const env = useRefreshEnv();
  beforeAll(() => {
    other = createRedisConnection(sentinelConfig()); // the second worker's own connection
  });
  afterAll(async () => {
    await other.close();
  });

  const refresher = (connection: RedisConnection, overrides: Partial<ReviewRefresherDeps> = {}) =>
    createReviewRefresher({
      redis: connection.client,
      keys: createKeyBuilder({ namespace: env.ns }),
      originBaseUrl: env.sim.url,
      hotKeys: createRedisHotKeySource(connection.client, createKeyBuilder({ namespace: env.ns })),
      limits: { concurrency: 16, ratePerSecond: 400 },
      logger: testLogger,
      lock: LOCK,
      ...overrides,
    });

  it('runs once when two workers receive ticks for the same window at the same moment', async () => {
    // Prepare: two distinct tick messages (a duplicate schedule) for the same hour.
    const n = 400; // ~1 s at 400/s: longer than a contender waits for the lock
    await seedHotness(env.conn.client, env.ns, asins(n));
    await env.sim.post('/_sim/reset');
    const scheduledAt = new Date().toISOString();

    // Act
    const results = await Promise.all([
      refresher(env.conn).handleTick(tickAt(scheduledAt)),
      refresher(other).handleTick(tickAt(scheduledAt)),
    ]);
    const late = await refresher(other).handleTick(tickAt(scheduledAt));

    // Assess: one run, N origin calls (not 2N); a late tick finds the window done.
    expect(results.map((r) => r.status).sort()).toEqual(['completed', 'skipped-duplicate']);
    expect(results.find((r) => r.status === 'completed')).toMatchObject({ total: n, written: n });
    expect((await reviewStats(env.sim)).calls).toBe(n);
    expect(late.status).toBe('skipped-done');
    expect(
      await env.conn.client.exists(
        createKeyBuilder({ namespace: env.ns }).refreshWindowKeys('default', windowOf(scheduledAt)).lock,
      ),
    ).toBe(0);
  });

  it('takes over a window whose holder died (its lock expires) and resumes', async () => {
    // Prepare: a dead holder: a lock taken and never renewed nor released.
    await seedHotness(env.conn.client, env.ns, asins(50));
    const tick = tickAt();
    const lockKey = createKeyBuilder({ namespace: env.ns }).refreshWindowKeys(
      'default',
      windowOf(tick.scheduledAt),
    ).lock;
    await env.conn.client.set(lockKey, 'dead-worker', 'PX', 400);

    // Act: the redelivered tick contends for up to one TTL.
    const result = await refresher(env.conn, { lock: { ...LOCK, waitMs: LOCK.ttlMs } }).handleTick(tick);

    // Assess
    expect(result).toMatchObject({ status: 'completed', total: 50, written: 50 });
  });

  it('lets only the owner renew or release the lock, and reports a lost lock', async () => {
    // Prepare
    const key = `${env.ns}:{refresh:default:2026-11-22T10Z}:lock`;
    const held = await acquireRunLock(env.conn.client, key, LOCK);
    expect(held).toBeDefined();
    const contender = await acquireRunLock(other.client, key, { ...LOCK, waitMs: 100 });

    // Act: someone else's token replaces ours (as after an expiry and a takeover).
    await new Promise((r) => setTimeout(r, 600)); // renewals keep it alive past its TTL
    const stillOurs = await env.conn.client.get(key);
    await env.conn.client.set(key, 'someone-else', 'PX', 5_000);
    await new Promise((r) => setTimeout(r, 400));

    // Assess
    expect(contender).toBeUndefined();
    expect(stillOurs).toBe(held?.token);
    expect(held?.lost.aborted).toBe(true);
    expect(await held?.release()).toBe(false); // compare-and-delete: not ours, not deleted
    expect(await env.conn.client.get(key)).toBe('someone-else');
  });

  it('skips a tick older than maxTickAgeMs, without touching Redis state', async () => {
    const old = tickAt(new Date(Date.now() - 3 * 3_600_000).toISOString());
    const result = await refresher(env.conn).handleTick(old);
    expect(result.status).toBe('skipped-stale');
    expect(
      await env.conn.client.exists(
        createKeyBuilder({ namespace: env.ns }).refreshWindowKeys('default', windowOf(old.scheduledAt)).lock,
      ),
    ).toBe(0);
  });
});
