import { describe, expect, it } from 'vitest';
import { LagHistograms, OTHER_TENANTS } from '../../../src/metrics/lag-histograms.ts';
import { stageLags } from '../../../src/metrics/lag-stages.ts';
import type { EventTimeline } from '../../../src/metrics/worker-metrics.ts';
import { exactPercentile, seededRandom } from './seeded-random.ts';

const SAMPLES = 100_000;

describe.each([
  {
    name: 'uniform 1..5000 ms',
    draw: (r: () => number) => Math.round(1 + r() * 4999),
  },
  {
    name: 'exponential, mean 200 ms',
    draw: (r: () => number) => Math.round(-200 * Math.log(1 - r())),
  },
])('percentiles of a known distribution: $name', ({ draw }) => {
  it('come back within 1% of the exact ones', () => {
    // Prepare
    const random = seededRandom(42);
    const values = Array.from({ length: SAMPLES }, () => draw(random));
    const lag = new LagHistograms({ now: () => 1_000_000 });
    // Act
    for (const v of values) lag.record('product', 'origin_to_delete', v);
    // Assess
    const sorted = [...values].sort((a, b) => a - b);
    const total = lag.totalStats('product', 'origin_to_delete');
    const window = lag.windowStats('product', 'origin_to_delete', 60_000);
    expect(total.count).toBe(SAMPLES);
    expect(window.count).toBe(SAMPLES);
    for (const [key, p] of [
      ['p50', 50],
      ['p90', 90],
      ['p99', 99],
      ['p999', 99.9],
    ] as const) {
      const exact = exactPercentile(sorted, p);
      expect(Math.abs(total[key] - exact)).toBeLessThanOrEqual(Math.max(1, exact * 0.01));
      expect(window[key]).toBe(total[key]);
    }
    expect(total.max).toBeGreaterThanOrEqual(sorted.at(-1) ?? 0);
    expect(total.max).toBeLessThanOrEqual((sorted.at(-1) ?? 0) * 1.001 + 1);
  });
});

describe('rolling window', () => {
  it('rotates slices with the clock and keeps cumulative totals', () => {
    // Prepare
    let now = 10_000_000;
    const lag = new LagHistograms({ now: () => now, sliceMs: 10_000, maxWindowMs: 60_000 });
    // Act: 100 ms lags now, 900 ms lags 30 s later
    for (let i = 0; i < 10; i += 1) lag.record('promo', 'origin_to_delete', 100);
    now += 30_000;
    for (let i = 0; i < 10; i += 1) lag.record('promo', 'origin_to_delete', 900);
    // Assess
    expect(lag.windowStats('promo', 'origin_to_delete', 10_000)).toMatchObject({ count: 10, p50: 900 });
    expect(lag.windowStats('promo', 'origin_to_delete', 60_000)).toMatchObject({
      count: 20,
      p50: 100,
      max: 900,
    });
    now += 40_000; // the first batch is now 70 s old
    expect(lag.windowStats('promo', 'origin_to_delete', 60_000)).toMatchObject({ count: 10, p50: 900 });
    now += 40_000; // everything out of the window
    expect(lag.windowStats('promo', 'origin_to_delete').count).toBe(0);
    expect(lag.totalStats('promo', 'origin_to_delete')).toMatchObject({ count: 20, max: 900 });
    expect(lag.effectiveWindowMs(25_000)).toBe(30_000);
    expect(lag.effectiveWindowMs(600_000)).toBe(60_000);
  });

  it.each([
    ['in the same slice', 1_000],
    ['once the next slice has just begun', 4_999],
    ['exactly 5 s later', 5_000],
  ])('a 5 s window holds a sample recorded %s', (_when, elapsedMs) => {
    // Prepare: 5 s slices; one sample 1 ms into a slice
    let now = 10_000_001;
    const lag = new LagHistograms({ now: () => now, sliceMs: 5_000, maxWindowMs: 60_000 });
    lag.record('product', 'origin_to_delete', 250);
    // Act
    now += elapsedMs;
    const stats = lag.windowStats('product', 'origin_to_delete', 5_000);
    const covered = lag.effectiveWindowMs(5_000);
    // Assess: a sample inside the window is in it; the window covers at least what was asked
    expect(stats.count).toBe(1);
    expect(covered).toBeGreaterThanOrEqual(5_000);
    expect(covered).toBeLessThan(10_000);
  });

  it('a 60 s window holds samples 60 s old and drops them a slice later', () => {
    // Prepare
    let now = 20_002_500;
    const lag = new LagHistograms({ now: () => now, sliceMs: 5_000, maxWindowMs: 60_000 });
    lag.record('reco', 'origin_to_delete', 90);
    // Act + Assess
    now += 60_000;
    expect(lag.windowStats('reco', 'origin_to_delete', 60_000).count).toBe(1);
    now += 5_000;
    expect(lag.windowStats('reco', 'origin_to_delete', 60_000).count).toBe(0);
  });
});

