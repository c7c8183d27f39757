import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeVersioned, populate, readFence } from '../../../src/adapters/redis/fenced-populate.ts';
import { applyInvalidationPlan } from '../../../src/adapters/redis/invalidation-effects.ts';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { cleanup, effect, keysOf, namespace, planOf, sentinelConfig } from './redis-test-kit.ts';

describe('fenced populate (no stale resurrection)', () => {
  let conn: RedisConnection;
  let ns: string;

  beforeAll(() => {
    conn = createRedisConnection(sentinelConfig());
  });
  afterEach(async () => {
    await cleanup(conn.client, ns);
  });
  afterAll(async () => {
    await conn.close();
  });

  it('refuses a populate that read the fence before an invalidation; accepts one that read it after', async () => {
    // Prepare: the slow reader reads the fence, then "fetches the origin" (the old value).
    ns = namespace();
    const k = keysOf(ns);
    const key = k.product('B08X1YRSTR', 'ja-JP');
    const fence = k.productFence('B08X1YRSTR');
    const slowToken = await readFence(conn.client, fence);
    expect(slowToken).toBe('0');

    // Act: the worker invalidates, then the slow reader writes back, then a fresh reader.
    const applied = await applyInvalidationPlan(conn.client, planOf([effect('product', fence, [key])]), {
      channel: k.channel(),
    });
    const stale = await populate(conn.client, key, fence, slowToken, 'old price', { ttlMs: 60_000 });
    const freshToken = await readFence(conn.client, fence);
    const fresh = await populate(conn.client, key, fence, freshToken, 'new price', {
      ttlMs: 60_000,
      jitterMs: 5_000,
      random: () => 0.5,
    });

    // Assess
    expect(applied.ok).toBe(true);
    expect(stale).toBe('refused-stale');
    expect(freshToken).toBe('1');
    expect(fresh).toBe('stored');
    expect(await conn.client.get(key)).toBe('new price');
    const ttl = await conn.client.pttl(key);
    expect(ttl).toBeGreaterThan(62_000);
    expect(ttl).toBeLessThanOrEqual(62_500);
  });

  it('works with the reco generation as fence: an old-generation populate is refused', async () => {
    ns = namespace();
    const k = keysOf(ns);
    const gen = k.recoGen('user42');
    const before = await readFence(conn.client, gen);
    const oldKey = k.reco('user42', before, 'B08X1YRSTR');

    await applyInvalidationPlan(conn.client, planOf([effect('reco', gen, [])]), { channel: k.channel() });
    const stale = await populate(conn.client, oldKey, gen, before, 'stale recos', { ttlMs: 60_000 });
    const after = await readFence(conn.client, gen);
    const fresh = await populate(conn.client, k.reco('user42', after, 'B08X1YRSTR'), gen, after, 'fresh', {
      ttlMs: 60_000,
    });

    expect(stale).toBe('refused-stale');
    expect(await conn.client.exists(oldKey)).toBe(0);
    expect(after).toBe('1');
    expect(fresh).toBe('stored');
  });

  it('refuses a versioned write older than the stored value', async () => {
    ns = namespace();
    const k = keysOf(ns);
    const key = k.product('B08X1YRSTR', 'en-US');
    const fence = k.productFence('B08X1YRSTR');
    const token = await readFence(conn.client, fence);

    const v5 = await populate(conn.client, key, fence, token, '{"price":5}', { ttlMs: 60_000, version: 5 });
    const v4 = await populate(conn.client, key, fence, token, '{"price":4}', { ttlMs: 60_000, version: 4 });
    const v6 = await populate(conn.client, key, fence, token, '{"price":6}', { ttlMs: 60_000, version: 6 });

    expect([v5, v4, v6]).toEqual(['stored', 'refused-older', 'stored']);
    const raw = await conn.client.get(key);
    expect(raw === null ? undefined : decodeVersioned(raw)).toEqual({ version: 6, data: '{"price":6}' });
  });

  it('rejects a non-positive TTL before touching Redis', async () => {
    ns = namespace();
    const k = keysOf(ns);
    await expect(
      populate(
        conn.client,
        k.product('B08X1YRSTR', 'ja-JP'),
        k.productFence('B08X1YRSTR'),
        await readFence(conn.client, k.productFence('B08X1YRSTR')),
        'v',
        {
          ttlMs: 0,
        },
      ),
    ).rejects.toThrow(RangeError);
  });
});
