import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeVersioned, populate, readFence } from '../../../src/client/fenced-populate.ts';
import { applyInvalidationPlan } from '../../../src/adapters/redis/invalidation-effects.ts';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { L1Channel } from '../../../src/adapters/redis/broadcast-message.ts';
import type { FenceKey } from '../../../src/core/identifiers.ts';
import { KEY_CONTRACT, fenceTtlMs } from '../../../src/core/key-contract.ts';
import { cleanup, effect, keysOf, namespace, planOf, sentinelConfig } from './redis-test-kit.ts';

const PRODUCT_FENCE_TTL_MS = fenceTtlMs(KEY_CONTRACT.product);
const RECO_GEN_TTL_MS = fenceTtlMs(KEY_CONTRACT.reco);

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
    const slowToken = await readFence(conn.client, fence, PRODUCT_FENCE_TTL_MS);
    // The fence did not exist: the read created it at the server clock (µs), never "0".
    expect(Number(slowToken)).toBeGreaterThan(1e15);

    // Act: the worker invalidates, then the slow reader writes back, then a fresh reader.
    const applied = await applyInvalidationPlan(conn.client, planOf([effect('product', fence, [key])]), {
      channel: k.channel(),
    });
    const stale = await populate(conn.client, key, fence, slowToken, 'old price', { ttlMs: 60_000 });
    const freshToken = await readFence(conn.client, fence, PRODUCT_FENCE_TTL_MS);
    const fresh = await populate(conn.client, key, fence, freshToken, 'new price', {
      ttlMs: 60_000,
      jitterMs: 5_000,
      random: () => 0.5,
    });

    // Assess
    expect(applied.ok).toBe(true);
    expect(stale).toBe('refused-stale');
    expect(BigInt(freshToken)).toBeGreaterThan(BigInt(slowToken));
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
    const before = await readFence(conn.client, gen, RECO_GEN_TTL_MS);
    const oldKey = k.reco('user42', before, 'B08X1YRSTR');

    await applyInvalidationPlan(conn.client, planOf([effect('reco', gen, [])]), { channel: k.channel() });
    const stale = await populate(conn.client, oldKey, gen, before, 'stale recos', { ttlMs: 60_000 });
    const after = await readFence(conn.client, gen, RECO_GEN_TTL_MS);
    const fresh = await populate(conn.client, k.reco('user42', after, 'B08X1YRSTR'), gen, after, 'fresh', {
      ttlMs: 60_000,
    });

    expect(stale).toBe('refused-stale');
    expect(await conn.client.exists(oldKey)).toBe(0);
    expect(BigInt(after)).toBeGreaterThan(BigInt(before));
    expect(fresh).toBe('stored');
  });

  it('refuses a versioned write older than the stored value', async () => {
    ns = namespace();
    const k = keysOf(ns);
    const key = k.product('B08X1YRSTR', 'en-US');
    const fence = k.productFence('B08X1YRSTR');
    const token = await readFence(conn.client, fence, PRODUCT_FENCE_TTL_MS);

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
        await readFence(conn.client, k.productFence('B08X1YRSTR'), PRODUCT_FENCE_TTL_MS),
        'v',
        {
          ttlMs: 0,
        },
      ),
    ).rejects.toThrow(RangeError);
  });
});

