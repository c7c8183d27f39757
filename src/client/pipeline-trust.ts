/**
 * Read side (src/client/): when the caches may be trusted (decision 0022). Pure.
 *
 * A value filled at f and read at t is stale beyond the lag window W only if some change at
 * c <= t - W with c > f has not been applied yet (its invalidation would have deleted the
 * value). The pipeline watermark M says every change published before M has been applied
 * (a canary published at M travelled the same path and was applied after them; over a
 * standard SQS queue that is a proxy, not a proof: see the decision). So:
 *   - M >= t - W: no change at or before t - W is unapplied; every cached value is safe;
 *   - M <  t - W: only values filled at f >= t - W are safe (a missed change would be at
 *     c > f >= t - W, inside the window).
 * The client trusts L1 and L2 while `now - M <= W - margin`; otherwise it serves a cached
 * value only if it was filled within the last `W - margin`, and refetches any other. The
 * margin covers the canary interval (the watermark is up to one interval old when the
 * pipeline is healthy, so the rule flips before, not after, W is reached), clock skew between
 * the origin, the filler and this reader, and the time a read takes.
 */
import { ENVIRONMENT_DEFAULTS } from '../../infra/lib/config/environment-config.ts';
import type { CanaryTopic } from '../core/events/canary-events.ts';
import type { CachedFamily } from '../core/key-builder.ts';

/**
 * The lag window of each family: the dev environment's lag p99 SLO, the alarm threshold
 * (infra/lib/config/environment-config.ts) that the drills and scenarios judge by
 * (product/reco 2 s, promo 1 s, review 5 s).
 */
export const DEFAULT_LAG_WINDOW_MS: Readonly<Record<CachedFamily, number>> = Object.freeze({
  ...ENVIRONMENT_DEFAULTS.dev.slo.lagP99Ms,
});

/** The topics whose events invalidate each family (origin-sim event-factory, key contract). */
export const FAMILY_TOPICS: Readonly<Record<CachedFamily, readonly CanaryTopic[]>> = Object.freeze({
  product: ['catalog'],
  review: ['catalog'],
  promo: ['promotions'],
  reco: ['sessions'],
});

/**
 * The family's watermark: the oldest, over the topics feeding it, of the newest canary origin
 * time heard from each; undefined when one of them was never heard.
 */
export function familyWatermark(
  topics: readonly CanaryTopic[],
  newest: Readonly<Partial<Record<CanaryTopic, number>>>,
): number | undefined {
  let m: number | undefined;
  for (const topic of topics) {
    const t = newest[topic];
    if (t === undefined) return undefined;
    m = m === undefined ? t : Math.min(m, t);
  }
  return m;
}

export interface TrustInput {
  readonly nowMs: number;
  /** The family's watermark; undefined: never heard (not trusted). */
  readonly watermarkMs: number | undefined;
  readonly windowMs: number;
  readonly marginMs: number;
}

/** True while the pipeline proves delivery recently enough for every cached value to be served. */
export function cachesTrusted(i: TrustInput): boolean {
  return i.watermarkMs !== undefined && i.nowMs - i.watermarkMs <= i.windowMs - i.marginMs;
}

/**
 * Whether a cached value filled at `storedAtMs` may be served at `nowMs`: always while the
 * caches are trusted; otherwise only when it was filled within the last `windowMs - marginMs`.
 * A value of unknown fill time (written by another writer, no envelope) is never served
 * unverified.
 */
export function servableCached(
  trusted: boolean,
  storedAtMs: number | undefined,
  nowMs: number,
  windowMs: number,
  marginMs: number,
): boolean {
  if (trusted) return true;
  return storedAtMs !== undefined && nowMs - storedAtMs <= windowMs - marginMs;
}
