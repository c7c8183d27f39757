/**
 * What the entry (`invalidation-effects.ts`) hands to each Redis path, node or cluster, and
 * what a path reports back: raw facts, which the entry turns into the tagged result (the
 * WAIT verdict included), so the two paths cannot disagree on what a result means.
 */
import type { EntityEffect } from '../../core/invalidation-plan.ts';
import type { FenceKey } from '../../core/identifiers.ts';
import type { PublishReply } from './lua-scripts.ts';

/** WAIT settings with their defaults applied. `replicas` 0: never WAIT. */
export interface WaitSettings {
  readonly replicas: number;
  readonly timeoutMs: number;
}

/** The clock of one call: durations are measured from `started`. */
export interface CallClock {
  readonly now: () => number;
  readonly started: number;
}

/** What a path observed in Redis; it throws on any error instead (the entry catches). */
export interface PathOutcome {
  /** Value keys that existed and were unlinked. */
  readonly deleted: number;
  /** Fence (or generation) value after the bump, per fence key. */
  readonly fenceValues: ReadonlyMap<FenceKey, number>;
  /** Reply of the broadcast, null when the plan had none. */
  readonly publish: PublishReply | null;
  /** Replicas that confirmed (the minimum over nodes in cluster mode), null when no WAIT ran. */
  readonly replicasAcked: number | null;
  /** From the call to the moment every delete was confirmed (including WAIT). */
  readonly effectsMs: number;
}

/** True when these effects must be confirmed by a replica before the batch is acked. */
export function needsWait(effects: readonly EntityEffect[], planCritical: boolean): boolean {
  return effects.length > 0 && (planCritical || effects.some((e) => e.critical));
}

/** Throws the first command error: one failed command fails the whole plan. */
export function unwrap(replies: [error: Error | null, result: unknown][] | null): unknown[] {
  if (replies === null) throw new Error('pipeline discarded');
  return replies.map(([error, result]) => {
    if (error) throw error;
    return result;
  });
}
