/**
 * The decaying hotness set on real Redis: the script's arithmetic equals the TypeScript
 * reference, hot ids come first in the HotKeySource the refresh and warm-up read, ids read
 * long ago fall behind, and the set stays bounded.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisHotKeySource } from '../../../src/adapters/redis/hot-key-ranking.ts';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { decayedWeight, recordedScore } from '../../../src/client/hotness-decay.ts';
import { createHotnessRecorder, recordHotness } from '../../../src/client/hotness-recorder.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { mulberry32 } from '../../../src/origin-sim/deterministic-random.ts';
import { cleanup, namespace, sentinelConfig } from '../redis/redis-test-kit.ts';

const TAU = 3_600_000;

describe('hotness on Redis', () => {
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

  it('ranks the most-read ids first through the HotKeySource (sampled recorder)', async () => {
    ns = namespace();
    const keys = createKeyBuilder({ namespace: ns });
    const recorder = createHotnessRecorder(conn.client, keys, { sampleEvery: 4, random: mulberry32(7) });
    // 3 hot ids (400, 300, 200 reads) among 20 cold ones (5 reads each), interleaved.
    const reads: string[] = [];
    const hot = ['B0HOT00001', 'B0HOT00002', 'B0HOT00003'];
    hot.forEach((id, i) => reads.push(...Array<string>((4 - i) * 100).fill(id)));
    for (let c = 0; c < 20; c++) reads.push(...Array<string>(5).fill(`B0COLD${String(c).padStart(4, '0')}`));
    for (let i = reads.length - 1; i > 0; i--) {
      const j = Math.floor(mulberry32(i)() * (i + 1));
      [reads[i], reads[j]] = [reads[j] ?? '', reads[i] ?? ''];
    }
    for (const id of reads) recorder.record({ tenant: 'default', family: 'review', id });
    // Recording is fire-and-forget: a PING after them answers once they are applied.
    await conn.client.ping();
    const stats = recorder.stats();
    expect(stats.reads).toBe(reads.length);
    expect(stats.failed).toBe(0);
    expect(stats.sampled).toBeLessThan(reads.length / 2);

    const top = await createRedisHotKeySource(conn.client, keys).top('review', 'default', 3);
    expect(top).toEqual(hot);
  });

  it('stores the reference score, decays old reads behind fresh ones, and stays bounded', async () => {
    ns = namespace();
    const keys = createKeyBuilder({ namespace: ns });
    const t0 = Date.parse('2026-12-01T10:00:00Z');
    const at = (ms: number) => ({ now: () => ms, tauMs: TAU, maxMembers: 3 });
    const read = (id: string) => ({ tenant: 'acme', family: 'product' as const, id });

    // 100 reads of OLD 3 tau ago; 10 of FRESH now (in two weighted samples); two single reads.
    const oldScore = await recordHotness(conn.client, keys, read('B0OLD00001'), 100, at(t0));
    await recordHotness(conn.client, keys, read('B0FRESH001'), 4, at(t0 + 3 * TAU));
    const fresh = await recordHotness(conn.client, keys, read('B0FRESH001'), 6, at(t0 + 3 * TAU));
    expect(fresh).toBeCloseTo(
      recordedScore(recordedScore(undefined, 4, t0 + 3 * TAU, TAU), 6, t0 + 3 * TAU, TAU),
      9,
    );
    expect(decayedWeight(fresh, t0 + 3 * TAU, TAU)).toBeCloseTo(10, 6);
    expect(decayedWeight(oldScore, t0 + 3 * TAU, TAU)).toBeCloseTo(100 / Math.exp(3), 6);
    await recordHotness(conn.client, keys, read('B0ONCE0001'), 1, at(t0 + 3 * TAU));
    await recordHotness(conn.client, keys, read('B0ONCE0002'), 1, at(t0 + 3 * TAU));

    const top = await createRedisHotKeySource(conn.client, keys).top('product', 'acme', 10);
    // FRESH (10) > OLD (4.98) > ONCE (1 each); the fourth id pushed the coldest out (max 3).
    expect(top).toHaveLength(3);
    expect(top.slice(0, 2)).toEqual(['B0FRESH001', 'B0OLD00001']);
    const ttl = await conn.client.pttl(keys.hotKeysKey('acme', 'product'));
    expect(ttl).toBeGreaterThan(0);
  });
});
