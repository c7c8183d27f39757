/**
 * Where (a)'s time goes, without a profiler: the same batches through the pure planner alone
 * (no Redis), then their pre-built plans through the Redis effects alone (same concurrency),
 * so the report can say whether planning or the round trip bounds the pipeline.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { applyInvalidationPlan } from '../../src/adapters/redis/invalidation-effects.ts';
import type { RedisClient } from '../../src/adapters/redis/redis-connection.ts';
import type { InvalidationPlan } from '../../src/core/invalidation-plan.ts';
import { planBatch } from '../../src/core/invalidation-planner.ts';
import type { KeyBuilder } from '../../src/core/key-builder.ts';

export interface Breakdown {
  /** Microseconds of CPU per event in planBatch (parse, validate, build and verify keys, merge). */
  readonly planUsPerEvent: number;
  /** Events/s of the effects alone (plans built beforehand), same loops. */
  readonly effectsEventsPerSecond: number;
}

const incoming = (m: Message) => ({ messageId: m.MessageId ?? '', body: m.Body ?? '' });

export async function breakdown(
  client: RedisClient,
  keys: KeyBuilder,
  batches: readonly Message[][],
  loops: number,
): Promise<Breakdown> {
  const events = batches.reduce((sum, b) => sum + b.length, 0);
  const t0 = performance.now();
  const plans: InvalidationPlan[] = batches.map((b) => planBatch(b.map(incoming), keys));
  const planMs = performance.now() - t0;

  const channel = keys.l1Channel();
  let next = 0;
  const loop = async (): Promise<void> => {
    for (let i = next++; i < plans.length; i = next++) {
      const result = await applyInvalidationPlan(client, plans[i]!, { channel });
      if (!result.ok) throw new Error(`effects failed: ${result.error.message}`);
    }
  };
  const t1 = performance.now();
  await Promise.all(Array.from({ length: loops }, loop));
  const effectsMs = performance.now() - t1;
  return { planUsPerEvent: (planMs * 1000) / events, effectsEventsPerSecond: (events / effectsMs) * 1000 };
}
