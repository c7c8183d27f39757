/**
 * The auditor's one judgement: is what a tier holds for an audited entity older than the
 * event says the truth is? Pure; the rules are the ones docs/auditor.md explains.
 *
 * - A value whose version is known to be comparable with the expected one is stale when it is
 *   lower (whatever its store time: a value written behind the fleet's back with an old
 *   version is stale even if it was written after the change).
 * - Otherwise (no expected version, or a cached "not found", version 0) a value is stale when
 *   it was stored before the change: it survived the invalidation. A value written after the
 *   invalidation went through a fenced fill whose origin read came after the change, so a
 *   store time after the change is never judged stale by this rule.
 * - A reco generation is stale when it was not bumped since the change: every bump is
 *   max(current + 1, the Redis clock in µs) (decision 0007), so after the invalidation the
 *   generation is at least the change's time in µs.
 * Clock skew between the origin and the readers (or Redis) is allowed for by `skewMs`.
 */

/** What one tier holds for one key. */
export type Observation =
  /** Nothing: consistent with any event. */
  | { readonly kind: 'absent' }
  /** A value in the client's frame (`<version>|<json>`), or an L1 entry. */
  | {
      readonly kind: 'value';
      readonly found: boolean;
      readonly version: number;
      /** Store time, ms since epoch, when the writer recorded it (the client's envelope `at`). */
      readonly storedAtMs?: number;
    }
  /** Something the client would not serve either (not a versioned value): not judged. */
  | { readonly kind: 'unreadable' }
  /** A reco user's generation (an integer about 16 digits long, a µs time or past it). */
  | { readonly kind: 'generation'; readonly value: number };

/** Why a value was judged stale. */
export type StaleRule = 'older-version' | 'stored-before-change' | 'generation-not-bumped';

export type Judgement =
  | { readonly stale: false }
  | { readonly stale: true; readonly rule: StaleRule; readonly storedVersion: number };

/** What the value is judged against. */
export interface Expectation {
  /** Origin time of the change, ms since epoch. */
  readonly originTimeMs: number;
  /** Lowest version a value may hold; undefined when no comparable version is known. */
  readonly minVersion?: number;
  /** Allowed clock skew between the origin and the writers, ms (>= 0). */
  readonly skewMs: number;
}

const FRESH: Judgement = { stale: false };

/** Judges one observation against the expectation. */
export function judge(observed: Observation, expected: Expectation): Judgement {
  const changedAt = expected.originTimeMs - expected.skewMs;
  switch (observed.kind) {
    case 'absent':
    case 'unreadable':
      return FRESH;
    case 'generation':
      return observed.value < changedAt * 1000
        ? { stale: true, rule: 'generation-not-bumped', storedVersion: observed.value }
        : FRESH;
    case 'value': {
      if (observed.found && expected.minVersion !== undefined) {
        return observed.version < expected.minVersion
          ? { stale: true, rule: 'older-version', storedVersion: observed.version }
          : FRESH;
      }
      return observed.storedAtMs !== undefined && observed.storedAtMs < changedAt
        ? { stale: true, rule: 'stored-before-change', storedVersion: observed.version }
        : FRESH;
    }
  }
}
