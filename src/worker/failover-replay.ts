/**
 * Rule 4: replication is asynchronous and WAIT is best-effort, so a failover can lose
 * deletes the old primary had acknowledged. When the connection reports a NEW primary, the
 * invalidations of the last few seconds are applied again (idempotent: UNLINK of a missing
 * key and one more fence bump are harmless), retried until they are confirmed.
 */
import type { Logger } from 'pino';
import type { InvalidationPlan } from '../core/invalidation-plan.ts';
import type { EffectsResult } from '../adapters/redis/invalidation-effects.ts';
import type { RecentInvalidations } from '../adapters/redis/recent-invalidations.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface FailoverReplayDeps {
  readonly recent: RecentInvalidations;
  readonly applyEffects: (plan: InvalidationPlan) => Promise<EffectsResult>;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  /** Gives up after this many attempts (the window will have passed by then). */
  readonly maxAttempts?: number;
  readonly retryDelayMs?: number;
}

/** Re-applies the recent window; resolves with the number of effects replayed (0 if none). */
export async function replayRecentInvalidations(deps: FailoverReplayDeps, reason: string): Promise<number> {
  const incomplete = deps.recent.evictedInWindow > 0;
  const plan = deps.recent.replayPlan();
  if (plan.effects.length === 0) return 0;
  if (incomplete)
    deps.logger.error({ reason }, 'replay ring overflowed inside the window; some deletes may be lost');
  const attempts = deps.maxAttempts ?? 20;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const result = await deps.applyEffects(plan);
    if (result.ok) {
      deps.metrics.failoverReplayed(plan.effects.length);
      deps.logger.warn(
        { reason, effects: plan.effects.length, attempt },
        'replayed recent invalidations after failover',
      );
      return plan.effects.length;
    }
    // A shortfall still applied the deletes on the new primary: good enough for a replay.
    if (result.error.kind === 'wait-shortfall') {
      deps.metrics.failoverReplayed(plan.effects.length);
      return plan.effects.length;
    }
    await new Promise((r) => setTimeout(r, deps.retryDelayMs ?? 250));
  }
  deps.logger.error({ reason, effects: plan.effects.length }, 'failover replay did not complete');
  return 0;
}
