/**
 * Applies an InvalidationPlan to Redis, all or nothing. Standalone/Sentinel: ONE script call
 * for the whole batch (apply-batch-n.lua: per entity UNLINK the variants + INCR the fence,
 * then the broadcast), plus `WAIT` in the same pipeline when the plan is critical: one round
 * trip. Cluster: one pipeline per node in parallel, an `invalidate` script per entity (its
 * keys share a slot) and WAIT inside each, so it reaches the primary that holds the
 * deletes; then the broadcast. Any error is a retryable failure.
 */
import { Cluster } from 'ioredis';
import type { EntityEffect, InvalidationPlan } from '../../core/invalidation-plan.ts';
import type { FenceKey } from '../../core/identifiers.ts';
import { encodeInvalidateBody, encodeInvalidateBodyWithoutKeys } from './broadcast-message.ts';
import type { L1Channel } from './broadcast-message.ts';
import { slotOf } from './cluster-slot.ts';
import { scriptedPipeline, withScripts } from './lua-scripts.ts';
import type { InvalidateReply, PublishReply, ScriptedClient, ScriptedPipeline } from './lua-scripts.ts';
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

/** Why a plan was not confirmed. Every kind is retryable: the messages stay in flight. */
export type EffectsFailure =
  | {
      readonly kind: 'redis-error';
      readonly retryable: true;
      readonly message: string;
      readonly cause: unknown;
    }
  | {
      readonly kind: 'wait-shortfall';
      readonly retryable: true;
      readonly message: string;
      readonly required: number;
      readonly acked: number;
      /** The deletes WERE applied on the primary; only the replica's confirmation is missing. */
      readonly applied: EffectsApplied;
    }
  | { readonly kind: 'deadline-exceeded'; readonly retryable: true; readonly message: string };

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
    timer = setTimeout(
      () =>
        resolve(
          failure({
            kind: 'deadline-exceeded',
            retryable: true,
            message: `effects not confirmed in ${deadlineMs} ms`,
          }),
        ),
      deadlineMs,
    );
  });
  try {
    return await Promise.race([apply(withScripts(client), plan, options), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

interface Settings {
  readonly waitReplicas: number;
  readonly waitTimeoutMs: number;
}

async function apply(
  client: ScriptedClient,
  plan: InvalidationPlan,
  options: EffectsOptions,
): Promise<EffectsResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const settings: Settings = {
    waitReplicas: options.waitReplicas ?? EFFECTS_DEFAULTS.waitReplicas,
    waitTimeoutMs: options.waitTimeoutMs ?? EFFECTS_DEFAULTS.waitTimeoutMs,
  };
  try {
    return client instanceof Cluster
      ? await applyOnCluster(client, plan, options.channel, settings, now, started)
      : await applyOnNode(client, plan, options.channel, settings, now, started);
  } catch (cause) {
    return failure({ kind: 'redis-error', retryable: true, message: messageOf(cause), cause });
  }
}

/**
 * Standalone/Sentinel: the whole batch is ONE script call (apply-batch-n.lua: deletes and
 * fence bumps, then the broadcast), followed by WAIT in the same pipeline when critical.
 */
async function applyOnNode(
  client: ScriptedClient,
  plan: InvalidationPlan,
  channel: L1Channel,
  settings: Settings,
  now: () => number,
  started: number,
): Promise<EffectsResult> {
  if (plan.effects.length === 0 && !plan.broadcast) return emptyResult(now() - started);
  const keys: string[] = [channel.seqKey];
  const args: string[] = [
    channel.channel,
    plan.broadcast ? encodeInvalidateBodyWithoutKeys(plan.broadcast) : '',
    String(plan.effects.length),
  ];
  for (const e of plan.effects) {
    keys.push(e.fence, ...e.unlink);
    args.push(String(e.unlink.length), String(e.fenceTtlMs));
  }
  const critical = settings.waitReplicas > 0 && needsWait(plan.effects, plan.critical);
  let reply: number[];
  let acked: number | null = null;
  if (critical) {
    const pipeline = scriptedPipeline(client);
    pipeline.mcApplyBatch(keys.length, ...keys, ...args);
    pipeline.call('WAIT', settings.waitReplicas, settings.waitTimeoutMs);
    const values = unwrap(await pipeline.exec());
    reply = values[0] as number[];
    acked = Number(values[1]);
  } else {
    // Nothing to WAIT for: a plain call, without a pipeline's bookkeeping (hot path).
    reply = (await client.mcApplyBatch(keys.length, ...keys, ...args)) as number[];
  }
  const effectsMs = now() - started;
  const fenceValues = new Map<FenceKey, number>();
  plan.effects.forEach((e, i) => fenceValues.set(e.fence, Number(reply[4 + i])));
  const publish: PublishReply | null = plan.broadcast
    ? [Number(reply[1]), Number(reply[2]), Number(reply[3])]
    : null;
  return finish(
    { deleted: Number(reply[0]), fenceValues },
    publish,
    acked,
    settings,
    effectsMs,
    now() - started,
  );
}

/**
 * Cluster: effects grouped by owning node, one pipeline each, in parallel; WAIT rides in
 * each pipeline that holds a critical effect so it reaches that key's primary. The
 * broadcast is a second step because it must not be seen before every delete is applied.
 */
async function applyOnCluster(
  client: ScriptedClient & Cluster,
  plan: InvalidationPlan,
  channel: L1Channel,
  settings: Settings,
  now: () => number,
  started: number,
): Promise<EffectsResult> {
  const groups = groupByNode(client, plan.effects);
  const perNode = await Promise.all(
    [...groups.values()].map(async (effects) => {
      const pipeline = scriptedPipeline(client);
      queueEffects(pipeline, effects);
      const critical = settings.waitReplicas > 0 && needsWait(effects, false);
      if (critical) pipeline.call('WAIT', settings.waitReplicas, settings.waitTimeoutMs);
      const values = unwrap(await pipeline.exec());
      return {
        effects: collectEffects(effects, values.slice(0, effects.length)),
        acked: critical ? Number(values[values.length - 1]) : null,
      };
    }),
  );
  const effectsMs = now() - started;
  const publish = plan.broadcast
    ? ((await client.mcBroadcast(
        channel.seqKey,
        channel.channel,
        encodeInvalidateBody(plan.broadcast),
      )) as PublishReply)
    : null;
  const ackeds = perNode.map((n) => n.acked).filter((a): a is number => a !== null);
  const merged = {
    deleted: perNode.reduce((sum, n) => sum + n.effects.deleted, 0),
    fenceValues: new Map(perNode.flatMap((n) => [...n.effects.fenceValues])),
  };
  return finish(
    merged,
    publish,
    ackeds.length > 0 ? Math.min(...ackeds) : null,
    settings,
    effectsMs,
    now() - started,
  );
}

function groupByNode(client: Cluster, effects: readonly EntityEffect[]): Map<string, EntityEffect[]> {
  const groups = new Map<string, EntityEffect[]>();
  for (const effect of effects) {
    const slot = slotOf(effect.fence);
    // Before the slot map is loaded, group by slot: always valid, only less batched.
    const owner = client.slots[slot]?.[0] ?? `slot:${slot}`;
    const group = groups.get(owner);
    if (group) group.push(effect);
    else groups.set(owner, [effect]);
  }
  return groups;
}

function queueEffects(pipeline: ScriptedPipeline, effects: readonly EntityEffect[]): void {
  for (const e of effects)
    pipeline.mcInvalidate(1 + e.unlink.length, e.fence, ...e.unlink, String(e.fenceTtlMs));
}

function needsWait(effects: readonly EntityEffect[], planCritical: boolean): boolean {
  return effects.length > 0 && (planCritical || effects.some((e) => e.critical));
}

/** Throws the first command error: one failed command fails the whole plan. */
function unwrap(replies: [error: Error | null, result: unknown][] | null): unknown[] {
  if (replies === null) throw new Error('pipeline discarded');
  return replies.map(([error, result]) => {
    if (error) throw error;
    return result;
  });
}

interface CollectedEffects {
  readonly deleted: number;
  readonly fenceValues: Map<FenceKey, number>;
}

function collectEffects(effects: readonly EntityEffect[], values: readonly unknown[]): CollectedEffects {
  let deleted = 0;
  const fenceValues = new Map<FenceKey, number>();
  effects.forEach((effect, i) => {
    const [count, fence] = values[i] as InvalidateReply;
    deleted += count;
    fenceValues.set(effect.fence, fence);
  });
  return { deleted, fenceValues };
}

function finish(
  effects: CollectedEffects,
  publish: PublishReply | null,
  acked: number | null,
  settings: Settings,
  effectsMs: number,
  totalMs: number,
): EffectsResult {
  const applied: EffectsApplied = {
    ok: true,
    deleted: effects.deleted,
    fenceValues: effects.fenceValues,
    seq: publish ? publish[0] : null,
    receivers: publish ? publish[1] : null,
    publishedAtMs: publish ? publish[2] : null,
    replicasAcked: acked,
    durations: { effectsMs, totalMs },
  };
  if (acked !== null && acked < settings.waitReplicas) {
    return failure({
      kind: 'wait-shortfall',
      retryable: true,
      message: `WAIT: ${acked} of ${settings.waitReplicas} replicas confirmed within ${settings.waitTimeoutMs} ms`,
      required: settings.waitReplicas,
      acked,
      applied,
    });
  }
  return applied;
}

function emptyResult(totalMs: number): EffectsResult {
  return finish(
    { deleted: 0, fenceValues: new Map() },
    null,
    null,
    { waitReplicas: 0, waitTimeoutMs: 0 },
    0,
    totalMs,
  );
}

function failure(error: EffectsFailure): EffectsResult {
  return { ok: false, error };
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
