/**
 * (b) The naive baseline: the same work, one message at a time, one round trip per command,
 * each awaited before the next. Per message: the same parse, validation and plan as the
 * pipeline (`planBatch` of that one message), then per entity UNLINK its value keys, INCR
 * its fence and PEXPIRE the fence, then INCR the broadcast sequence and PUBLISH the
 * broadcast: the commands (c) measures, five round trips per product event.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';
import { planBatch } from '../../src/core/invalidation-planner.ts';
import type { KeyBuilder } from '../../src/core/key-builder.ts';

export interface NaiveRun {
  readonly events: number;
  readonly acked: number;
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
}

/** Handles `messages` one by one, sequentially; resolves with the timing. */
export async function runNaive(
  redis: Redis,
  keys: KeyBuilder,
  messages: readonly Message[],
): Promise<NaiveRun> {
  const channel = keys.l1Channel();
  let acked = 0;
  const started = performance.now();
  for (const message of messages) {
    const plan = planBatch([{ messageId: message.MessageId ?? '', body: message.Body ?? '' }], keys);
    if (plan.decisions[0]?.kind !== 'apply' || plan.broadcast === null) continue;
    for (const effect of plan.effects) {
      if (effect.unlink.length > 0) await redis.unlink(...effect.unlink);
      await redis.incr(effect.fence);
      await redis.pexpire(effect.fence, effect.fenceTtlMs);
    }
    const seq = await redis.incr(channel.seqKey);
    await redis.publish(
      channel.channel,
      JSON.stringify({
        v: 1,
        type: 'invalidate',
        seq,
        publishedAtMs: Date.now(),
        keys: plan.broadcast.keys,
        fences: plan.broadcast.fences,
        eventIds: plan.broadcast.eventIds,
        originTimeMs: plan.broadcast.originTimeMs,
      }),
    );
    acked++;
  }
  const elapsedMs = performance.now() - started;
  return { events: messages.length, acked, elapsedMs, eventsPerSecond: (messages.length / elapsedMs) * 1000 };
}
