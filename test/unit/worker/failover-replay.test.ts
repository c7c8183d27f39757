/**
 * Failover replay with ElastiCache's timings (DESIGN rules 4 and 10): detection and promotion
 * take tens of seconds, so the replay window must be measured back from the last moment the
 * worker knew its writes were safe, not from the moment the new primary is detected; and a
 * ring that had to drop effects of that window must escalate instead of logging.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { EffectsResult } from '../../../src/adapters/redis/invalidation-effects.ts';
import type { FamilyName, InvalidationPlan } from '../../../src/core/invalidation-plan.ts';
import { replayRecentInvalidations } from '../../../src/worker/failover-replay.ts';
import { RecentInvalidations } from '../../../src/worker/recent-invalidations.ts';
import { NO_METRICS } from '../../../src/metrics/worker-metrics.ts';
import { effect, keysOf } from '../../integration/redis/redis-test-kit.ts';

const k = keysOf('mc');
const logger = pino({ level: 'silent' });
const applied = (): EffectsResult => ({
  ok: true,
  deleted: 0,
  fenceValues: new Map(),
  seq: null,
  receivers: null,
  publishedAtMs: null,
  replicasAcked: null,
  durations: { effectsMs: 0, totalMs: 0 },
});

describe('failover replay under ElastiCache timings', () => {
  it.each([
    { detectionDelayMs: 1_000, label: 'local Sentinel (1 s)' },
    { detectionDelayMs: 30_000, label: 'ElastiCache (30 s)' },
    { detectionDelayMs: 90_000, label: 'a slow promotion (90 s)' },
  ])(
    'replays the effects confirmed just before the loss, whatever the detection delay: $label',
    async ({ detectionDelayMs }) => {
      // Prepare: effects confirmed until t=5 s, the last contact with the old primary at t=5 s.
      let now = 0;
      let safeSince = 0;
      const ring = new RecentInvalidations({ windowMs: 10_000, now: () => now, safeSince: () => safeSince });
      for (let t = 0; t <= 5_000; t += 1_000) {
        now = t;
        safeSince = t;
        ring.record([effect('product', k.productFence(`A00000000${t / 1_000}`), [])]);
      }
      // The primary is lost; nothing is confirmed as safe any more while detection runs.
      now = 5_000 + detectionDelayMs;
      ring.record([]);
      const plans: InvalidationPlan[] = [];

      // Act
      const outcome = await replayRecentInvalidations(
        {
          recent: ring,
          applyEffects: (plan) => {
            plans.push(plan);
            return Promise.resolve(applied());
          },
          escalate: () => Promise.resolve(),
          metrics: NO_METRICS,
          logger,
        },
        { reason: 'run-id-changed', safeSinceMs: safeSince },
      );

      // Assess: every effect of [lastContact - window, detection] is applied again.
      expect(outcome.replayed).toBe(6);
      expect(plans[0]?.effects.map((e) => e.fence)).toEqual(
        [0, 1, 2, 3, 4, 5].map((i) => k.productFence(`A00000000${i}`)),
      );
      expect(outcome.fromMs).toBe(5_000 - 10_000);
    },
  );

  it('keeps what it holds bounded by bytes, not by a count that a burst outruns', () => {
    const ring = new RecentInvalidations({ windowMs: 10_000, maxBytes: 100_000, now: () => 0 });
    for (let i = 0; i < 10_000; i++)
      ring.record([effect('product', k.productFence(`A${String(i).padStart(9, '0')}`), [])]);

    expect(ring.bytes).toBeLessThanOrEqual(100_000);
    expect(ring.size).toBeGreaterThan(0);
  });

  it('escalates when effects of the window were evicted, instead of only logging', async () => {
    // Prepare: a ring too small for the burst inside its window.
    const ring = new RecentInvalidations({ windowMs: 10_000, maxBytes: 2_000, now: () => 0 });
    for (let i = 0; i < 100; i++)
      ring.record([
        effect(i % 2 === 0 ? 'product' : 'promo', k.productFence(`A${String(i).padStart(9, '0')}`), []),
      ]);
    const escalated: FamilyName[][] = [];

    // Act
    const outcome = await replayRecentInvalidations(
      {
        recent: ring,
        applyEffects: () => Promise.resolve(applied()),
        escalate: (families) => {
          escalated.push([...families].sort());
          return Promise.resolve();
        },
        metrics: NO_METRICS,
        logger,
      },
      { reason: 'run-id-changed', safeSinceMs: 0 },
    );

    // Assess: the families whose effects were dropped are made unreachable as a whole.
    expect(outcome.escalated).toBe(true);
    expect(escalated).toEqual([['product', 'promo']]);
  });

  it('does not escalate when what was evicted is older than the replay needs', async () => {
    let now = 0;
    let safeSince = 0;
    const ring = new RecentInvalidations({
      windowMs: 1_000,
      maxBytes: 2_000,
      now: () => now,
      safeSince: () => safeSince,
    });
    for (let i = 0; i < 100; i++)
      ring.record([effect('product', k.productFence(`A${String(i).padStart(9, '0')}`), [])]);
    now = 60_000;
    safeSince = 60_000;
    ring.record([effect('promo', k.promoFence('shoes'), [k.promo('shoes')])]);
    let escalations = 0;

    const outcome = await replayRecentInvalidations(
      {
        recent: ring,
        applyEffects: () => Promise.resolve(applied()),
        escalate: () => {
          escalations++;
          return Promise.resolve();
        },
        metrics: NO_METRICS,
        logger,
      },
      { reason: 'run-id-changed', safeSinceMs: safeSince },
    );

    expect(escalations).toBe(0);
    expect(outcome).toMatchObject({ replayed: 1, escalated: false });
  });
});
