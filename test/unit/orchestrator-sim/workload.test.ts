import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/origin-sim/deterministic-random.ts';
import { STORE_SECTIONS, Workload, ZipfSampler, asinOf } from '../../../src/orchestrator-sim/workload.ts';

describe('demo read mix', () => {
  it('draws Zipf ranks: the top 100 of 10,000 ASINs take about half the reads at skew 1', () => {
    const zipf = new ZipfSampler(10_000, 1.0, mulberry32(1));
    // H(100) / H(10,000) = 5.187 / 9.788
    expect(zipf.headShare(100)).toBeCloseTo(0.53, 2);
    let head = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) if (zipf.next() < 100) head++;
    expect(head / n).toBeGreaterThan(0.51);
    expect(head / n).toBeLessThan(0.55);
  });

  it('is uniform at skew 0, and rank 0 is the most read otherwise', () => {
    expect(new ZipfSampler(1_000, 0).headShare(100)).toBeCloseTo(0.1, 9);
    const zipf = new ZipfSampler(50, 1.2, mulberry32(3));
    const counts = new Array<number>(50).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const r = zipf.next();
      counts[r] = (counts[r] ?? 0) + 1;
    }
    expect(Math.max(...counts)).toBe(counts[0]);
    expect(() => new ZipfSampler(0, 1)).toThrow(RangeError);
    expect(() => new ZipfSampler(10, -1)).toThrow(RangeError);
  });

  it('mixes the families by their shares, with valid ids and dimensions', () => {
    const w = new Workload({ random: mulberry32(9), mix: { product: 2, promo: 1, reco: 1, review: 0 } });
    const seen = { product: 0, promo: 0, reco: 0, review: 0 };
    for (let i = 0; i < 8_000; i++) {
      const r = w.next();
      seen[r.family]++;
      if (r.family === 'product') expect(r.id).toMatch(/^B\d{9}$/);
      if (r.family === 'promo') expect(STORE_SECTIONS).toContain(r.id);
      if (r.family === 'reco') expect(r.dims.seedAsin).toMatch(/^B\d{9}$/);
      else expect(['en-US', 'ja-JP']).toContain(r.dims.locale);
    }
    expect(seen.review).toBe(0);
    expect(seen.product / 8_000).toBeCloseTo(0.5, 1);
    expect(seen.promo / 8_000).toBeCloseTo(0.25, 1);
    expect(asinOf(7)).toBe('B000000007');
  });
});
