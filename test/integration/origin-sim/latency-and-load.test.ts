import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { CallStats } from '../../../src/origin-sim/call-stats.ts';
import { startSim } from './sim-harness.ts';
import type { SimHarness } from './sim-harness.ts';

interface Stats {
  calls: Record<string, number>;
  maxPerSecond: Record<string, number>;
  perKey?: Record<string, number>;
  since: string;
}

let h: SimHarness | undefined;
afterEach(async () => {
  await h?.sim.close();
  h = undefined;
});

describe('latency', () => {
  it('applies the seed latency times --latency-scale (reviews 200 ms × 0.25 ≈ 50 ms)', async () => {
    // Prepare
    h = await startSim({ config: { latencyScale: 0.25 } });
    await h.get('/healthz'); // warm the connection so it is not counted in the measurement

    // Act: three of each, so that one stall of a busy 2-core runner (a CI run once took
    // 60 ms for one price) is not read as the simulator's latency.
    const reviews: number[] = [];
    const prices: number[] = [];
    for (let i = 0; i < 3; i++) {
      reviews.push((await h.get('/reviews/B08X1YRSTR')).elapsedMs);
      prices.push((await h.get('/prices/B08X1YRSTR')).elapsedMs);
    }

    // Assess: timers never fire early, so every review takes its 50 ms; the fastest of each
    // shows the latency applied: reviews about 50 ms, prices (5 ms x 0.25) far below it.
    expect(Math.min(...reviews)).toBeGreaterThanOrEqual(48);
    expect(Math.min(...reviews)).toBeLessThan(50 + 100);
    expect(Math.min(...prices)).toBeLessThan(40);
  });

  it('takes per-endpoint overrides at start and at runtime', async () => {
    // Prepare
    h = await startSim({ config: { latencyMs: { products: 60 }, latencyScale: 1 } });
    await h.get('/healthz');
    // Act
    const atStart = await h.get('/products/B08X1YRSTR');
    await h.post('/_sim/config', { latencyMs: { products: 0 } });
    // The fastest of three, as above: one stall of a busy runner is not the simulator's latency.
    const afterPatch: number[] = [];
    for (let i = 0; i < 3; i++) afterPatch.push((await h.get('/products/B08X1YRSTR')).elapsedMs);
    // Assess
    expect(atStart.elapsedMs).toBeGreaterThanOrEqual(58);
    expect(Math.min(...afterPatch)).toBeLessThan(40);
  });
});

describe('load counters', () => {
  it('counts a burst of N concurrent calls: calls, perKey and maxPerSecond = N', async () => {
    // Prepare
    h = await startSim({ config: { latencyScale: 0.05 } });
    const harness = h;
    const asins = ['B000000001', 'B000000002', 'B000000003', 'B000000004'];

    // Act
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => harness.get(`/reviews/${asins[i % asins.length] ?? ''}`)),
    );
    await harness.get('/products/B000000001');
    const withKeys = (await harness.get('/_sim/stats?keys=1')).body as Stats;
    const withoutKeys = (await harness.get('/_sim/stats')).body as Stats;

    // Assess
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(withKeys.calls).toEqual({
      products: 1,
      promotions: 0,
      recommendations: 0,
      reviews: 20,
      prices: 0,
    });
    expect(withKeys.maxPerSecond).toMatchObject({ reviews: 20, products: 1, prices: 0 });
    expect(withKeys.perKey).toEqual({
      'reviews:B000000001': 5,
      'reviews:B000000002': 5,
      'reviews:B000000003': 5,
      'reviews:B000000004': 5,
      'products:B000000001': 1,
    });
    expect(withoutKeys.perKey).toBeUndefined();
  });

  it('maxPerSecond is the peak of a sliding one-second window, not the total', async () => {
    // Prepare
    h = await startSim({ config: { latencyScale: 0 } });
    const harness = h;
    const burst = (n: number) =>
      Promise.all(Array.from({ length: n }, () => harness.get('/reviews/B0WINDOW01')));

    // Act: two bursts of 5 more than a second apart, then one of 7
    await burst(5);
    await sleep(1100);
    await burst(5);
    const afterTwo = (await harness.get('/_sim/stats')).body as Stats;
    await burst(7);
    const afterThree = (await harness.get('/_sim/stats')).body as Stats;

    // Assess: the second and third bursts share a window (5 + 7)
    expect(afterTwo.calls.reviews).toBe(10);
    expect(afterTwo.maxPerSecond.reviews).toBe(5);
    expect(afterThree.maxPerSecond.reviews).toBe(12);
  });

  it('reset clears every counter and moves since', async () => {
    // Prepare
    h = await startSim({ config: { latencyScale: 0 } });
    await h.get('/promotions/books');
    const before = (await h.get('/_sim/stats')).body as Stats;
    await sleep(5);
    // Act
    const reset = await h.post('/_sim/reset');
    const after = (await h.get('/_sim/stats?keys=1')).body as Stats;
    // Assess
    expect(reset.status).toBe(200);
    expect(before.calls.promotions).toBe(1);
    expect(Object.values(after.calls).every((n) => n === 0)).toBe(true);
    expect(Object.values(after.maxPerSecond).every((n) => n === 0)).toBe(true);
    expect(after.perKey).toEqual({});
    expect(Date.parse(after.since)).toBeGreaterThan(Date.parse(before.since));
  });

  it('failRate 0.1 answers exactly every tenth call with 503, and still counts it', async () => {
    // Prepare
    h = await startSim({ config: { latencyScale: 0 } });
    await h.post('/_sim/config', { failRate: { reviews: 0.1 } });

    // Act: sequential, so "the n-th call" is well defined
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await h.get('/reviews/B0FAILURE1')).status);
    const products = await h.get('/products/B0FAILURE1');
    const stats = (await h.get('/_sim/stats')).body as Stats;

    // Assess
    const failed = statuses.flatMap((s, i) => (s === 503 ? [i + 1] : []));
    expect(failed).toEqual([10, 20, 30]);
    expect(statuses.filter((s) => s === 200)).toHaveLength(27);
    expect(products.status).toBe(200);
    expect(stats.calls.reviews).toBe(30);
  });
});

describe('CallStats window (injected clock)', () => {
  it.each([
    // [start times in ms, expected max per second]
    [[0, 999], 2],
    [[0, 1000], 1], // a call exactly one second older has left the window
    [[0, 500, 1400, 1499, 1500], 3],
    [[0, 100, 200, 1150, 1250, 2100, 2200, 2300, 2400], 4], // (1400, 2400] holds the last four
  ])('starts %j give maxPerSecond %i', (starts, expected) => {
    // Prepare
    let now = 0;
    const stats = new CallStats({ monotonicNow: () => now });
    // Act
    for (const t of starts) {
      now = t;
      stats.record('reviews', 'B000000001');
    }
    // Assess
    expect(stats.snapshot().maxPerSecond.reviews).toBe(expected);
    expect(stats.snapshot().calls.reviews).toBe(starts.length);
  });

  it('bounds perKey and says when it truncated', () => {
    const stats = new CallStats({ maxTrackedKeys: 2 });
    for (const key of ['A', 'B', 'C', 'A']) stats.record('products', key);
    expect(stats.snapshot(true)).toMatchObject({
      perKey: { 'products:A': 2, 'products:B': 1 },
      perKeyTruncated: true,
      calls: { products: 4 },
    });
  });
});
