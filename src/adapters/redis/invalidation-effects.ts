/**
 * Applies an InvalidationPlan to Redis, all or nothing, within a deadline. The mode picks
 * the path: standalone/Sentinel runs the whole batch as one script call plus WAIT in the
 * same pipeline (invalidation-effects-node.ts); a cluster runs one pipeline per node, then
 * the broadcast (invalidation-effects-cluster.ts). Both report raw facts; this file turns
 * them into the tagged result. Any error is a retryable failure.
 */
import { Cluster } from 'ioredis';
import type { InvalidationPlan } from '../../core/invalidation-plan.ts';
import type { FenceKey } from '../../core/identifiers.ts';
import type { L1Channel } from './broadcast-message.ts';
import { applyOnCluster } from './invalidation-effects-cluster.ts';
import { applyOnNode } from './invalidation-effects-node.ts';
import type { PathOutcome, WaitSettings } from './invalidation-effects-path.ts';
import { RedisCommandError, RedisDeadlineError, WaitShortfallError } from './redis-errors.ts';
import { withScripts } from './lua-scripts.ts';
import type { ScriptedClient } from './lua-scripts.ts';
import type { RedisClient } from './redis-connection.ts';

export interface EffectsOptions {
  readonly channel: L1Channel;
  /** Replicas that must confirm a critical batch. Default 1. */
  readonly waitReplicas?: number;
  /** WAIT timeout in ms; keep it below the client's command timeout. Default 500. */
  readonly waitTimeoutMs?: number;
  /** Whole-call deadline in ms, a guard against a client that queues forever. Default 10000. */
  readonly deadlineMs?: number;
  /** Clock for durations; injectable for tests. */
  readonly now?: () => number;
}

export const EFFECTS_DEFAULTS = { waitReplicas: 1, waitTimeoutMs: 500, deadlineMs: 10_000 } as const;

/**
 * Why a plan was not confirmed (src/adapters/redis/redis-errors.ts), narrowed on `kind`.
 * Every one is retryable: the messages stay in flight. A shortfall's `applied` says the
 * deletes WERE applied on the primary; only the replica's confirmation is missing.
 */
export type EffectsFailure = RedisCommandError | RedisDeadlineError | WaitShortfallError<EffectsApplied>;

export interface EffectsApplied {
  readonly ok: true;
  /** Value keys that existed and were unlinked. */
  readonly deleted: number;
  /** Fence (or generation) value after the bump, per fence key. */
  readonly fenceValues: ReadonlyMap<FenceKey, number>;
  /** Sequence of the broadcast, null when the plan had none. */
  readonly seq: number | null;
  /** Subscribers the broadcast reached (per node in cluster mode), null without broadcast. */
  readonly receivers: number | null;
  /** Redis server time of the publish, null without broadcast. */
  readonly publishedAtMs: number | null;
  /** Replicas that confirmed (the minimum over nodes in cluster mode), null when not critical. */
  readonly replicasAcked: number | null;
  readonly durations: {
    /** From the call to the moment every delete was confirmed (including WAIT). */
    readonly effectsMs: number;
    readonly totalMs: number;
  };
}

export type EffectsResult = EffectsApplied | { readonly ok: false; readonly error: EffectsFailure };

/** Applies `plan`; resolves (never rejects) with an all-or-nothing tagged result. */
export async function applyInvalidationPlan(
  client: RedisClient,
  plan: InvalidationPlan,
  options: EffectsOptions,
): Promise<EffectsResult> {
  const deadlineMs = options.deadlineMs ?? EFFECTS_DEFAULTS.deadlineMs;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<EffectsResult>((resolve) => {
    timer = setTimeout(() => resolve(failure(new RedisDeadlineError(deadlineMs))), deadlineMs);
  });
  try {
    return await Promise.race([apply(withScripts(client), plan, options), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function apply(
  client: ScriptedClient,
  plan: InvalidationPlan,
  options: EffectsOptions,
): Promise<EffectsResult> {
  const now = options.now ?? Date.now;
  const clock = { now, started: now() };
  const wait: WaitSettings = {
    replicas: options.waitReplicas ?? EFFECTS_DEFAULTS.waitReplicas,
    timeoutMs: options.waitTimeoutMs ?? EFFECTS_DEFAULTS.waitTimeoutMs,
  };
  try {
    const outcome =
      client instanceof Cluster
        ? await applyOnCluster(client, plan, options.channel, wait, clock)
        : await applyOnNode(client, plan, options.channel, wait, clock);
    return verdict(outcome, wait, now() - clock.started);
  } catch (cause) {
    return failure(new RedisCommandError(cause));
  }
}

/** The tagged result of what a path observed: fewer replicas than required is a shortfall. */
function verdict(outcome: PathOutcome, wait: WaitSettings, totalMs: number): EffectsResult {
  const { publish, replicasAcked: acked } = outcome;
  const applied: EffectsApplied = {
    ok: true,
    deleted: outcome.deleted,
    fenceValues: outcome.fenceValues,
    seq: publish ? publish[0] : null,
    receivers: publish ? publish[1] : null,
    publishedAtMs: publish ? publish[2] : null,
    replicasAcked: acked,
    durations: { effectsMs: outcome.effectsMs, totalMs },
  };
  if (acked !== null && acked < wait.replicas) {
    return failure(
      new WaitShortfallError({ required: wait.replicas, acked, waitTimeoutMs: wait.timeoutMs, applied }),
    );
  }
  return applied;
}

function failure(error: EffectsFailure): EffectsResult {
  return { ok: false, error };
}
