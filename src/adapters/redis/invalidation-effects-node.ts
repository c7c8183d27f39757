/**
 * The node path (standalone and Sentinel): the whole batch is ONE script call
 * (apply-batch-n.lua: per entity UNLINK the variants and bump the fence, then the
 * broadcast), plus `WAIT` in the same pipeline when the plan is critical: one round trip.
 */
import type { InvalidationPlan } from '../../core/invalidation-plan.ts';
import type { FenceKey } from '../../core/identifiers.ts';
import { encodeInvalidateBody } from './broadcast-message.ts';
import type { L1Channel } from './broadcast-message.ts';
import { needsWait, unwrap } from './invalidation-effects-path.ts';
import type { CallClock, PathOutcome, WaitSettings } from './invalidation-effects-path.ts';
import { scriptedPipeline } from './lua-scripts.ts';
import type { PublishReply, ScriptedClient } from './lua-scripts.ts';

/** Applies `plan` on one primary; throws on any Redis error. */
export async function applyOnNode(
  client: ScriptedClient,
  plan: InvalidationPlan,
  channel: L1Channel,
  wait: WaitSettings,
  clock: CallClock,
): Promise<PathOutcome> {
  if (plan.effects.length === 0 && !plan.broadcast) {
    return { deleted: 0, fenceValues: new Map(), publish: null, replicasAcked: null, effectsMs: 0 };
  }
  const keys: string[] = [channel.seqKey];
  const args: string[] = [
    channel.channel,
    plan.broadcast ? encodeInvalidateBody(plan.broadcast) : '',
    String(plan.effects.length),
  ];
  for (const e of plan.effects) {
    keys.push(e.fence, ...e.unlink);
    args.push(String(e.unlink.length), String(e.fenceTtlMs));
  }
  let reply: number[];
  let replicasAcked: number | null = null;
  if (wait.replicas > 0 && needsWait(plan.effects, plan.critical)) {
    const pipeline = scriptedPipeline(client);
    pipeline.mcApplyBatch(keys.length, ...keys, ...args);
    pipeline.call('WAIT', wait.replicas, wait.timeoutMs);
    const values = unwrap(await pipeline.exec());
    reply = values[0] as number[];
    replicasAcked = Number(values[1]);
  } else {
    // Nothing to WAIT for: a plain call, without a pipeline's bookkeeping (hot path).
    reply = (await client.mcApplyBatch(keys.length, ...keys, ...args)) as number[];
  }
  const effectsMs = clock.now() - clock.started;
  const fenceValues = new Map<FenceKey, number>();
  plan.effects.forEach((e, i) => fenceValues.set(e.fence, Number(reply[4 + i])));
  const publish: PublishReply | null = plan.broadcast
    ? [Number(reply[1]), Number(reply[2]), Number(reply[3])]
    : null;
  return { deleted: Number(reply[0]), fenceValues, publish, replicasAcked, effectsMs };
}