// DESIGN rule 8: a fence or generation key can vanish (its TTL, eviction, a failover to a
// replica that missed the last bump). Each test DELs the key to stand in for all three.
describe('fence and generation values are never issued twice (rule 8)', () => {
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

  /** One invalidation of `fence` through the worker's effect path; returns the value it issued. */
  const bump = async (family: 'product' | 'reco', fence: FenceKey, channel: L1Channel) => {
    const applied = await applyInvalidationPlan(conn.client, planOf([effect(family, fence, [])]), {
      channel,
    });
    expect(applied.ok).toBe(true);
    return applied.ok ? applied.fenceValues.get(fence) : undefined;
  };

  it('a fence deleted between two bumps gets a value no earlier bump issued; the old token is refused', async () => {
    // Prepare: two bumps, a reader holding the second value, then the fence vanishes.
    ns = namespace();
    const k = keysOf(ns);
    const key = k.product('B08X1YRSTR', 'ja-JP');
    const fence = k.productFence('B08X1YRSTR');
    const issued = [await bump('product', fence, k.channel()), await bump('product', fence, k.channel())];
    const heldToken = await readFence(conn.client, fence, PRODUCT_FENCE_TTL_MS);
    expect(heldToken).toBe(String(issued[1]));
    await conn.client.del(fence);

    // Act: the next invalidation, then the reader's write of what it fetched before it.
    const next = await bump('product', fence, k.channel());
    const late = await populate(conn.client, key, fence, heldToken, 'old price', { ttlMs: 60_000 });

    // Assess
    expect(late).toBe('refused-stale');
    expect(await conn.client.exists(key)).toBe(0);
    expect(issued).not.toContain(next);
    expect(next).toBeGreaterThan(Math.max(...issued.map(Number)));
  });

  it("a reco generation deleted between two sessions never brings back the first session's values", async () => {
    // Prepare: session one, recommendations written under its generation, the key vanishes.
    ns = namespace();
    const k = keysOf(ns);
    const gen = k.recoGen('user42');
    const seeds = ['B08X1YRST1', 'B08X1YRST2'];
    await bump('reco', gen, k.channel());
    const first = await readFence(conn.client, gen, RECO_GEN_TTL_MS);
    for (const seed of seeds) {
      expect(
        await populate(conn.client, k.reco('user42', first, seed), gen, first, 'session-1 recos', {
          ttlMs: 60_000,
        }),
      ).toBe('stored');
    }
    await conn.client.del(gen);

    // Act: session two; a reader builds its keys from the generation it reads now.
    await bump('reco', gen, k.channel());
    const second = await readFence(conn.client, gen, RECO_GEN_TTL_MS);

    // Assess
    for (const seed of seeds) expect(await conn.client.get(k.reco('user42', second, seed))).toBeNull();
    expect(second).not.toBe(first);
  });

  it('a reader that read a missing fence cannot populate after an invalidation and an eviction', async () => {
    // Prepare: the reader misses and reads the fence, which does not exist yet.
    ns = namespace();
    const k = keysOf(ns);
    const key = k.product('B08X1YRSTR', 'en-US');
    const fence = k.productFence('B08X1YRSTR');
    const token = await readFence(conn.client, fence, PRODUCT_FENCE_TTL_MS);

    // Act: an invalidation bumps the fence, the fence is evicted, then the reader writes.
    await bump('product', fence, k.channel());
    await conn.client.del(fence);
    const late = await populate(conn.client, key, fence, token, 'old price', { ttlMs: 60_000 });

    // Assess: a vanished fence turns the write into a refusal, never a stale fill.
    expect(late).toBe('refused-stale');
    expect(await conn.client.exists(key)).toBe(0);
  });

  it('bumps by one when the fence is ahead of the clock, and jumps to the clock from an old counter', async () => {
    // Prepare: one fence ahead of the Redis clock (issued by a node whose clock ran ahead),
    // one holding a counter of the INCR era.
    ns = namespace();
    const k = keysOf(ns);
    const ahead = k.productFence('B0AHEAD001');
    const legacy = k.productFence('B0LEGACY01');
    const [seconds, micros] = (await conn.client.time()).map(Number) as [number, number];
    const aheadValue = (BigInt(seconds) * 1_000_000n + BigInt(micros) + 3_600_000_000n).toString();
    await conn.client.set(ahead, aheadValue);
    await conn.client.set(legacy, '5');

    // Act
    const fromAhead = await bump('product', ahead, k.channel());
    const fromLegacy = await bump('product', legacy, k.channel());

    // Assess: exact to the unit (no float rounding, no scientific notation), and the TTL set.
    expect(await conn.client.get(ahead)).toBe((BigInt(aheadValue) + 1n).toString());
    expect(fromAhead).toBe(Number(BigInt(aheadValue) + 1n));
    expect(await conn.client.get(legacy)).toMatch(/^[1-9]\d{15}$/);
    expect(fromLegacy).toBeGreaterThanOrEqual(seconds * 1_000_000 + micros);
    for (const fence of [ahead, legacy]) expect(await conn.client.pttl(fence)).toBeGreaterThan(0);
  });

  it('a reader of a missing fence creates it with the fence TTL and never holds "0"', async () => {
    ns = namespace();
    const k = keysOf(ns);
    const fence = k.productFence('B08X1YRSTR');

    const token = await readFence(conn.client, fence, PRODUCT_FENCE_TTL_MS);

    expect(token).not.toBe('0');
    expect(await conn.client.get(fence)).toBe(token);
    const pttl = await conn.client.pttl(fence);
    expect(pttl).toBeGreaterThan(PRODUCT_FENCE_TTL_MS - 5_000);
    expect(pttl).toBeLessThanOrEqual(PRODUCT_FENCE_TTL_MS);
  });
});
