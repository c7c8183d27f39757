/**
 * Visibility back-off for messages whose effects could not be confirmed (Redis down, WAIT
 * shortfall): the message stays in SQS and comes back after a delay that grows with its
 * receive count, with full jitter so a recovering Redis is not hit by every message at once.
 */
export interface BackoffPolicy {
  /** Delay for the first retry, seconds. */
  readonly baseS: number;
  /** Upper bound, seconds (SQS allows up to 12 h). */
  readonly maxS: number;
}

/** Seconds to hide a message that was received `receiveCount` times (1 = first receive). */
export function visibilityBackoffS(
  receiveCount: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const attempt = Math.max(1, Math.floor(receiveCount));
  const ceiling = Math.min(policy.maxS, policy.baseS * 2 ** Math.min(attempt - 1, 30));
  // Full jitter, but never below the base: a retry sooner than that would just fail again.
  return Math.max(policy.baseS, Math.round(ceiling * random()));
}
