/**
 * Retries of one key within a run: bounded attempts, exponential back-off with full jitter
 * (so the retries of a burst of failures do not come back together). Pure.
 */

/** How often and how patiently one key is tried within a run. */
export interface KeyRetryPolicy {
  /** Attempts per key, the first one included (1 = no retry). */
  readonly maxAttempts: number;
  /** Ceiling of the first back-off, ms. */
  readonly baseDelayMs: number;
  /** Ceiling of any back-off, ms. */
  readonly maxDelayMs: number;
}

/** Default: 3 attempts, back-off up to 200 ms then 400 ms. */
export const DEFAULT_KEY_RETRY: KeyRetryPolicy = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
});

/** Delay before attempt `attempt + 1` after attempt `attempt` (1-based) failed. */
export function retryDelayMs(
  attempt: number,
  policy: KeyRetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30),
  );
  return Math.floor(ceiling * Math.min(Math.max(random(), 0), 1));
}
