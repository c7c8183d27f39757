/**
 * A Sentinel failover in the middle of a stream of 1,000 events: the primary is killed,
 * the replica is promoted, deletes the old primary acknowledged but never replicated are
 * re-applied from the worker's recent window (rule 4), and afterwards every key is gone,
 * none of the events is lost and the DLQ is empty. On a private Sentinel group (fast profile,
 * TLS + password as the stack's), so the shared stack's roles are never touched.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { eventually, queueDepth, snsClient, sqsClient } from '../support/aws.ts';
import { productUpdated, publishAll } from '../support/events.ts';
import { privateMessaging, type PrivateMessaging } from '../support/private-messaging.ts';
import { startPrivateSentinelGroup, type PrivateSentinelGroup } from '../support/private-sentinel-group.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';

const EVENTS = 1_000;

describe('Sentinel failover in the middle of a stream of 1,000 events', () => {
  const sns = snsClient();
  const sqs = sqsClient();
  const namespace = `f${Math.random().toString(36).slice(2, 8)}`;
  const keys = createKeyBuilder({ namespace, locales: ['en-US', 'ja-JP'] });
  const asins = Array.from({ length: EVENTS }, (_, i) => `B0FO${String(i).padStart(6, '0')}`);
  const allKeys = asins.flatMap((id) => keys.variantKeys({ family: 'product', tenant: 'default', id }));
  let messaging: PrivateMessaging;
  let worker: WorkerProcess;
  let redis: Redis;
  let group: PrivateSentinelGroup;

  beforeAll(async () => {
    [messaging, group] = await Promise.all([
      privateMessaging({ visibilityTimeoutSeconds: 10 }),
      startPrivateSentinelGroup({ profile: 'fast' }),
    ]);
    redis = new Redis({
      ...group.access.sentinel,
      sentinels: [...group.sentinels],
      name: group.masterName,
      maxRetriesPerRequest: 5,
    });
    redis.on('error', () => undefined);
    const pipeline = redis.pipeline();
    for (const k of allKeys) pipeline.set(k, 'stale', 'EX', 600);
    await pipeline.exec();
    // The seed must be on the replica before the primary dies, or the test proves nothing.
    expect(await redis.call('WAIT', '1', '5000')).toBe(1);
    worker = await startWorkerProcess({
      messaging,
      namespace,
      redisMode: 'sentinel',
      redisAddresses: group.sentinels.map((a) => `${a.host}:${a.port}`).join(','),
      env: {
        REDIS_SENTINEL_NAME: group.masterName,
        WORKER_VISIBILITY_TIMEOUT_S: '10',
        WORKER_HEARTBEAT_INTERVAL_S: '3',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    redis?.disconnect();
    await group?.stop();
    await messaging?.teardown();
    sns.destroy();
    sqs.destroy();
  }, 120_000);

  it('every key is gone afterwards, no event lost, DLQ empty', async () => {
    // Act: stream; a third of the way in, the primary is killed.
    const events = asins.map((id) => productUpdated(id));
    const before = group.primary();
    await publishAll(sns, messaging.topics.catalog, events.slice(0, 330));
    // The primary is killed (SIGKILL): nothing it acknowledged after its last replicated write survives.
    await group.killPrimary();
    await publishAll(sns, messaging.topics.catalog, events.slice(330));

    // Assess: a new primary, holding none of the keys.
    const promotion = await group.waitForPromotion(30_000);
    expect(promotion.newPrimary.port).not.toBe(before.port);
    await eventually(
      async () => {
        const pipeline = redis.pipeline();
        for (const k of allKeys) pipeline.exists(k);
        const results = (await pipeline.exec()) ?? [];
        return results.every(([err, n]) => !err && n === 0) ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: 'every product key to be gone on the new primary' },
    );
    await eventually(
      async () => ((await queueDepth(sqs, messaging.queues.catalog.url)) === 0 ? true : undefined),
      {
        timeoutMs: 60_000,
        what: 'the queue to drain',
      },
    );
    expect(await queueDepth(sqs, messaging.queues.catalog.dlqUrl)).toBe(0);
    expect(worker.logs.some((l) => /new redis primary detected/.test(String(l.msg)))).toBe(true);
  }, 240_000);
});
