/**
 * The pipeline canary end to end (decision 0022): a real worker process, on a private
 * messaging topology in LocalStack and a test namespace on the shared Sentinel Redis,
 * publishes `pipeline.canary` to each of its three topics; the canaries travel SNS -> SQS ->
 * the worker like any event, and the watermark the worker announces is heard by a read-side
 * client's PipelineWatermark, for every topic, moving forward. Nothing lands in a DLQ, and the
 * L1 channel carries no invalidation for them. When the worker stops, the watermark stops.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineWatermark } from '../../src/client/pipeline-watermark.ts';
import { eventually, queueDepth, sqsClient } from '../support/aws.ts';
import { privateMessaging, type PrivateMessaging } from '../support/private-messaging.ts';
import { stack } from '../support/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';
import { stackAccess } from '../support/redis-access.ts';

const sqs = sqsClient();
const INTERVAL_MS = 200;

describe('pipeline canary through LocalStack', () => {
  const s = stack();
  const namespace = `pc${Math.random().toString(36).slice(2, 8)}`;
  let messaging: PrivateMessaging;
  let worker: WorkerProcess | undefined;
  let watermark: PipelineWatermark;
  let l1: Redis;
  const l1Messages: string[] = [];

  beforeAll(async () => {
    messaging = await privateMessaging();
    watermark = new PipelineWatermark(
      {
        mode: 'sentinel',
        sentinels: s.redis.sentinels,
        name: s.redis.sentinelName,
        tuning: stackAccess().tuning,
      },
      namespace,
    );
    await watermark.ready();
    l1 = new Redis({ ...stackAccess().node, ...s.redis.primary });
    await l1.subscribe(`${namespace}:l1`);
    l1.on('message', (_c, raw: string) => l1Messages.push(raw));
  });

  afterAll(async () => {
    await worker?.stop();
    await watermark?.close();
    l1?.disconnect();
    await messaging?.teardown();
  });

  it('the worker publishes canaries, applies them and announces a watermark per topic that moves', async () => {
    // Act
    worker = await startWorkerProcess({
      messaging,
      namespace,
      env: {
        WORKER_CATALOG_TOPIC_ARN: messaging.topics.catalog,
        WORKER_PROMOTIONS_TOPIC_ARN: messaging.topics.promotions,
        WORKER_SESSIONS_TOPIC_ARN: messaging.topics.sessions,
        WORKER_CANARY_INTERVAL_MS: String(INTERVAL_MS),
        WORKER_REVIEW_REFRESH_QUEUE_URL: '',
        WORKER_REVIEW_REFRESH_DLQ_URL: '',
      },
    });
    const topics = ['catalog', 'promotions', 'sessions'] as const;
    await eventually(() => (topics.every((t) => watermark.newest()[t] !== undefined) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: 'a watermark per topic',
    });
    const first = watermark.newest();
    await eventually(
      () =>
        topics.every((t) => (watermark.newest()[t] ?? 0) > (first[t] ?? 0) + 2 * INTERVAL_MS)
          ? true
          : undefined,
      { timeoutMs: 30_000, intervalMs: 50, what: 'the watermarks to move' },
    );
    const heardAt = Date.now();
    const now = watermark.newest();

    // Assess: recent (the emulator's delivery time, loaded or not), moving, nothing dead-lettered
    console.log(
      'pipeline canary: watermark age per topic (ms)',
      Object.fromEntries(topics.map((t) => [t, heardAt - (now[t] ?? 0)])),
    );
    for (const t of topics) expect(heardAt - (now[t] ?? 0)).toBeLessThan(15_000);
    const dlqs = ['catalog', 'promotions', 'sessions'] as const;
    for (const q of dlqs) expect(await queueDepth(sqs, messaging.queues[q].dlqUrl)).toBe(0);
    expect(l1Messages.filter((m) => m.includes('"invalidate"'))).toEqual([]);

    // Act: the worker stops; the watermark stops with it
    await worker.stop();
    worker = undefined;
    await new Promise((r) => setTimeout(r, 1_500));
    const after = watermark.newest();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(watermark.newest()).toEqual(after);
  });
});
