/**
 * Issue 15, recovery after a primary loss: the worker's connection reaches the new primary,
 * which has no replica yet, while its replication sample is `unknown` (the last one failed
 * with the old primary, or was forgotten with the connection). Every critical (promo) batch
 * kept in hand is applied again there at once. A `WAIT 1 500` in those batches blocks the
 * connection every batch shares for its whole timeout, one after the other (eight pollers:
 * four seconds per round), and every other command on it waits behind them: the gate's
 * probe, the primary check, the next sample, the other queues' batches. In the drills that
 * kept workers paused 8-20 s after the new primary was reachable.
 *
 * Here: a private redis-server without a replica (what a promoted primary is), the batch
 * handler with the real effects on one real connection, eight promo batches at once. A write
 * on the same connection must still answer within 1 s, and the deletes are applied with
 * their acks held (no replica confirmed them, and nothing yet says there is none). The WAIT
 * timeout is 2 s here, so even one WAIT ahead of the write would fail it, and a stall of a
 * loaded runner would not.
 */
import type { Message } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyInvalidationPlan } from '../../../src/adapters/redis/invalidation-effects.ts';
import { createRedisConnection, type RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { NO_METRICS } from '../../../src/metrics/worker-metrics.ts';
import { createBatchHandler } from '../../../src/worker/batch-handler.ts';
import { startPrivateRedis, type PrivateRedis } from '../../support/private-redis.ts';
import { event, raw } from '../../unit/core/fixtures.ts';

const BATCHES = 8;
const WAIT_TIMEOUT_MS = 2_000;

let redis: PrivateRedis;
let connection: RedisConnection;

beforeAll(async () => {
  redis = await startPrivateRedis();
  connection = createRedisConnection({
    ...redis.config,
    tuning: { ...redis.config.tuning, commandTimeoutMs: 10_000 },
  });
  await new Promise<void>((resolve) => {
    if (connection.client.status === 'ready') resolve();
    else connection.client.once('ready', () => resolve());
  });
});

afterAll(async () => {
  await connection?.close();
  await redis?.stop();
});

let nextId = 0;
function promo(): Message {
  nextId++;
  return {
    MessageId: `m${nextId}`,
    ReceiptHandle: `r${nextId}`,
    Body: raw(event('promotion.changed', { storeSections: [`section-${nextId}`] })),
    Attributes: { ApproximateReceiveCount: '1' },
  };
}

describe('critical batches on a new primary whose replication is not sampled yet', () => {
  it('do not block the connection every batch shares: a write on it still answers at once', async () => {
    // Prepare
    const keys = createKeyBuilder({ namespace: `t${Date.now().toString(36)}`, locales: ['en-US'] });
    const channel = keys.l1Channel();
    const held: Message[] = [];
    const handle = createBatchHandler({
      queue: 'promotions',
      keys,
      effects: {
        apply: (plan, waitReplicas) =>
          applyInvalidationPlan(connection.client, plan, {
            channel,
            waitReplicas,
            waitTimeoutMs: WAIT_TIMEOUT_MS,
          }),
      },
      durability: {
        required: 1,
        state: () => 'unknown',
        hold: (messages) => held.push(...messages),
        confirmed: () => undefined,
      },
      deadLetters: null,
      visibility: { retryLater: () => Promise.resolve() },
      observer: { applied: () => undefined, redisUnavailable: () => undefined },
      shutdown: new AbortController().signal,
      backoff: { baseS: 1, maxS: 60 },
      metrics: NO_METRICS,
      logger: pino({ level: 'silent' }),
    });
    // One batch first, so the script is loaded and the eight below go out in one turn.
    await handle([promo()]);
    held.length = 0;

    // Act: eight pollers' batches at once, then a write on the same connection (the gate's probe).
    const handling = Promise.all(Array.from({ length: BATCHES }, () => handle([promo()])));
    await new Promise((r) => setTimeout(r, 20));
    const started = performance.now();
    await connection.client.set(keys.writeProbeKey(), '1', 'PX', 10_000);
    const probeMs = performance.now() - started;
    const acked = (await handling).flat();

    // Assess: behind eight WAITs the probe would have taken about 8 x 2 s, behind one 2 s.
    expect(probeMs).toBeLessThan(1_000);
    expect(acked).toEqual([]);
    expect(held).toHaveLength(BATCHES);
  });
});
