/**
 * The cluster path: an entity's keys share a slot but different entities do not, so the
 * effects are grouped by owning node, one pipeline each, in parallel, with an `invalidate`
 * script per entity (invalidate-n.lua) and WAIT inside each pipeline that holds a critical
 * effect, so it reaches the primary that holds those deletes. The broadcast (broadcast-1.lua)
 * is a second step: it must not be seen before every node has deleted.
 */
import type { Cluster } from 'ioredis';
import type { EntityEffect, InvalidationPlan } from '../../core/invalidation-plan.ts';
import type { FenceKey } from '../../core/identifiers.ts';
import { encodeInvalidateBody } from './broadcast-message.ts';
import type { L1Channel } from './broadcast-message.ts';
import { slotOf } from './cluster-slot.ts';
import { needsWait, unwrap } from './invalidation-effects-path.ts';
import type { CallClock, PathOutcome, WaitSettings } from './invalidation-effects-path.ts';
import { scriptedPipeline } from './lua-scripts.ts';
import type { InvalidateReply, PublishReply, ScriptedClient, ScriptedPipeline } from './lua-scripts.ts';

/** Applies `plan` over the cluster's primaries; throws on any Redis error. */
export async function applyOnCluster(
  client: ScriptedClient & Cluster,
  plan: InvalidationPlan,
  channel: L1Channel,
  wait: WaitSettings,
  clock: CallClock,
): Promise<PathOutcome> {
  const perNode = await Promise.all(
    [...groupByNode(client, plan.effects).values()].map(async (effects) => {
      const pipeline = scriptedPipeline(client);
      queueEffects(pipeline, effects);
      const critical = wait.replicas > 0 && needsWait(effects, false);
      if (critical) pipeline.call('WAIT', wait.replicas, wait.timeoutMs);
      const values = unwrap(await pipeline.exec());
      return {
        effects,
        replies: values.slice(0, effects.length) as InvalidateReply[],
        acked: critical ? Number(values[values.length - 1]) : null,
      };
    }),
  );
  const effectsMs = clock.now() - clock.started;
  const publish = plan.broadcast
    ? ((await client.mcBroadcast(
        channel.seqKey,
        channel.channel,
        encodeInvalidateBody(plan.broadcast),
      )) as PublishReply)
    : null;
  let deleted = 0;
  const fenceValues = new Map<FenceKey, number>();
  for (const node of perNode) {
    node.effects.forEach((effect, i) => {
      const [count, fence] = node.replies[i] as InvalidateReply;
      deleted += count;
      fenceValues.set(effect.fence, fence);
    });
  }
  const ackeds = perNode.map((n) => n.acked).filter((a): a is number => a !== null);
  return {
    deleted,
    fenceValues,
    publish,
    replicasAcked: ackeds.length > 0 ? Math.min(...ackeds) : null,
    effectsMs,
  };
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
