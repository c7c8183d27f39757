/**
 * Read side (src/client/): how stale a family's values may be served, per consistency class
 * (src/core/key-contract.ts). Pure: the client asks `freshnessOf` and `mayServeStale`.
 *
 * A value key holds one value with its store time; Redis expires it at the contract's TTL
 * plus jitter (the hard TTL). Before `softTtlMs` it is fresh. Between the soft and the hard
 * TTL it is stale: served at once while one background refresh runs (stale-while-revalidate),
 * when the family allows it. When the origin fails, a stale value no older than
 * `maxStaleAgeMs` may be served (fail-safe), when the family allows it. The stale copy IS the
 * value key: an invalidation UNLINKs it, so nothing stale survives an invalidation.
 *
 * Defaults from the seeds: promo ('strong-invalidation') is never served stale, and may not
 * opt in; product ('bounded-staleness'), reco and review ('eventual') may.
 */
import { ConfigError } from '../core/errors.ts';
import type { ConfigProblem } from '../core/errors.ts';
import { KEY_CONTRACT } from '../core/key-contract.ts';
import type { CachedFamily } from '../core/key-builder.ts';

/** The read-side families (price is never cached, so it has no entry). */
export const READ_FAMILIES: readonly CachedFamily[] = Object.freeze(['product', 'promo', 'reco', 'review']);

export interface ReadPolicy {
  /** Age after which a value is stale (a background refresh is due). At most the contract TTL. */
  readonly softTtlMs: number;
  /** Serve a stale value at once while one background refresh runs. */
  readonly staleWhileRevalidate: boolean;
  /** Serve a stale value when the origin fails or passes its soft timeout. */
  readonly failSafe: boolean;
  /** Oldest value fail-safe may serve (bounded by the hard TTL anyway: Redis drops it then). */
  readonly maxStaleAgeMs: number;
  /** TTL of a cached "not found". */
  readonly negativeTtlMs: number;
}

/** Fraction of the contract TTL after which a value is stale, for families that allow it. */
export const SOFT_TTL_FRACTION = 0.8;
/** TTL of a cached "not found". */
export const DEFAULT_NEGATIVE_TTL_MS = 15_000;

/** The default policy of a family, from its consistency class. */
export function defaultReadPolicy(family: CachedFamily): ReadPolicy {
  const spec = KEY_CONTRACT[family];
  const staleAllowed = spec.consistency !== 'strong-invalidation';
  return Object.freeze({
    softTtlMs: staleAllowed ? Math.round(spec.ttlMs * SOFT_TTL_FRACTION) : spec.ttlMs,
    staleWhileRevalidate: staleAllowed,
    failSafe: staleAllowed,
    maxStaleAgeMs: spec.ttlMs,
    negativeTtlMs: DEFAULT_NEGATIVE_TTL_MS,
  });
}

/**
 * Every family's policy: defaults with `overrides` applied, validated (every problem reported
 * together), frozen. A 'strong-invalidation' family cannot opt into stale reads.
 */
export function resolveReadPolicies(
  overrides: Partial<Record<CachedFamily, Partial<ReadPolicy>>> = {},
): Readonly<Record<CachedFamily, ReadPolicy>> {
  const problems: ConfigProblem[] = [];
  const out = {} as Record<CachedFamily, ReadPolicy>;
  for (const family of READ_FAMILIES) {
    const spec = KEY_CONTRACT[family];
    const p = { ...defaultReadPolicy(family), ...overrides[family] };
    const at = `readPolicy.${family}`;
    if (!(Number.isFinite(p.softTtlMs) && p.softTtlMs > 0 && p.softTtlMs <= spec.ttlMs))
      problems.push({
        variable: `${at}.softTtlMs`,
        message: `must be in (0, ${spec.ttlMs}] (the contract TTL)`,
      });
    if (!(Number.isFinite(p.maxStaleAgeMs) && p.maxStaleAgeMs >= 0))
      problems.push({ variable: `${at}.maxStaleAgeMs`, message: 'must be a non-negative number' });
    if (!(Number.isFinite(p.negativeTtlMs) && p.negativeTtlMs > 0 && p.negativeTtlMs <= spec.ttlMs))
      problems.push({ variable: `${at}.negativeTtlMs`, message: `must be in (0, ${spec.ttlMs}]` });
    if (
      spec.consistency === 'strong-invalidation' &&
      (p.staleWhileRevalidate || p.failSafe || p.softTtlMs < spec.ttlMs)
    )
      problems.push({
        variable: at,
        message: `${family} is 'strong-invalidation': never served stale (no staleWhileRevalidate, failSafe or shorter softTtlMs)`,
      });
    out[family] = Object.freeze(p);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out);
}

/** How a stored value stands at `nowMs`; a value of unknown age (written by a tool) is fresh. */
export function freshnessOf(
  storedAtMs: number | undefined,
  nowMs: number,
  policy: ReadPolicy,
): 'fresh' | 'stale' {
  if (storedAtMs === undefined) return 'fresh';
  return nowMs - storedAtMs < policy.softTtlMs ? 'fresh' : 'stale';
}

/** Whether a stale value of `ageMs` may be served for `why`. */
export function mayServeStale(policy: ReadPolicy, why: 'revalidate' | 'fail-safe', ageMs: number): boolean {
  if (why === 'revalidate') return policy.staleWhileRevalidate;
  return policy.failSafe && ageMs <= policy.maxStaleAgeMs;
}
