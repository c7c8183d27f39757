/**
 * (a) The batch pipeline in memory: the worker's own `createBatchHandler` (parse, plan,
 * one Redis round trip for the effects, ack decision) fed pre-built SQS messages by
 * `loops` concurrent batch loops, as a worker's pollers feed it (4 queues x 2 pollers = 8).
 * SQS is the only thing faked: dead-lettering and visibility changes are in-memory ports
 * (and never called here: every event is valid and Redis answers).
 */
import type { Message } from '@aws-sdk/client-sqs';
import { applyInvalidationPlan } from '../../src/adapters/redis/invalidation-effects.ts';
import { RecentInvalidations } from '../../src/worker/recent-invalidations.ts';
import type { RedisClient } from '../../src/adapters/redis/redis-connection.ts';
import type { KeyBuilder } from '../../src/core/key-builder.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createBatchHandler } from '../../src/worker/batch-handler.ts';
import { NO_METRICS, type WorkerMetrics } from '../../src/metrics/worker-metrics.ts';

export interface PipelineRun {
  readonly events: number;
  readonly batches: number;
  readonly acked: number;
  readonly retried: number;
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
}

/** A handler wired like the worker's (src/worker/invalidation-worker.ts), SQS ports faked. */
export function benchBatchHandler(
  client: RedisClient,
  keys: KeyBuilder,
  counters: { retried: number },
  metrics: WorkerMetrics = NO_METRICS,
): (messages: Message[]) => Promise<Message[]> {
  const channel = keys.l1Channel();
  const recent = new RecentInvalidations();
  return createBatchHandler({
    queue: 'catalog',
    keys,
    effects: {
      apply: (plan, waitReplicas) => applyInvalidationPlan(client, plan, { channel, waitReplicas }),
    },
    durability: {
      required: 1,
      state: () => 'healthy',
      hold: (messages) => {
        counters.retried += messages.length;
      },
      confirmed: () => undefined,
    },
    deadLetters: { send: (poison) => Promise.resolve(new Set(poison.map((p) => p.message.MessageId ?? ''))) },
    visibility: {
      retryLater: (changes) => {
        counters.retried += changes.length;
        return Promise.resolve();
      },
    },
    observer: {
      applied: (plan) => recent.record(plan.effects),
      // Effects that fail are applied again in hand; count each attempt as a retry.
      redisUnavailable: () => {
        counters.retried++;
      },
    },
    shutdown: new AbortController().signal,
    backoff: { baseS: 1, maxS: 60 },
    metrics,
    logger: createLogger('bench', 'silent'),
  });
}

/** Runs every batch through `handle` with `loops` concurrent loops; times the whole run. */
export async function runPipeline(
  handle: (messages: Message[]) => Promise<Message[]>,
  batches: readonly Message[][],
  loops: number,
  counters: { retried: number } = { retried: 0 },
): Promise<PipelineRun> {
  const retriedBefore = counters.retried;
  let next = 0;
  let acked = 0;
  const loop = async (): Promise<void> => {
    for (let i = next++; i < batches.length; i = next++) {
      const ack = await handle(batches[i]!);
      // Not `acked += await ...`: that would read `acked` before the await and lose updates.
      acked += ack.length;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: loops }, loop));
  const elapsedMs = performance.now() - started;
  const events = batches.reduce((sum, b) => sum + b.length, 0);
  return {
    events,
    batches: batches.length,
    acked,
    retried: counters.retried - retriedBefore,
    elapsedMs,
    eventsPerSecond: (events / elapsedMs) * 1000,
  };
}
