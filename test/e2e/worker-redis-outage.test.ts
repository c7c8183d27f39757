/**
 * Rule 1 under an outage: Redis is stopped (frozen) for 20 s while 1,000 events are
 * published. Nothing is acked without its effect, the worker pauses polling instead of
 * burning receive counts, and once Redis is back every key is gone, no event is lost and
 * the DLQ is empty.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { eventually, queueDepth, snsClient, sqsClient } from '../support/aws.ts';
import { productUpdated, publishAll } from '../support/events.ts';
import { privateWorld, type PrivateWorld } from '../support/private-world.ts';
import type { WorkerProcess } from '../support/worker-process.ts';

const EVENTS = 1_000;
const OUTAGE_MS = 20_000;

describe('Redis down for 20 s during a stream of 1,000 events', () => {
  const sns = snsClient();
  const sqs = sqsClient();
  const namespace = 'outage';
  const keys = createKeyBuilder({ namespace, locales: ['en-US', 'ja-JP'] });
  const asins = Array.from({ length: EVENTS }, (_, i) => `B0OUT${String(i).padStart(5, '0')}`);
  let world: PrivateWorld;
  let worker: WorkerProcess;

  beforeAll(async () => {
    world = await privateWorld({ visibilityTimeoutSeconds: 10 });
    const pipeline = world.redis.client.pipeline();
    for (const id of asins) {
      for (const k of keys.variantKeys({ family: 'product', tenant: 'default', id }))
        pipeline.set(k, 'stale');
    }
    await pipeline.exec();
    worker = await world.startWorker(namespace, {
      WORKER_VISIBILITY_TIMEOUT_S: '10',
      WORKER_HEARTBEAT_INTERVAL_S: '3',
      REDIS_COMMAND_TIMEOUT_MS: '1000',
    });
  });

  afterAll(async () => {
    world?.redis.thaw();
    await world?.teardown();
    sns.destroy();
    sqs.destroy();
  });

  it('loses nothing: every key is gone afterwards and the DLQ is empty', async () => {
    const { redis, messaging } = world;
    // Act: half the stream, then Redis stops; the rest of the stream arrives during the outage.
    const events = asins.map((id) => productUpdated(id));
    await publishAll(sns, messaging.topics.catalog, events.slice(0, EVENTS / 2));
    redis.freeze();
    const frozenAt = Date.now();
    await publishAll(sns, messaging.topics.catalog, events.slice(EVENTS / 2));
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - frozenAt))));
    redis.thaw();

    // Assess
    await eventually(
      async () => {
        const remaining = await redis.client.dbsize();
        // Left: the 1,000 fences, the broadcast sequence, nothing else.
        return remaining === EVENTS + 1 ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'every product key to be deleted' },
    );
    for (const id of asins.slice(0, 50)) {
      expect(
        Number(await redis.client.get(keys.fenceKey({ family: 'product', tenant: 'default', id }))),
      ).toBeGreaterThan(0);
    }
    await eventually(
      async () => ((await queueDepth(sqs, messaging.queues.catalog.url)) === 0 ? true : undefined),
      {
        timeoutMs: 60_000,
        what: 'the queue to drain',
      },
    );
    expect(await queueDepth(sqs, messaging.queues.catalog.dlqUrl)).toBe(0);
    // The gate paused polling during the outage rather than cycling messages toward the DLQ.
    expect(worker.logs.some((l) => /pausing every queue/.test(String(l.msg)))).toBe(true);
    expect(worker.logs.some((l) => /resuming polling/.test(String(l.msg)))).toBe(true);
  }, 240_000);
});
