import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyInvalidationPlan } from '../../../src/adapters/redis/invalidation-effects.ts';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import {
  cleanup,
  currentPair,
  effect,
  keysOf,
  keysUnder,
  namespace,
  planOf,
  sentinelConfig,
} from './redis-test-kit.ts';
import { closedPort } from './closed-port.ts';

describe('applyInvalidationPlan (Sentinel-managed primary + replica)', () => {
  let conn: RedisConnection;
  let replica: Redis;
  let ns: string;

  beforeAll(async () => {
    // Through the Sentinels, as the worker connects: the pair's roles may have been swapped.
    conn = createRedisConnection(sentinelConfig());
    replica = new Redis({ ...(await currentPair()).replica, maxRetriesPerRequest: 2 });
  });
  afterEach(async () => {
    await cleanup(conn.client, ns);
  });
  afterAll(async () => {
    await conn.close();
    replica.disconnect();
  });

  it('deletes exactly the listed keys, bumps the fence and broadcasts, nothing else changes', async () => {
    // Prepare
    ns = namespace();
    const k = keysOf(ns);
    const doomed = [k.product('B08X1YRSTR', 'ja-JP'), k.product('B08X1YRSTR', 'en-US')];
    const survivors = [k.product('B0OTHER001', 'ja-JP'), k.promo('shoes'), `${ns}:unrelated`];
    for (const key of [...doomed, ...survivors]) await conn.client.set(key, 'v', 'EX', 60);
    const before = await keysUnder(conn.client, ns);
    const fence = k.productFence('B08X1YRSTR');
    // A variant that is not cached: still listed, harmlessly absent.
    const plan = planOf([effect('product', fence, [...doomed, k.product('B08X1YRSTR', 'de-DE')])]);

    // Act
    const result = await applyInvalidationPlan(conn.client, plan, { channel: k.channel() });

    // Assess
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.deleted).toBe(2);
    // A new fence starts at the Redis clock in µs, never at 1 (rule 8: never reissued).
    expect(result.fenceValues.get(fence)).toBeGreaterThan(1e15);
    // The fence expires (bounded memory), long after any populate could still hold a token.
    const pttl = await conn.client.pttl(fence);
    expect(pttl).toBeGreaterThan(3_600_000 - 5_000);
    expect(pttl).toBeLessThanOrEqual(3_600_000);
    expect(result.seq).toBe(1);
    expect(result.replicasAcked).toBeNull();
    const expected = [
      ...before.filter((key) => !doomed.includes(key as never)),
      fence,
      k.channel().seqKey,
    ].sort();
    expect(await keysUnder(conn.client, ns)).toEqual(expected);
  });

  it('is idempotent: a redelivered plan deletes nothing more and bumps the fence again', async () => {
    ns = namespace();
    const k = keysOf(ns);
    const fence = k.productFence('B08X1YRSTR');
    await conn.client.set(k.product('B08X1YRSTR', 'ja-JP'), 'v');
    const plan = planOf([effect('product', fence, [k.product('B08X1YRSTR', 'ja-JP')])]);

    const first = await applyInvalidationPlan(conn.client, plan, { channel: k.channel() });
    const second = await applyInvalidationPlan(conn.client, plan, { channel: k.channel() });

    expect(first).toMatchObject({ ok: true, deleted: 1, seq: 1 });
    expect(second).toMatchObject({ ok: true, deleted: 0, seq: 2 });
    expect(second.ok && second.fenceValues.get(fence)).toBeGreaterThan(
      (first.ok && first.fenceValues.get(fence)) || Number.MAX_SAFE_INTEGER,
    );
  });

  it('invalidates every reco key of one user by bumping the generation, and no other user', async () => {
    // Prepare: reco keys are built with the user's current generation (0 when absent).
    ns = namespace();
    const k = keysOf(ns);
    await conn.client.set(k.reco('user42', '0', 'B08X1YRSTR'), 'old');
    await conn.client.set(k.reco('user43', '0', 'B08X1YRSTR'), 'other user');
    await conn.client.set(k.recoGen('user43'), '7');

    // Act
    const result = await applyInvalidationPlan(
      conn.client,
      planOf([effect('reco', k.recoGen('user42'), [])]),
      {
        channel: k.channel(),
      },
    );

    // Assess: user42's readers now build keys under the new generation (the Redis clock in
    // µs, rule 8), which do not exist; user43 untouched.
    expect(result).toMatchObject({ ok: true, deleted: 0 });
    const generation = (await conn.client.get(k.recoGen('user42'))) ?? '0';
    expect(Number(generation)).toBeGreaterThan(1e15);
    expect(await conn.client.exists(k.reco('user42', generation, 'B08X1YRSTR'))).toBe(0);
    expect(await conn.client.get(k.recoGen('user43'))).toBe('7');
    expect(await conn.client.get(k.reco('user43', '0', 'B08X1YRSTR'))).toBe('other user');
  });

  it('WAITs for the replica on a critical plan: 1 replica acked and the delete is on the replica', async () => {
    ns = namespace();
    const k = keysOf(ns);
    const key = k.promo('shoes');
    await conn.client.set(key, 'expired coupon');
    await conn.client.wait(1, 2_000);
    expect(await replica.get(key)).toBe('expired coupon');

    const result = await applyInvalidationPlan(
      conn.client,
      planOf([effect('promo', k.promoFence('shoes'), [key])]),
      {
        channel: k.channel(),
        waitReplicas: 1,
        waitTimeoutMs: 2_000,
      },
    );

    expect(result).toMatchObject({ ok: true, deleted: 1, replicasAcked: 1 });
    expect(await replica.exists(key)).toBe(0);
  });

  it('reports a WAIT shortfall (2 replicas wanted, 1 exists) as a retryable failure', async () => {
    ns = namespace();
    const k = keysOf(ns);
    const key = k.promo('toys');
    await conn.client.set(key, 'v');

    const result = await applyInvalidationPlan(
      conn.client,
      planOf([effect('promo', k.promoFence('toys'), [key])]),
      {
        channel: k.channel(),
        waitReplicas: 2,
        waitTimeoutMs: 150,
      },
    );

    expect(result).toMatchObject({
      ok: false,
      error: { kind: 'wait-shortfall', retryable: true, required: 2, acked: 1 },
    });
  });

  it('fails the whole plan when one script errors: never partially ok', async () => {
    ns = namespace();
    const k = keysOf(ns);
    // A fence that is not a counter makes INCR fail inside the second script.
    await conn.client.set(k.productFence('B0BROKEN01'), 'not-a-number');
    const plan = planOf([
      effect('product', k.productFence('B08X1YRSTR'), [k.product('B08X1YRSTR', 'ja-JP')]),
      effect('product', k.productFence('B0BROKEN01'), [k.product('B0BROKEN01', 'ja-JP')]),
    ]);

    const result = await applyInvalidationPlan(conn.client, plan, { channel: k.channel() });

    expect(result).toMatchObject({ ok: false, error: { kind: 'redis-error', retryable: true } });
  });

  it('returns a retryable failure, fast, when Redis is unreachable', async () => {
    ns = namespace();
    const k = keysOf(ns);
    const down = createRedisConnection({ mode: 'standalone', host: '127.0.0.1', port: await closedPort() });
    try {
      const started = Date.now();
      const result = await applyInvalidationPlan(
        down.client,
        planOf([effect('product', k.productFence('B08X1YRSTR'), [k.product('B08X1YRSTR', 'ja-JP')])]),
        { channel: k.channel() },
      );
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error.retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await down.close();
    }
  });

  it('does nothing for an empty plan', async () => {
    ns = namespace();
    const result = await applyInvalidationPlan(
      conn.client,
      { decisions: [], effects: [], broadcast: null, critical: false },
      { channel: keysOf(ns).channel() },
    );
    expect(result).toMatchObject({ ok: true, deleted: 0, seq: null, replicasAcked: null });
    expect(await keysUnder(conn.client, ns)).toEqual([]);
  });
});
