/**
 * Rule 4: replication is asynchronous and WAIT is best-effort, so a failover can lose
 * deletes the old primary had acknowledged. When the connection reports a NEW primary, every
 * effect confirmed since `safeSinceMs - window` is applied again (idempotent: UNLINK of a
 * missing key and one more fence bump are harmless), retried until it is confirmed.
 *
 * `safeSinceMs` is the last moment the worker knew its writes were on a replica, so the
 * replay reaches back to the moment of loss however long detection took: ElastiCache takes
 * tens of seconds to detect and promote, a window measured back from detection would be
 * empty (rule 10).
 *
 * When the ring had to drop effects the replay needs (a burst larger than its byte cap), a
 * replay cannot be complete, so it escalates: `escalate` makes every value of the dropped
 * families unreachable (adapters/redis/family-purge.ts), and the partial replay still runs.
 */
import type { Logger } from 'pino';
import type { FamilyName, InvalidationPlan } from '../core/invalidation-plan.ts';
import type { EffectsResult } from '../adapters/redis/invalidation-effects.ts';
import type { RecentInvalidations } from './recent-invalidations.ts';
import type { WorkerMetrics } from '../metrics/worker-metrics.ts';

export interface FailoverReplayDeps {
  readonly recent: RecentInvalidations;
  readonly applyEffects: (plan: InvalidationPlan) => Promise<EffectsResult>;
  /** Makes every cached value (and fence) of these families unreachable; rejects on failure. */
  readonly escalate: (families: ReadonlySet<FamilyName>) => Promise<void>;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  /** Gives up after this many attempts. Default 240 (one minute at the default delay). */
  readonly maxAttempts?: number;
  readonly retryDelayMs?: number;
}

export interface PrimaryLoss {
  readonly reason: string;
  /** The last moment the worker knew its writes were safe on a replica. */
  readonly safeSinceMs: number;
}

export interface ReplayOutcome {
  /** Effects applied again (0 when there were none, or the replay never got through). */
  readonly replayed: number;
  /** Start of the replayed span, ms since epoch. */
  readonly fromMs: number;
  /** True when the ring was incomplete and the dropped families were purged. */
  readonly escalated: boolean;
}

/** Re-applies every effect since `loss.safeSinceMs - window`; escalates when the ring dropped some. */
export async function replayRecentInvalidations(
  deps: FailoverReplayDeps,
  loss: PrimaryLoss,
): Promise<ReplayOutcome> {
  const fromMs = loss.safeSinceMs - deps.recent.windowMs;
  const selection = deps.recent.replayFrom(fromMs);
  const { plan } = selection;
  const attempts = deps.maxAttempts ?? 240;
  const delayMs = deps.retryDelayMs ?? 250;
  let escalated = false;
  if (selection.incomplete) {
    const families = [...selection.droppedFamilies];
    deps.logger.error(
      { reason: loss.reason, families, fromMs },
      'replay ring dropped effects the replay needs: purging those families',
    );
    escalated = await retrying(attempts, delayMs, async () => {
      await deps.escalate(selection.droppedFamilies);
      return true;
    });
    if (escalated) {
      deps.recent.clearDropped();
      deps.metrics.replayEscalated(families);
    } else deps.logger.error({ reason: loss.reason, families }, 'escalation purge did not complete');
  }
  if (plan.effects.length === 0) {
    deps.logger.warn({ reason: loss.reason, fromMs, effects: 0 }, 'new primary: nothing to replay');
    return { replayed: 0, fromMs, escalated };
  }
  const done = await retrying(attempts, delayMs, async () => {
    const result = await deps.applyEffects(plan);
    // A WAIT shortfall still applied the deletes on the new primary (which ElastiCache leaves
    // without a replica for minutes): that is what the replay is for.
    return result.ok || result.error.kind === 'wait-shortfall';
  });
  if (!done) {
    deps.logger.error(
      { reason: loss.reason, effects: plan.effects.length },
      'failover replay did not complete',
    );
    return { replayed: 0, fromMs, escalated };
  }
  deps.metrics.failoverReplayed(plan.effects.length);
  deps.logger.warn(
    {
      reason: loss.reason,
      effects: plan.effects.length,
      fromMs,
      windowMs: deps.recent.windowMs,
      safeSinceMs: loss.safeSinceMs,
    },
    'replayed recent invalidations after failover',
  );
  return { replayed: plan.effects.length, fromMs, escalated };
}

async function retrying(
  attempts: number,
  delayMs: number,
  attempt: () => Promise<boolean>,
): Promise<boolean> {
  for (let i = 1; i <= attempts; i++) {
    try {
      if (await attempt()) return true;
    } catch {
      // Redis is still settling after the failover: try again shortly.
    }
    if (i < attempts) await new Promise((r) => setTimeout(r, delayMs));
  }
  return false;
}
