/** The outcome of one `handleTick`, and what the worker does with its message. */

/** Why a tick did or did not lead to a (full) run. */
export type RefreshStatus =
  /** Every id of the window is settled (written, refused, missing or failed after retries). */
  | 'completed'
  /** Another run holds the window's lock (a duplicate tick): this tick is redundant. */
  | 'skipped-duplicate'
  /** The window was already completed (a redelivered or duplicate tick). */
  | 'skipped-done'
  /** The tick is older than `maxTickAgeMs`: a newer window supersedes it. */
  | 'skipped-stale'
  /** Stopped early (shutdown signal, or the lock was lost); the checkpoint holds the progress. */
  | 'aborted';

/** Result of one tick. Counts are of ids (ASINs); each written id writes one value per locale. */
export interface RefreshResult {
  readonly status: RefreshStatus;
  /** The window, e.g. `2026-11-22T10Z`. */
  readonly window: string;
  /** Ids in the window's list. */
  readonly total: number;
  /** Ids written by this run. */
  readonly written: number;
  /** Ids that failed every attempt in this run (retried by a resumed run of the window, if any). */
  readonly failed: number;
  /** Ids whose write the fence refused (an invalidation or a newer version won). */
  readonly refused: number;
  /** Ids the origin does not know (404); nothing cached. */
  readonly missing: number;
  /** Ids settled by an earlier run of the same window (checkpoint). */
  readonly skippedAlreadyDone: number;
  /** Origin calls made by this run (retries included). */
  readonly originCalls: number;
  readonly durationMs: number;
  /** Up to 100 failed ids with their error code. */
  readonly failures: readonly { readonly id: string; readonly code: string }[];
  /** For `aborted`: `shutdown` (the caller's signal) or `lock-lost`. */
  readonly abortReason?: 'shutdown' | 'lock-lost';
}

/**
 * Whether the worker may delete the tick's message. An aborted run must NOT be acked: the
 * message comes back (visibility timeout) and its next delivery resumes from the checkpoint.
 */
export function isAckable(result: RefreshResult): boolean {
  return result.status !== 'aborted';
}
