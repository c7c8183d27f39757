/**
 * The origin's budget: how many calls may run at once and how many may START per second.
 * Enforced by one p-queue per run (concurrency + a strict sliding window), never by hand.
 *
 * The origin measures its load where calls arrive, not where we start them; network jitter
 * can bunch two calls started 1,000 ms apart into one of its one-second windows. The window
 * is therefore a little longer than a second (RATE_GUARD_MS), which costs ~2.5 % of throughput
 * and keeps the origin's own measurement under the budget.
 */
import PQueue from 'p-queue';
import type { ConfigProblem } from '../core/errors.ts';

/** Budget of one origin for one job. */
export interface OriginBudget {
  /** Calls in flight at most. */
  readonly concurrency: number;
  /** Calls started per second at most, as the origin measures it. */
  readonly ratePerSecond: number;
}

/** Default budget (warm-up CLI and refresher): 50 calls/s, 16 in flight. */
export const DEFAULT_BUDGET: OriginBudget = Object.freeze({ concurrency: 16, ratePerSecond: 50 });
/** Bounds accepted for a budget. */
export const MAX_CONCURRENCY = 1_024;
export const MAX_RATE_PER_SECOND = 100_000;
/** Extra length of the rate window, ms (see the header). */
export const RATE_GUARD_MS = 25;

/** Every problem of `budget`, empty when valid. */
export function budgetProblems(budget: OriginBudget, prefix = 'limits'): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { concurrency, ratePerSecond } = budget;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY)
    problems.push({ variable: `${prefix}.concurrency`, message: `must be an integer from 1 to ${MAX_CONCURRENCY}` });
  if (!Number.isInteger(ratePerSecond) || ratePerSecond < 1 || ratePerSecond > MAX_RATE_PER_SECOND)
    problems.push({
      variable: `${prefix}.ratePerSecond`,
      message: `must be an integer from 1 to ${MAX_RATE_PER_SECOND}`,
    });
  return problems;
}

/** A queue that admits origin calls within `budget`. */
export function createBudgetQueue(budget: OriginBudget): PQueue {
  return new PQueue({
    concurrency: budget.concurrency,
    intervalCap: budget.ratePerSecond,
    interval: 1_000 + RATE_GUARD_MS,
    strict: true,
  });
}