describe('clamping', () => {
  it('records negative lags as 0 and absurd ones as the maximum, and counts them', () => {
    const lag = new LagHistograms();
    const clampedSeen: string[] = [];
    lag.onClamp((stage, reason) => clampedSeen.push(`${stage}:${reason}`));
    lag.record('product', 'origin_to_delete', -250);
    lag.record('product', 'origin_to_delete', 10 * 3_600_000);
    lag.record('product', 'origin_to_delete', Number.NaN);
    lag.record('product', 'origin_to_delete', 42);
    expect(lag.totalStats('product', 'origin_to_delete')).toMatchObject({ count: 3, min: 0 });
    expect(lag.totalStats('product', 'origin_to_delete').max).toBeGreaterThanOrEqual(3_600_000);
    expect(lag.clamped()).toEqual([
      { stage: 'origin_to_delete', counts: { negative: 1, tooLarge: 1, invalid: 1 } },
    ]);
    expect(clampedSeen).toEqual([
      'origin_to_delete:negative',
      'origin_to_delete:tooLarge',
      'origin_to_delete:invalid',
    ]);
  });
});

describe('timelines', () => {
  const timeline: EventTimeline = {
    family: 'product',
    tenant: 't1',
    queue: 'catalog',
    originAtMs: 1_000,
    snsPublishedAtMs: 1_020,
    sqsSentAtMs: 1_030,
    receivedAtMs: 1_100,
    deleteConfirmedAtMs: 1_150,
    broadcastAtMs: 1_160,
  };

  it('yields one lag per stage it has both ends of', () => {
    expect(stageLags(timeline)).toEqual([
      { stage: 'origin_to_delete', lagMs: 150 },
      { stage: 'origin_to_broadcast', lagMs: 160 },
      { stage: 'publish_to_delete', lagMs: 130 },
      { stage: 'sent_to_delete', lagMs: 120 },
      { stage: 'receive_to_delete', lagMs: 50 },
    ]);
    const partial = {
      ...timeline,
      snsPublishedAtMs: undefined,
      sqsSentAtMs: undefined,
      broadcastAtMs: undefined,
    };
    expect(stageLags(partial).map((l) => l.stage)).toEqual(['origin_to_delete', 'receive_to_delete']);
  });

  it('tracks tenants for the primary stage, folding the long tail into _other', () => {
    const lag = new LagHistograms({ maxTenantsPerFamily: 2 });
    for (const tenant of ['a', 'b', 'c', 'd']) lag.recordTimeline({ ...timeline, tenant });
    const tenants = lag.tenantWindowStats().map((t) => [t.tenant, t.stats.count]);
    expect(tenants).toEqual([
      [OTHER_TENANTS, 2],
      ['a', 1],
      ['b', 1],
    ]);
    expect(lag.series().map((s) => s.stage)).toEqual([
      'origin_to_delete',
      'origin_to_broadcast',
      'publish_to_delete',
      'sent_to_delete',
      'receive_to_delete',
    ]);
  });
});
