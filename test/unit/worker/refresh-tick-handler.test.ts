/** The refresh tick handler's routing (refresh-tick-handler.ts): what it acks without a run. */
import type { Message } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../../../src/adapters/redis/redis-connection.ts';
import { loadWorkerConfig } from '../../../src/config/load-config.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { planBatch } from '../../../src/core/invalidation-planner.ts';
import type { MessageDecision } from '../../../src/core/invalidation-plan.ts';
import { createRefreshTickHandler } from '../../../src/worker/refresh-tick-handler.ts';
import { NO_METRICS } from '../../../src/metrics/worker-metrics.ts';
import { event, raw } from '../core/fixtures.ts';

const keys = createKeyBuilder({ namespace: 'mc', locales: ['en-US'] });
const QUEUE = 'http://localhost:4566/000000000000/review-refresh';

/** The ignore decision the planner makes for `body`. */
function ignoreOf(body: string): Extract<MessageDecision, { kind: 'ignore' }> {
  const decision = planBatch([{ messageId: 'm1', body }], keys).decisions[0];
  if (decision?.kind !== 'ignore') throw new Error('expected an ignore decision');
  return decision;
}

function handler(env: Record<string, string>) {
  const config = loadWorkerConfig({ AWS_REGION: 'us-east-1', WORKER_CATALOG_QUEUE_URL: QUEUE, ...env });
  return createRefreshTickHandler({
    config,
    // Never reached on these paths: a run is the only thing that talks to Redis.
    redis: {} as RedisClient,
    keys,
    metrics: NO_METRICS,
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
  });
}

describe('refresh tick handler', () => {
  const message: Message = { MessageId: 'm1', Body: raw(event('refresh.tick')) };

  it('acks a tick that reached another queue: it is not ours to run', async () => {
    const handle = handler({});
    expect(await handle('catalog', message, ignoreOf(message.Body!))).toBe(true);
  });

  it('leaves a tick in the queue when the refresh has no origin to call', async () => {
    const handle = handler({});
    expect(await handle('reviewRefresh', message, ignoreOf(message.Body!))).toBe(false);
  });
});
