/**
 * Read side (src/client/): the fleet-wide origin budget (decision 0022). Every origin call of
 * the cache client (a miss, a background refresh, the pipeline guard's refetch) takes one
 * token of its family's budget first. The budget is shared by every client process of the
 * fleet through Redis (rate-limiter-flexible's RateLimiterRedis: one counter key per family,
 * `<ns>:origin-budget:<family>`, INCR + expiry in one script), with an in-process
 * RateLimiterMemory as its insurance when Redis does not answer (the budget split by the
 * expected number of processes).
 *
 * Sizing: the drills (and an origin's own limiter) count calls in ANY one-second window.
 * RateLimiterRedis counts in fixed windows of whole seconds (a window starts with its first
 * call), and two adjacent fixed windows of P points can put 2P calls into one sliding second.
 * So a budget of B calls/s gets P = floor(B / 2) points per one-second window: any sliding
 * second overlaps at most two windows, so it sees at most B calls. The price: the sustained
 * rate is capped at B / 2.
 */
import type { Cluster, Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ConfigError } from '../core/errors.ts';
import type { CachedFamily } from '../core/key-builder.ts';

export interface OriginBudgetOptions {
  /** Origin calls per second for the whole fleet, in any one-second window, per family (at least 2). */
  readonly perSecond: Partial<Record<CachedFamily, number>>;
  /** Client processes expected to share the budget: the in-process fallback's split. Default 2. */
  readonly expectedProcesses?: number;
  /** Longest wait for a token of a read with nothing to serve instead (promo, a cold key). Default 500 ms. */
  readonly maxWaitMs?: number;
}

export const ORIGIN_BUDGET_DEFAULTS = { expectedProcesses: 2, maxWaitMs: 500 } as const;

export type TokenAnswer = { readonly ok: true } | { readonly ok: false; readonly retryInMs: number };

/** Points of one fixed one-second window for a budget of `perSecond` in any sliding second. */
export function pointsPerWindow(perSecond: number): number {
  return Math.floor(perSecond / 2);
}

export class FleetOriginBudget {
  readonly maxWaitMs: number;
  readonly #limiters = new Map<CachedFamily, { shared: RateLimiterRedis; local: RateLimiterMemory }>();
  readonly #redisUsable: () => boolean;

  constructor(
    client: Redis | Cluster,
    namespace: string,
    options: OriginBudgetOptions,
    redisUsable: () => boolean = () => true,
  ) {
    validateBudget(options);
    this.maxWaitMs = options.maxWaitMs ?? ORIGIN_BUDGET_DEFAULTS.maxWaitMs;
    this.#redisUsable = redisUsable;
    const processes = options.expectedProcesses ?? ORIGIN_BUDGET_DEFAULTS.expectedProcesses;
    for (const [family, perSecond] of Object.entries(options.perSecond) as [CachedFamily, number][]) {
      const points = pointsPerWindow(perSecond);
      const local = new RateLimiterMemory({
        keyPrefix: `${namespace}:origin-budget-local`,
        points: Math.max(1, Math.floor(points / processes)),
        duration: 1,
      });
      const shared = new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `${namespace}:origin-budget`,
        points,
        duration: 1,
        rejectIfRedisNotReady: true,
        insuranceLimiter: local,
      });
      this.#limiters.set(family, { shared, local });
    }
  }

  /** True when `family` has a budget (no budget: every call goes through). */
  has(family: CachedFamily): boolean {
    return this.#limiters.has(family);
  }

  /** Takes one token of `family`'s budget now, or says when to try again. */
  async take(family: CachedFamily): Promise<TokenAnswer> {
    const limiter = this.#limiters.get(family);
    if (!limiter) return { ok: true };
    try {
      // While the client's Redis breaker is open the shared counter is not even tried.
      await (this.#redisUsable() ? limiter.shared : limiter.local).consume(family, 1);
      return { ok: true };
    } catch (error) {
      if (error instanceof RateLimiterRes) return { ok: false, retryInMs: Math.max(1, error.msBeforeNext) };
      // Neither Redis nor the insurance answered (should not happen: the insurance is memory).
      return { ok: false, retryInMs: 50 };
    }
  }
}

function validateBudget(o: OriginBudgetOptions): void {
  const problems: { variable: string; message: string }[] = [];
  for (const [family, v] of Object.entries(o.perSecond)) {
    if (!['product', 'promo', 'reco', 'review'].includes(family))
      problems.push({ variable: `originBudget.perSecond.${family}`, message: 'not a read-side family' });
    else if (!(Number.isInteger(v) && v >= 2))
      problems.push({
        variable: `originBudget.perSecond.${family}`,
        message: 'must be an integer >= 2 (calls/s in any one-second window)',
      });
  }
  const p = o.expectedProcesses;
  if (p !== undefined && !(Number.isInteger(p) && p >= 1))
    problems.push({ variable: 'originBudget.expectedProcesses', message: 'must be an integer >= 1' });
  const w = o.maxWaitMs;
  if (w !== undefined && !(Number.isFinite(w) && w >= 0))
    problems.push({ variable: 'originBudget.maxWaitMs', message: 'must be >= 0' });
  if (problems.length > 0) throw new ConfigError(problems);
}
