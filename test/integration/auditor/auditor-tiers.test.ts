/**
 * The auditor against the shared stack's real primary and replica (its own namespace; it only
 * writes test keys on the primary), fed through `observe()`:
 * - a stale value is found on every tier that holds it, the replica included;
 * - a flag the re-check finds gone (a delete in flight) is not counted: the adversary is a
 *   delete landing between the first read and the re-check;
 * - a promotion section is judged by the version the origin answers, not the event's.
 */
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuditor, type Auditor, type AuditorOptions } from '../../../src/auditor/index.ts';
import { createRedisConnection, type RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { encodeStored } from '../../../src/client/cached-value.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { makeEvent, productUpdated } from '../../support/events.ts';
import { stackAccess } from '../../support/redis-access.ts';
import { cleanup, currentPair, eventually, namespace, sentinelConfig } from '../redis/redis-test-kit.ts';

const LOCALES = ['en-US', 'ja-JP'];

describe('consistency auditor tiers (shared primary and replica)', () => {
  let conn: RedisConnection;
  let replica: Redis;
  let pair: Awaited<ReturnType<typeof currentPair>>;
  const ns = namespace();
  const keys = createKeyBuilder({ namespace: ns, locales: LOCALES });
  const auditors: Auditor[] = [];

  beforeAll(async () => {
    conn = createRedisConnection(sentinelConfig());
    pair = await currentPair();
    replica = new Redis({ ...stackAccess().node, ...pair.replica, maxRetriesPerRequest: 2 });
  });
  afterAll(async () => {
    for (const a of auditors) await a.close();
    await cleanup(conn.client, ns);
    await conn.close();
    replica.disconnect();
  });

  async function auditor(options: Partial<AuditorOptions>): Promise<Auditor> {
    const a = await startAuditor({
      redis: sentinelConfig(),
      namespace: ns,
      locales: LOCALES,
      logger: pino({ level: 'silent' }),
      adminToken: () => 'x'.repeat(64),
      ...options,
    });
    auditors.push(a);
    return a;
  }

  const oldValue = (version: number, storedAtMs = Date.now()) =>
    encodeStored({ found: true, data: { v: version }, version, storedAtMs });

  it('finds a stale value on the primary and on the replica', async () => {
    // Prepare: version 1 of a product, replicated.
    const key = keys.valueKey({ family: 'product', tenant: 'default', id: 'B0TIER0001', locale: 'en-US' });
    await conn.client.set(key, oldValue(1));
    await eventually(async () => (await replica.get(key)) !== null, 5_000, 'the replica to hold the value');
    const a = await auditor({ replica: pair.replica, windowsMs: [200], recheckDelayMs: 200 });

    // Act: the event says version 2; nothing deletes the value.
    a.observe(JSON.stringify(productUpdated('B0TIER0001', { version: 2 })));
    await eventually(() => a.snapshot().checked === 1, 5_000, 'the check');

    // Assess
    const snap = a.snapshot();
    expect(snap.findings.map((f) => [f.tier, f.key, f.storedVersion, f.eventVersion])).toEqual([
      ['primary', key, 1, 2],
      ['replica', key, 1, 2],
    ]);
    expect(snap.findings[1]?.source).toBe(`redis://${pair.replica.host}:${pair.replica.port}`);
    expect(snap.inconsistent).toBe(1);
    expect(snap.valuesSeen).toEqual({ primary: 1, replica: 1 });
  });

  it('does not count a flag whose value is deleted before the re-check (a delete in flight)', async () => {
    const key = keys.valueKey({ family: 'product', tenant: 'default', id: 'B0TIER0002', locale: 'ja-JP' });
    await conn.client.set(key, oldValue(1));
    const a = await auditor({ windowsMs: [200], recheckDelayMs: 800 });
    const event = productUpdated('B0TIER0002', { version: 2 });
    const originTimeMs = Date.parse(String(event.occurredAt));

    // Act: the first read (at +200 ms) sees version 1; the delete lands at +500 ms, before the
    // re-check (at +1000 ms).
    a.observe(JSON.stringify(event));
    await new Promise((r) => setTimeout(r, Math.max(0, originTimeMs + 500 - Date.now())));
    expect(a.snapshot().checked).toBe(0); // still waiting for its re-check
    await conn.client.unlink(key);
    await eventually(() => a.snapshot().checked === 1, 5_000, 'the check');

    // Assess
    const snap = a.snapshot();
    expect(snap.inconsistent).toBe(0);
    expect(snap.flagsCleared).toBe(1);
    expect(snap.findings).toEqual([]);
  });

  it('judges a promotion section by the version its origin answers', async () => {
    // Prepare: the origin says section "tier-sale" is at version 5 (the event carries the
    // promotion's own version, 1); the cache holds 4 in en-US and 5 in ja-JP.
    const origin = Fastify();
    let calls = 0;
    origin.get('/promotions/:section', () => {
      calls++;
      return { version: 5 };
    });
    const url = await origin.listen({ port: 0, host: '127.0.0.1' });
    const at = (locale: string) =>
      keys.valueKey({ family: 'promo', tenant: 'default', id: 'tier-sale', locale });
    await conn.client.set(at('en-US'), oldValue(4));
    await conn.client.set(at('ja-JP'), oldValue(5));
    const a = await auditor({
      windowsMs: [200, 400],
      recheckDelayMs: 100,
      origin: { url, ratePerSecond: 1 },
    });
    try {
      // Act
      a.observe(
        JSON.stringify(
          makeEvent('promotion.changed', { promotionId: 'tier', storeSections: ['tier-sale'], version: 1 }),
        ),
      );
      await eventually(() => a.snapshot().checked === 2, 5_000, 'both windows');

      // Assess: one origin call for the target (not one per window), the stale locale found.
      const snap = a.snapshot();
      expect(calls).toBe(1);
      expect(snap.originReads).toEqual({ ok: 1 });
      expect(
        snap.findings.map((f) => [f.key, f.storedVersion, f.expectedVersion, f.eventVersion, f.windowMs]),
      ).toEqual([
        [at('en-US'), 4, 5, 1, 200],
        [at('en-US'), 4, 5, 1, 400],
      ]);
    } finally {
      await origin.close();
    }
  });

  it('never calls the origin beyond its rate: a burst of 20 promotion events costs 3 calls at 3/s', async () => {
    const origin = Fastify();
    let calls = 0;
    origin.get('/promotions/:section', () => {
      calls++;
      return { version: 1 };
    });
    const url = await origin.listen({ port: 0, host: '127.0.0.1' });
    const a = await auditor({ windowsMs: [200], recheckDelayMs: 100, origin: { url, ratePerSecond: 3 } });
    try {
      for (let i = 0; i < 20; i++) {
        a.observe(
          JSON.stringify(
            makeEvent('promotion.changed', { promotionId: 'burst', storeSections: [`burst-${i}`] }),
          ),
        );
      }
      await eventually(() => a.snapshot().checked === 20, 5_000, 'every check');

      expect(calls).toBe(3);
      expect(a.snapshot().originReads).toEqual({ ok: 3, budget: 17 });
      // Without a version, the sections are judged by store time: nothing is cached, nothing found.
      expect(a.snapshot().inconsistent).toBe(0);
    } finally {
      await origin.close();
    }
  });
});
