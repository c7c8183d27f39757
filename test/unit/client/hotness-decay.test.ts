import { describe, expect, it } from 'vitest';
import { createSampler, decayedWeight, logAddExp, recordedScore } from '../../../src/client/hotness-decay.ts';
import { mulberry32 } from '../../../src/origin-sim/deterministic-random.ts';

const TAU = 3_600_000;
const T0 = Date.parse('2026-12-01T10:00:00Z');

/** Records `reads` reads of weight 1 at `atMs` into `score`. */
function readsAt(score: number | undefined, reads: number, atMs: number): number {
  let s = score;
  for (let i = 0; i < reads; i++) s = recordedScore(s, 1, atMs, TAU);
  return s ?? Number.NaN;
}

describe('decaying hotness score', () => {
  it('logAddExp is ln(e^a + e^b), also far beyond exp overflow', () => {
    expect(logAddExp(Math.log(2), Math.log(3))).toBeCloseTo(Math.log(5), 12);
    expect(logAddExp(1e6, 1e6)).toBeCloseTo(1e6 + Math.log(2), 6);
    expect(logAddExp(1e6, 0)).toBe(1e6);
  });

  it('counts reads: n reads now weigh n now', () => {
    const s = readsAt(undefined, 7, T0);
    expect(decayedWeight(s, T0, TAU)).toBeCloseTo(7, 9);
    // A weight-k sample stands for k reads.
    expect(decayedWeight(recordedScore(undefined, 16, T0, TAU), T0, TAU)).toBeCloseTo(16, 9);
  });

  it('decays by 1/e per tau (half-life tau ln 2)', () => {
    const s = readsAt(undefined, 100, T0);
    expect(decayedWeight(s, T0 + TAU, TAU)).toBeCloseTo(100 / Math.E, 6);
    expect(decayedWeight(s, T0 + TAU * Math.LN2, TAU)).toBeCloseTo(50, 6);
  });

  it('ranks a key read lately above one read more but long ago, by score alone', () => {
    const old = readsAt(undefined, 100, T0); // 100 reads, 3 tau ago: weight 100/e^3 ≈ 4.98
    const fresh = readsAt(undefined, 10, T0 + 3 * TAU); // 10 reads now
    expect(fresh).toBeGreaterThan(old);
    // Adding the old reads to a fresh key keeps the sum exact.
    const both = readsAt(old, 10, T0 + 3 * TAU);
    expect(decayedWeight(both, T0 + 3 * TAU, TAU)).toBeCloseTo(10 + 100 / Math.exp(3), 6);
  });

  it('keeps scores small and exact after years of time', () => {
    const years = T0 + 10 * 365 * 24 * TAU;
    const s = readsAt(readsAt(undefined, 3, years), 2, years);
    expect(Number.isFinite(s)).toBe(true);
    expect(decayedWeight(s, years, TAU)).toBeCloseTo(5, 6);
  });
});

describe('hotness sampler', () => {
  it('records 1 read in k with weight k: the total is an unbiased estimate of the reads', () => {
    const sampler = createSampler(16, mulberry32(42));
    let total = 0;
    let samples = 0;
    const weights = new Set<number>();
    const reads = 160_000;
    for (let i = 0; i < reads; i++) {
      const w = sampler.next();
      if (w > 0) samples++;
      total += w;
      weights.add(w);
    }
    expect([...weights].sort((a, b) => a - b)).toEqual([0, 16]);
    expect(samples).toBeGreaterThan(reads / 16 - 400);
    expect(samples).toBeLessThan(reads / 16 + 400);
    expect(Math.abs(total - reads) / reads).toBeLessThan(0.05);
  });

  it('records every read with k = 1, and rejects a k below 1', () => {
    const sampler = createSampler(1);
    expect([sampler.next(), sampler.next()]).toEqual([1, 1]);
    expect(() => createSampler(0)).toThrow(RangeError);
    expect(() => createSampler(2.5)).toThrow(RangeError);
  });
});
