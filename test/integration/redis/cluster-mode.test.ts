import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../../../src/adapters/redis/cluster-slot.ts';
import { populate, readFence } from '../../../src/client/fenced-populate.ts';
import { applyInvalidationPlan } from '../../../src/adapters/redis/invalidation-effects.ts';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { RedisConfig, RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { KEY_CONTRACT, fenceTtlMs } from '../../../src/core/key-contract.ts';
import { stack } from '../../support/stack.ts';
import { cleanup, effect, keysOf, namespace, planOf } from './redis-test-kit.ts';
import { stackAccess } from '../../support/redis-access.ts';

// What the cluster alone has: its slot function and the fenced populate on one slot. The
// effects (deletes, fences, WAIT, broadcast) are tested on both modes by one contract suite,
// invalidation-effects.test.ts.
describe('cluster mode', () => {
  let conn: RedisConnection;
  let ns: string;
  const config = (): RedisConfig => ({
    mode: 'cluster',
    nodes: stack().redis.cluster,
    tuning: stackAccess().tuning,
  });

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
});
