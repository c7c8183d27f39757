/**
 * The fleet-wide origin budget (decision 0022) across two client instances on one Redis (the
 * shared Sentinel pair, a test namespace). The adversary: both clients fire waves of cold
 * reads of distinct keys, every 50 ms for 3 s, far more than the budget. Every origin call is
 * timestamped; no sliding one-second window may hold more than the budget, and the budget must
 * still be used (a limiter that refuses everything would pass the first check).
 */
import { describe, expect, it } from 'vitest';
import { OriginUnavailableError } from '../../../src/client/client-errors.ts';
import { sentinelClientWorld, sleep } from './client-test-kit.ts';

const BUDGET = 50;

/** The most timestamps in any window of `windowMs` (sorted input). */
function peak(ts: readonly number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < ts.length; hi++) {
    while (ts[hi]! - ts[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe('origin budget', () => {
  const s = sentinelClientWorld();

  it('holds across two clients under a burst: no sliding second over the budget', async () => {
    // Prepare
    const calls: number[] = [];
    const loader = ({ id }: { id: string }) => {
      calls.push(performance.now());
      return Promise.resolve({ data: { id }, version: 1 });
    };
    const options = {
      loaders: { product: loader },
      originBudget: { perSecond: { product: BUDGET }, expectedProcesses: 2, maxWaitMs: 300 },
    };
    const clients = [await s.world.client(options), await s.world.client(options)];
    let n = 0;
    const outcomes = { ok: 0, budget: 0, other: 0 };

    // Act: waves of 20 cold reads per client every 50 ms for 3 s
    const reads: Promise<void>[] = [];
    const until = performance.now() + 3_000;
    while (performance.now() < until) {
      for (const c of clients)
        for (let i = 0; i < 20; i++) {
          const id = `B${String(n++).padStart(9, '0')}`;
          reads.push(
            c.get('product', id).then(
              () => void outcomes.ok++,
              (e: unknown) =>
                void (e instanceof OriginUnavailableError && e.reason === 'budget-exhausted'
                  ? outcomes.budget++
                  : outcomes.other++),
            ),
          );
        }
      await sleep(50);
    }
    await Promise.all(reads);

    // Assess
    calls.sort((a, b) => a - b);
    const worst = peak(calls, 1_000);
    console.log(
      `origin budget ${BUDGET}/s: ${n} reads, ${calls.length} origin calls, peak ${worst} in any second; outcomes`,
      outcomes,
    );
    expect(worst).toBeLessThanOrEqual(BUDGET);
    expect(calls.length).toBeGreaterThanOrEqual(Math.floor(0.6 * BUDGET * 3)); // the budget is used
    expect(outcomes.other).toBe(0);
    expect(outcomes.budget).toBeGreaterThan(0); // the surplus failed with the one error model
    expect(outcomes.ok).toBe(calls.length);
  });
});
