import type { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../../../src/adapters/redis/cluster-slot.ts';
import { populate, readFence } from '../../../src/client/fenced-populate.ts';
import { applyInvalidationPlan } from '../../../src/adapters/redis/invalidation-effects.ts';
import { L1Subscriber } from '../../../src/client/l1-subscriber.ts';
import type { FlushEvent } from '../../../src/client/l1-subscriber.ts';
import type { InvalidateMessage } from '../../../src/adapters/redis/broadcast-message.ts';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { RedisConfig, RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { KEY_CONTRACT, fenceTtlMs } from '../../../src/core/key-contract.ts';
import { stack } from '../../support/stack.ts';
import { cleanup, effect, eventually, keysOf, keysUnder, namespace, planOf } from './redis-test-kit.ts';

describe('cluster mode', () => {
  let conn: RedisConnection;
  let ns: string;
  const config = (): RedisConfig => ({ mode: 'cluster', nodes: stack().redis.cluster });

  beforeAll(async () => {
    conn = createRedisConnection(config());
    await conn.client.ping();
  });
  afterEach(async () => {
    await cleanup(conn.client, ns);
  });
  afterAll(async () => {
    await conn.close();
  });

  it('computes the same slot as the cluster', async () => {
    const keys = ['mc:{acme:product:B08X1YRSTR}:fence', 'plain-key', 'a{}b', '{user1000}.following'];
    for (const key of keys) expect(slotOf(key)).toBe(await conn.client.call('CLUSTER', 'KEYSLOT', key));
  });

  it('applies effects spread over several nodes, WAITs on each, and broadcasts to a subscriber', async () => {
    // Prepare: entities whose hash tags land on at least two different masters.
    ns = namespace();
    const k = keysOf(ns);
    const asins = Array.from({ length: 8 }, (_, i) => `B0CLUSTER${i}`);
    const cluster = conn.client as Cluster;
    const owners = new Set(asins.map((a) => cluster.slots[slotOf(k.productFence(a))]?.[0]));
    expect(owners.size).toBeGreaterThan(1);
    const doomed = asins.flatMap((a) => [k.product(a, 'ja-JP'), k.product(a, 'en-US')]);
    for (const key of doomed) await conn.client.set(key, 'v', 'EX', 60);
    await conn.client.set(`${ns}:{keep}:me`, 'v', 'EX', 60);
    const promo = k.promo('shoes');
    await conn.client.set(promo, 'v', 'EX', 60);
    const before = await keysUnder(conn.client, ns);

    const l1 = new Map<string, string>([[doomed[0] ?? '', 'x']]);
    const sub = new L1Subscriber({ redis: config(), channel: k.channel(), l1, heartbeatIntervalMs: 60_000 });
    const flushes: FlushEvent[] = [];
    const applied: InvalidateMessage[] = [];
    sub.on('flush', (e) => flushes.push(e));
    sub.on('invalidate', (m) => applied.push(m));
    try {
      await sub.start();
      const effects = [
        ...asins.map((a) =>
          effect('product', k.productFence(a), [k.product(a, 'ja-JP'), k.product(a, 'en-US')]),
        ),
        effect('promo', k.promoFence('shoes'), [promo], true),
      ];

      // Act
      const result = await applyInvalidationPlan(conn.client, planOf(effects), {
        channel: k.channel(),
        waitReplicas: 1,
        waitTimeoutMs: 2_000,
      });
      await eventually(() => applied.length === 1, 5_000, 'broadcast on the cluster');

      // Assess
      expect(result).toMatchObject({ ok: true, deleted: doomed.length + 1, seq: 1, replicasAcked: 1 });
      const fences = effects.map((e) => e.fence);
      const expected = [
        ...before.filter((key) => !doomed.includes(key as never) && key !== promo),
        ...fences,
        k.channel().seqKey,
      ].sort();
      expect(await keysUnder(conn.client, ns)).toEqual(expected);
      expect(applied[0]?.fences).toEqual(fences);
      expect(l1.size).toBe(0);
      expect(flushes.map((f) => f.reason)).toEqual(['subscribed']);
    } finally {
      await sub.close();
    }
  });

  it('runs the fenced populate on the cluster (key and fence share a slot)', async () => {
    ns = namespace();
    const k = keysOf(ns);
    const key = k.product('B08X1YRSTR', 'ja-JP');
    const fence = k.productFence('B08X1YRSTR');
    const token = await readFence(conn.client, fence, fenceTtlMs(KEY_CONTRACT.product));
    await applyInvalidationPlan(conn.client, planOf([effect('product', fence, [key])]), {
      channel: k.channel(),
    });

    expect(await populate(conn.client, key, fence, token, 'old', { ttlMs: 60_000 })).toBe('refused-stale');
    expect(
      await populate(
        conn.client,
        key,
        fence,
        await readFence(conn.client, fence, fenceTtlMs(KEY_CONTRACT.product)),
        'new',
        { ttlMs: 60_000 },
      ),
    ).toBe('stored');
  });

  it('never reissues a fence value on the cluster: a fence deleted between two bumps moves forward', async () => {
    // Prepare: the per-slot invalidate script (cluster path) bumps; a reader holds the value.
    ns = namespace();
    const k = keysOf(ns);
    const key = k.product('B08X1YRSTR', 'ja-JP');
    const fence = k.productFence('B08X1YRSTR');
    const bump = async () => {
      const applied = await applyInvalidationPlan(conn.client, planOf([effect('product', fence, [key])]), {
        channel: k.channel(),
      });
      return applied.ok ? applied.fenceValues.get(fence) : undefined;
    };
    const first = await bump();
    const held = await readFence(conn.client, fence, fenceTtlMs(KEY_CONTRACT.product));
    expect(held).toBe(String(first));

    // Act: the fence vanishes (expiry, eviction, lost replication), then the next invalidation.
    await conn.client.del(fence);
    const second = await bump();

    // Assess
    expect(await populate(conn.client, key, fence, held, 'old', { ttlMs: 60_000 })).toBe('refused-stale');
    expect(second).toBeGreaterThan(Number(first));
  });
});
