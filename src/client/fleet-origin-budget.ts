/**
 * Read side (src/client/): the fleet-wide origin budget (decision 0022). Every origin call of
 * the cache client (a miss, a background refresh, the pipeline guard's refetch) takes one
 * token of its family's budget first. The budget is shared by every client process of the
 * fleet through Redis (rate-limiter-flexible's RateLimiterRedis: one counter key per family,
 * `<ns>:origin-budget:<family>`, INCR + expiry in one script), with an in-process
 * RateLimiterMemory as its insurance when Redis does not answer (the budget split by the
 * expected number of processes).
 *
 * Sizing: the drills (and an origin's own limiter) count calls in ANY one-second window. A
 * fixed one-second window of P points lets 2P calls into one sliding second (P at the end of
 * one window, P at the start of the next). RateLimiterRedis windows are whole seconds, so the
 * counter key carries a slot of SLOT_MS = 250 ms of the wall clock (`<family>:<slot>`, kept
 * for a second): a sliding second overlaps at most 5 slots, so P = floor(B / 5) per slot keeps
 * any second at or under B, and the sustained rate is 4P, about 0.8 B (a whole-second window
 * would have allowed only B / 2). Slots come from each process's clock: processes whose
 * clocks disagree by more than a few ms can put one slot more into a second.
 */
import type { Cluster, Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ConfigError } from '../core/errors.ts';
import type { CachedFamily } from '../core/key-builder.ts';

export interface OriginBudgetOptions {
  /** Origin calls per second for the whole fleet, in any one-second window, per family (at least 5). */
  readonly perSecond: Partial<Record<CachedFamily, number>>;
  /** Client processes expected to share the budget: the in-process fallback's split. Default 2. */
  readonly expectedProcesses?: number;
  /** Longest wait for a token of a read with nothing to serve instead (promo, a cold key). Default 500 ms. */
  readonly maxWaitMs?: number;
}

export const ORIGIN_BUDGET_DEFAULTS = { expectedProcesses: 2, maxWaitMs: 500 } as const;

export type TokenAnswer = { readonly ok: true } | { readonly ok: false; readonly retryInMs: number };

/** The budget's time slot: a sliding second overlaps at most 1000 / SLOT_MS + 1 of them. */
export const SLOT_MS = 250;
const SLOTS_PER_SECOND_MAX = 1_000 / SLOT_MS + 1;

/** Points of one slot for a budget of `perSecond` calls in any sliding second. */
export function pointsPerSlot(perSecond: number): number {
  return Math.floor(perSecond / SLOTS_PER_SECOND_MAX);
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
      const points = pointsPerSlot(perSecond);
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
    const now = Date.now();
    const slot = Math.floor(now / SLOT_MS);
    try {
      // While the client's Redis breaker is open the shared counter is not even tried.
      await (this.#redisUsable() ? limiter.shared : limiter.local).consume(`${family}:${slot}`, 1);
      return { ok: true };
    } catch (error) {
      // The slot is spent: the next one starts at its boundary.
      if (error instanceof RateLimiterRes)
        return { ok: false, retryInMs: Math.max(1, (slot + 1) * SLOT_MS - now) };
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
    else if (!(Number.isInteger(v) && v >= SLOTS_PER_SECOND_MAX))
      problems.push({
        variable: `originBudget.perSecond.${family}`,
        message: `must be an integer >= ${SLOTS_PER_SECOND_MAX} (calls/s in any one-second window)`,
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
