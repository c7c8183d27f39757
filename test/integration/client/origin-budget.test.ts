/**
 * The fleet-wide origin budget (decision 0022) across two client instances on one Redis (the
 * shared Sentinel pair, a test namespace). The adversary: both clients fire waves of cold
 * reads of distinct keys, every 50 ms for 3 s, far more than the budget. Every origin call is
 * timestamped; no sliding one-second window may hold more than the budget, and the budget must
 * still be used (a limiter that refuses everything would pass the first check). A call is
 * timed at its token's grant (when take() chose the slot), and every origin call had one; the
 * clients' Redis deadline is 2 s and their breaker must not open, so the grants are the shared
 * counter's and not the in-process insurance's (which adds its own share per slot).
 */
import { describe, expect, it, vi } from 'vitest';
import { OriginUnavailableError } from '../../../src/client/client-errors.ts';
import { FleetOriginBudget } from '../../../src/client/fleet-origin-budget.ts';
import { sentinelClientWorld, sleep } from './client-test-kit.ts';
import {
  LOAD_TOLERANT_REDIS_TIMEOUT_MS,
  redisBreakerWatch,
  stallMeter,
} from '../../support/load-tolerance.ts';

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
    // Each granted token, at the moment its slot was chosen (take() reads the clock first, then
    // asks Redis): the budget's own time. A loader call follows its grant at once, unless this
    // process stalls while the grant is on its way back from Redis, and then the calls of slots
    // before the stall land together with those after it (a 200 ms stall showed 60 in a second).
    const grants: number[] = [];
    const take = FleetOriginBudget.prototype.take; // eslint-disable-line @typescript-eslint/unbound-method
    const spy = vi.spyOn(FleetOriginBudget.prototype, 'take').mockImplementation(async function (
      this: FleetOriginBudget,
      family,
    ) {
      const decidedAt = Date.now();
      const answer = await take.call(this, family);
      if (answer.ok) grants.push(decidedAt);
      return answer;
    });
    const loader = ({ id }: { id: string }) => {
      calls.push(performance.now());
      return Promise.resolve({ data: { id }, version: 1 });
    };
    const watches = [redisBreakerWatch(), redisBreakerWatch()];
    const options = {
      loaders: { product: loader },
      redisTimeoutMs: LOAD_TOLERANT_REDIS_TIMEOUT_MS,
      originBudget: { perSecond: { product: BUDGET }, expectedProcesses: 2, maxWaitMs: 300 },
    };
    const clients = await Promise.all(watches.map((w) => s.world.client({ ...options, logger: w.logger })));
    let n = 0;
    const outcomes = { ok: 0, budget: 0, other: 0 };

    // Act: waves of 20 cold reads per client every 50 ms for 3 s
    const reads: Promise<void>[] = [];
    const stalls = stallMeter();
    const actFrom = performance.now();
    const until = actFrom + 3_000;
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
    const actTo = performance.now();
    await Promise.all(reads);
    stalls.stop();
    spy.mockRestore();

    // Assess
    calls.sort((a, b) => a - b);
    grants.sort((a, b) => a - b);
    const worst = peak(grants, 1_000);
    // The budget can only be used while this process runs: its stalls during the waves take
    // slots away (no read can ask for them).
    const runningMs = 3_000 - stalls.within(actFrom, actTo);
    console.log(
      `origin budget ${BUDGET}/s: ${n} reads, ${calls.length} origin calls, peak ${worst} grants in any second` +
        ` (${peak(calls, 1_000)} loader calls), stalled ${(3_000 - runningMs).toFixed(0)} ms` +
        ` (longest ${stalls.longest.toFixed(0)}); outcomes`,
      outcomes,
      `Redis breaker openings ${watches.map((w) => w.opened).join(', ')}`,
    );
    expect(watches.map((w) => w.opened)).toEqual([0, 0]); // the shared budget, not the insurance
    expect(worst).toBeLessThanOrEqual(BUDGET);
    expect(calls.length).toBe(grants.length); // no origin call without a token
    expect(calls.length).toBeGreaterThanOrEqual(Math.floor((0.6 * BUDGET * runningMs) / 1_000)); // the budget is used
    expect(outcomes.other).toBe(0);
    expect(outcomes.budget).toBeGreaterThan(0); // the surplus failed with the one error model
    expect(outcomes.ok).toBe(calls.length);
  });
});
