/**
 * A Sentinel failover in the middle of a stream of 1,000 events: the primary is shut down,
 * the replica is promoted, deletes the old primary acknowledged but never replicated are
 * re-applied from the worker's recent window (rule 4), and afterwards every key is gone,
 * none of the events is lost and the DLQ is empty. `env.sh up` restores the roles after.
 */
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { eventually, queueDepth, snsClient, sqsClient } from '../support/aws.ts';
import { productUpdated, publishAll } from '../support/events.ts';
import { privateMessaging, type PrivateMessaging } from '../support/private-messaging.ts';
import { stack } from '../support/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';
import { stackAccess } from '../support/redis-access.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const EVENTS = 1_000;

describe('Sentinel failover in the middle of a stream of 1,000 events', () => {
  const s = stack();
  const sns = snsClient();
  const sqs = sqsClient();
  const namespace = `f${Math.random().toString(36).slice(2, 8)}`;
  const keys = createKeyBuilder({ namespace, locales: ['en-US', 'ja-JP'] });
  const asins = Array.from({ length: EVENTS }, (_, i) => `B0FO${String(i).padStart(6, '0')}`);
  const allKeys = asins.flatMap((id) => keys.variantKeys({ family: 'product', tenant: 'default', id }));
  let messaging: PrivateMessaging;
  let worker: WorkerProcess;
  let redis: Redis;

  beforeAll(async () => {
    messaging = await privateMessaging({ visibilityTimeoutSeconds: 10 });
    redis = new Redis({
      ...stackAccess().sentinel,
      sentinels: [...s.redis.sentinels],
      name: s.redis.sentinelName,
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
      env: { WORKER_VISIBILITY_TIMEOUT_S: '10', WORKER_HEARTBEAT_INTERVAL_S: '3' },
    });
  });

  afterAll(async () => {
    await worker?.stop();
    const pipeline = redis.pipeline();
    for (const id of asins) pipeline.unlink(keys.fenceKey({ family: 'product', tenant: 'default', id }));
    await pipeline.exec().catch(() => undefined);
    redis?.disconnect();
    await messaging?.teardown();
    sns.destroy();
    sqs.destroy();
    execFileSync('bash', [`${ROOT}scripts/env.sh`, 'up'], { stdio: 'inherit' });
  }, 120_000);

  it('every key is gone afterwards, no event lost, DLQ empty', async () => {
    // Act: stream; a third of the way in, the primary is shut down.
    const events = asins.map((id) => productUpdated(id));
    const sentinel = new Redis({ ...stackAccess().node, ...s.redis.sentinels[0]! });
    const [, port] = (await sentinel.call(
      'SENTINEL',
      'get-master-addr-by-name',
      s.redis.sentinelName,
    )) as string[];
    await publishAll(sns, messaging.topics.catalog, events.slice(0, 330));
    const { cli } = stackAccess();
    execFileSync(
      'redis-cli',
      [...cli.args, '-h', s.redis.primary.host, '-p', String(port), 'shutdown', 'nosave'],
      {
        env: { ...process.env, ...cli.env },
      },
    );
    await publishAll(sns, messaging.topics.catalog, events.slice(330));

    // Assess: a new primary, holding none of the keys.
    await eventually(
      async () => {
        const [, now] = (await sentinel.call(
          'SENTINEL',
          'get-master-addr-by-name',
          s.redis.sentinelName,
        )) as string[];
        return now !== port ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'Sentinel to promote the replica' },
    );
    sentinel.disconnect();
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
