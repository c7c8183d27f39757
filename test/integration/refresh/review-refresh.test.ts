import { describe, expect, it } from 'vitest';
import { decodeVersioned } from '../../../src/client/fenced-populate.ts';
import { applyInvalidationPlan } from '../../../src/adapters/redis/invalidation-effects.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { KEY_CONTRACT } from '../../../src/core/key-contract.ts';
import { createRedisHotKeySource } from '../../../src/adapters/redis/hot-key-ranking.ts';
import { createReviewRefresher } from '../../../src/refresh/review-refresher.ts';
import type { ReviewRefresherDeps } from '../../../src/refresh/review-refresher.ts';
import { windowOf } from '../../../src/refresh/refresh-window.ts';
import { NO_METRICS } from '../../../src/metrics/worker-metrics.ts';
import { planOf } from '../redis/redis-test-kit.ts';
import {
  asins,
  reviewCalls,
  reviewStats,
  seedHotness,
  useRefreshEnv,
  testLogger,
  tickAt,
} from './refresh-harness.ts';

const HOUR = 3_600_000;
const REVIEW = KEY_CONTRACT.review;

describe('scheduled review refresh (real Redis, origin simulator)', () => {
  const env = useRefreshEnv({
    afterEach: ({ sim }) =>
      sim.post('/_sim/config', { reviewsIncludePrice: false, failRate: { reviews: 0 } }),
  });

  const refresher = (overrides: Partial<ReviewRefresherDeps> = {}) => {
    const keys = createKeyBuilder({ namespace: env.ns });
    return createReviewRefresher({
      redis: env.conn.client,
      keys,
      originBaseUrl: env.sim.url,
      hotKeys: createRedisHotKeySource(env.conn.client, createKeyBuilder({ namespace: env.ns })),
      limits: { concurrency: 64, ratePerSecond: 1_000 },
      logger: testLogger,
      metrics: NO_METRICS,
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
      ...overrides,
    });
  };

  it('refreshes 5,000 hot keys within the origin budget, every TTL in [1 h, 1 h + jitter]', async () => {
    // Prepare
    const ids = asins(5_000);
    await seedHotness(env.conn.client, env.ns, ids);
    await env.sim.post('/_sim/reset');
    const progress: { written: number; failed: number; total: number }[] = [];
    const limit = 1_000;
    const keys = createKeyBuilder({ namespace: env.ns });

    // Act
    const started = Date.now();
    const result = await refresher({
      topN: 5_000,
      limits: { concurrency: 64, ratePerSecond: limit },
      metrics: { ...NO_METRICS, refreshProgress: (p) => void progress.push(p) },
    }).handleTick(tickAt());
    const elapsed = Date.now() - started;

    // Assess: all refreshed, once each, never faster than the budget as the origin saw it.
    expect(result).toMatchObject({ status: 'completed', total: 5_000, written: 5_000, failed: 0 });
    const stats = await reviewStats(env.sim);
    expect(stats.calls).toBe(5_000);
    expect(stats.maxPerSecond).toBeLessThanOrEqual(limit);
    expect(progress.at(-1)).toEqual({ written: 5_000, failed: 0, total: 5_000 });
    // Every locale variant, every TTL: written TTL in [1 h, 1 h + jitter], minus the time since.
    const valueKeys = ids.flatMap((id) => keys.variantKeys({ family: 'review', tenant: 'default', id }));
    expect(valueKeys).toHaveLength(10_000);
    const pipeline = env.conn.client.pipeline();
    for (const k of valueKeys) pipeline.pttl(k);
    const ttls = ((await pipeline.exec()) ?? []).map(([, ttl]) => ttl as number);
    const checkedAt = Date.now();
    expect(Math.max(...ttls)).toBeLessThanOrEqual(REVIEW.ttlMs + REVIEW.jitterMs);
    expect(Math.min(...ttls)).toBeGreaterThanOrEqual(HOUR - (checkedAt - started));
    // Jitter spreads expiry: the TTLs are not all the same.
    expect(new Set(ttls.map((t) => Math.floor(t / 10_000))).size).toBeGreaterThan(10);
    expect(elapsed).toBeLessThan(60_000);
  }, 90_000);

  it('stores a review that the origin answers with price fields without them', async () => {
    // Prepare
    const ids = asins(20, 100);
    await seedHotness(env.conn.client, env.ns, ids);
    await env.sim.post('/_sim/config', { reviewsIncludePrice: true });
    const leaked = (await env.sim.get(`/reviews/${ids[0]}`)).body as Record<string, unknown>;
    expect(leaked).toHaveProperty('priceCents'); // the origin does leak

    // Act
    const result = await refresher().handleTick(tickAt());

    // Assess
    expect(result).toMatchObject({ status: 'completed', written: 20 });
    const keys = createKeyBuilder({ namespace: env.ns });
    for (const id of ids) {
      for (const key of keys.variantKeys({ family: 'review', tenant: 'default', id })) {
        const raw = await env.conn.client.get(key);
        expect(raw).not.toBeNull();
        const decoded = decodeVersioned(raw ?? '');
        expect(raw).not.toMatch(/"[^"]*price[^"]*":/i); // no price-like field (a phrase may say "price")
        const value = JSON.parse(decoded?.data ?? '{}') as Record<string, unknown>;
        expect(value).toMatchObject({ asin: id, version: decoded?.version });
        expect(Object.keys(value).sort()).toEqual([
          'asin',
          'averageRating',
          'reviewCount',
          'topPhrases',
          'version',
        ]);
      }
    }
  });

  it('refuses a write that races an invalidation (the fence moved between fetch and write)', async () => {
    // Prepare: the invalidation of one ASIN lands after its origin answer, before the write.
    const ids = asins(10, 200);
    const victim = ids[3] ?? '';
    await seedHotness(env.conn.client, env.ns, ids);
    const keys = createKeyBuilder({ namespace: env.ns });
    const entity = { family: 'review', tenant: 'default', id: victim } as const;
    let bumpedTo: number | undefined;
    const afterFetch = async (asin: string): Promise<void> => {
      if (asin !== victim) return;
      const applied = await applyInvalidationPlan(env.conn.client, planOf([keys.entityEffect(entity)]), {
        channel: { channel: `${env.ns}:l1`, seqKey: `${env.ns}:{l1}:seq` },
      });
      expect(applied.ok).toBe(true);
      bumpedTo = applied.ok ? applied.fenceValues.get(keys.fenceKey(entity)) : undefined;
    };

    // Act
    const tick = tickAt();
    const result = await refresher({ afterFetch }).handleTick(tick);

    // Assess: the victim is not resurrected; the others are written; the victim counts as done.
    expect(result).toMatchObject({ status: 'completed', total: 10, written: 9, refused: 1, failed: 0 });
    for (const key of keys.variantKeys(entity)) expect(await env.conn.client.exists(key)).toBe(0);
    // The fence holds the invalidation's bump: nothing wrote over it afterwards.
    expect(bumpedTo).toBeGreaterThan(1e15);
    expect(await env.conn.client.get(keys.fenceKey(entity))).toBe(String(bumpedTo));
    const done = createKeyBuilder({ namespace: env.ns }).refreshWindowKeys(
      'default',
      windowOf(tick.scheduledAt),
    ).done;
    expect(await env.conn.client.sismember(done, victim)).toBe(1);
  });

  it('retries failing keys within the run and reports what still failed, without failing the run', async () => {
    // Prepare: 10 % of origin calls fail (deterministically spread), then all of them.
    const ids = asins(200, 300);
    await seedHotness(env.conn.client, env.ns, ids);
    await env.sim.post('/_sim/reset');
    await env.sim.post('/_sim/config', { failRate: { reviews: 0.1 } });

    // Act
    const flaky = await refresher({ retry: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 20 } }).handleTick(
      tickAt(),
    );
    await env.sim.post('/_sim/config', { failRate: { reviews: 1 } });
    const down = await refresher({ configuredAsins: ['B999999999'], topN: 0 }).handleTick(
      tickAt(new Date(Date.now() - HOUR).toISOString()),
    );

    // Assess
    expect(flaky).toMatchObject({ status: 'completed', written: 200, failed: 0 });
    expect(flaky.originCalls).toBeGreaterThan(200);
    expect((await reviewStats(env.sim)).calls).toBe(flaky.originCalls + down.originCalls);
    expect(down).toMatchObject({ status: 'completed', total: 1, written: 0, failed: 1, originCalls: 3 });
    expect(down.failures).toEqual([{ id: 'B999999999', code: 'ORIGIN_HTTP_503' }]);
  });

  it('resumes a run aborted halfway without fetching the keys already done', async () => {
    // Prepare
    const ids = asins(600, 1_000);
    await seedHotness(env.conn.client, env.ns, ids);
    await env.sim.post('/_sim/reset');
    const shutdown = new AbortController();
    let fetched = 0;
    const tick = tickAt();

    // Act: shutdown after ~200 origin answers; then the same tick is delivered again.
    const first = await refresher({
      limits: { concurrency: 16, ratePerSecond: 500 },
      afterFetch: () => {
        if (++fetched === 200) shutdown.abort();
        return Promise.resolve();
      },
    }).handleTick(tick, { signal: shutdown.signal });
    // The hot ranking changes meanwhile: the resumed run must keep the window's own list.
    await seedHotness(env.conn.client, env.ns, asins(600, 5_000));
    const second = await refresher({ limits: { concurrency: 16, ratePerSecond: 500 } }).handleTick(tick);

    // Assess
    expect(first.status).toBe('aborted');
    expect(first.abortReason).toBe('shutdown');
    expect(first.written).toBeGreaterThanOrEqual(200);
    expect(first.written).toBeLessThan(600);
    expect(second).toMatchObject({ status: 'completed', total: 600, skippedAlreadyDone: first.written });
    expect(second.written).toBe(600 - first.written);
    const calls = await reviewCalls(env.sim);
    expect(calls.size).toBe(600);
    for (const id of ids) expect(calls.get(id), id).toBe(1);
    // A third delivery finds the window completed.
    expect((await refresher().handleTick(tick)).status).toBe('skipped-done');
  });
});
