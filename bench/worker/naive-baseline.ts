/**
 * (b) The naive baseline: the same work, one message at a time, one round trip per command,
 * each awaited before the next. Per message: JSON.parse, a minimal validation, then
 * UNLINK value key 1, UNLINK value key 2, INCR fence, INCR broadcast sequence, PUBLISH.
 * The keys are built by the same key builder as the pipeline's, so both touch the same keys.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';
import { defaultL1Channel } from '../../src/adapters/redis/broadcast-message.ts';
import type { KeyBuilder } from '../../src/core/key-builder.ts';

export interface NaiveRun {
  readonly events: number;
  readonly acked: number;
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
}

const ASIN = /^[A-Z0-9]{10}$/;

/** Handles `messages` one by one, sequentially; resolves with the timing. */
export async function runNaive(
  redis: Redis,
  keys: KeyBuilder,
  messages: readonly Message[],
): Promise<NaiveRun> {
  const channel = defaultL1Channel(keys.namespace);
  let acked = 0;
  const started = performance.now();
  for (const message of messages) {
    const event = JSON.parse(message.Body ?? '') as { type?: unknown; eventId?: unknown; asin?: unknown };
    if (event.type !== 'catalog.product.updated' || typeof event.eventId !== 'string') continue;
    if (typeof event.asin !== 'string' || !ASIN.test(event.asin)) continue;
    const effect = keys.entityEffect({ family: 'product', tenant: 'default', id: event.asin });
    for (const key of effect.unlink) await redis.unlink(key);
    await redis.incr(effect.fence);
    const seq = await redis.incr(channel.seqKey);
    await redis.publish(
      channel.channel,
      JSON.stringify({
        v: 1,
        type: 'invalidate',
        seq,
        keys: effect.unlink,
        fences: [effect.fence],
        eventIds: [event.eventId],
      }),
    );
    acked++;
  }
  const elapsedMs = performance.now() - started;
  return { events: messages.length, acked, elapsedMs, eventsPerSecond: (messages.length / elapsedMs) * 1000 };
}
