/**
 * The purge (src/admin/purge.ts) on both Redis modes of the shared stack (Sentinel pair and
 * 6-node cluster, a namespace per test): an entity purge through the event path bumps the
 * fence and refuses a populate holding the old token; a reco entity is one generation bump
 * (its keys become unreachable, none is scanned or deleted); a family purge in one tenant
 * unlinks exactly its keys on every primary, fences included, and bumps the L1 sequence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Purger } from '../../../src/admin/purge.ts';
import { applyInvalidationPlan } from '../../../src/adapters/redis/invalidation-effects.ts';
import {
  createRedisConnection,
  type RedisConfig,
  type RedisConnection,
} from '../../../src/adapters/redis/redis-connection.ts';
import { populate, readFence } from '../../../src/client/fenced-populate.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { KEY_CONTRACT, fenceTtlMs } from '../../../src/core/key-contract.ts';
import { stack } from '../../support/stack.ts';
import { stackAccess } from '../../support/redis-access.ts';
import { cleanup, keysUnder, namespace, sentinelConfig } from '../redis/redis-test-kit.ts';

const modes: [string, () => RedisConfig][] = [
  ['sentinel', sentinelConfig],
  ['cluster', () => ({ mode: 'cluster', nodes: stack().redis.cluster, tuning: stackAccess().tuning })],
];

describe.each(modes)('purge on %s', (_mode, config) => {
  const ns = namespace();
  const keys = createKeyBuilder({ namespace: ns, locales: ['en-US', 'ja-JP'] });
  let conn: RedisConnection;
  let purger: Purger;

  beforeAll(async () => {
    conn = createRedisConnection(config());
    await conn.client.ping();
    const client = conn.client;
    purger = new Purger({
      client,
      keys,
      applyEffects: (plan) =>
        applyInvalidationPlan(client, plan, { channel: keys.l1Channel(), waitReplicas: 0 }),
      perMinute: 1_000,
    });
  });
  afterAll(async () => {
    if (conn) await cleanup(conn.client, ns);
    await conn?.close();
  });

  it('an entity: keys gone, fence moved, the old token refused', async () => {
    const c = conn.client;
    const promo = { family: 'promo' as const, tenant: 'acme', id: 'manga-home' };
    const variants = keys.variantKeys(promo);
    for (const k of variants) await c.set(k, 'expired coupon');
    const token = await readFence(c, keys.fenceKey(promo), fenceTtlMs(KEY_CONTRACT.promo));
    const out = await purger.purge({ scope: 'entity', ...promo, reason: 'r', dryRun: false });
    expect(out).toMatchObject({ method: 'effects', keyCount: variants.length });
    for (const k of variants) expect(await c.exists(k)).toBe(0);
    expect(String(out.fenceValue)).not.toBe(token);
    expect(
      await populate(c, variants[0]!, keys.fenceKey(promo), token, 'expired coupon', { ttlMs: 60_000 }),
    ).toBe('refused-stale');
  });

  it('a reco entity: one generation bump, nothing scanned or deleted', async () => {
    const c = conn.client;
    const user = { family: 'reco' as const, tenant: 'acme', id: 'user42' };
    const gen = keys.fenceKey(user);
    await c.set(gen, '7');
    const recoKeys = ['B000000001', 'B000000002', 'B000000003'].map((seedAsin) =>
      keys.valueKey({ ...user, seedAsin, generation: 7 }),
    );
    for (const k of recoKeys) await c.set(k, 'old recos');
    const dry = await purger.purge({ scope: 'entity', ...user, reason: 'r', dryRun: true });
    expect(dry).toMatchObject({ method: 'generation', keyCount: 3 });
    expect(await c.get(gen)).toBe('7');
    const out = await purger.purge({ scope: 'entity', ...user, reason: 'r', dryRun: false });
    expect(out.method).toBe('generation');
    expect(Number(await c.get(gen))).toBeGreaterThan(7);
    // The old keys are unreachable (readers build keys with the new generation); they expire by TTL.
    for (const k of recoKeys) expect(await c.exists(k)).toBe(1);
  });

  it('a family in one tenant: exactly its keys, fences included, on every primary; the L1 sequence moves', async () => {
    const c = conn.client;
    const entity = (tenant: string, i: number) => ({
      family: 'review' as const,
      tenant,
      id: `B0FAM${String(i).padStart(5, '0')}`,
    });
    for (let i = 0; i < 200; i++) {
      for (const tenant of ['t1', 't2']) {
        const e = entity(tenant, i);
        await c.set(keys.valueKey({ ...e, locale: 'en-US' }), 'v');
        await c.set(keys.fenceKey(e), '1');
      }
    }
    const seq = Number((await c.get(keys.l1Channel().seqKey)) ?? 0);
    const dry = await purger.purge({
      scope: 'family',
      family: 'review',
      tenant: 't1',
      reason: 'r',
      dryRun: true,
    });
    expect(dry.keyCount).toBe(400);
    const out = await purger.purge({
      scope: 'family',
      family: 'review',
      tenant: 't1',
      reason: 'r',
      dryRun: false,
    });
    expect(out).toMatchObject({ method: 'scan', keyCount: 400 });
    const left = await keysUnder(c, ns);
    expect(left.filter((k) => k.includes('{t1:review:'))).toEqual([]);
    expect(left.filter((k) => k.includes('{t2:review:')).length).toBe(400);
    expect(Number(await c.get(keys.l1Channel().seqKey))).toBeGreaterThan(seq);
  });

  it('refuses a fence key, a key of another namespace and a bad tenant, changing nothing', async () => {
    const fence = keys.fenceKey({ family: 'product', tenant: 'acme', id: 'B0NOPE0001' });
    await expect(
      purger.purge({ scope: 'key', key: fence, reason: 'r', dryRun: false }),
    ).rejects.toMatchObject({
      code: 'PURGE_BAD_TARGET',
    });
    await expect(
      purger.purge({
        scope: 'key',
        key: 'other:{acme:product:B0NOPE0001}:v1:en-US',
        reason: 'r',
        dryRun: false,
      }),
    ).rejects.toMatchObject({ code: 'PURGE_BAD_TARGET' });
    await expect(
      purger.purge({ scope: 'tenant', tenant: 'a*', reason: 'r', dryRun: false }),
    ).rejects.toMatchObject({
      code: 'PURGE_BAD_TARGET',
    });
    await expect(
      purger.purge({
        scope: 'entity',
        family: 'product',
        tenant: 'acme',
        id: 'B0}{*',
        reason: 'r',
        dryRun: false,
      }),
    ).rejects.toMatchObject({ code: 'PURGE_BAD_TARGET' });
  });
});
