/**
 * Process lifecycle under load: a worker killed with SIGKILL mid-stream loses nothing (its
 * unacked messages come back to the next worker); SIGTERM finishes the batches in hand and
 * exits 0 inside the drain deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { eventually, queueDepth, snsClient, sqsClient } from '../support/aws.ts';
import { productUpdated, publishAll } from '../support/events.ts';
import { privateWorld, type PrivateWorld } from '../support/private-world.ts';
import type { WorkerProcess } from '../support/worker-process.ts';

const EVENTS = 600;
const DRAIN_DEADLINE_MS = 10_000;

describe('worker lifecycle under load', () => {
  const sns = snsClient();
  const sqs = sqsClient();
  let world: PrivateWorld;

  beforeAll(async () => {
    world = await privateWorld({ visibilityTimeoutSeconds: 4 });
  });

  afterAll(async () => {
    await world?.teardown();
    sns.destroy();
    sqs.destroy();
  });

  const start = (namespace: string) =>
    world.startWorker(namespace, {
      WORKER_VISIBILITY_TIMEOUT_S: '4',
      WORKER_HEARTBEAT_INTERVAL_S: '2',
      WORKER_DRAIN_DEADLINE_MS: String(DRAIN_DEADLINE_MS),
      WORKER_POLLERS_PER_QUEUE: '4',
    });

  async function seed(namespace: string, prefix: string) {
    const keys = createKeyBuilder({ namespace, locales: ['en-US', 'ja-JP'] });
    const asins = Array.from({ length: EVENTS }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`);
    const all = asins.flatMap((id) => keys.variantKeys({ family: 'product', tenant: 'default', id }));
    const pipeline = world.redis.client.pipeline();
    for (const k of all) pipeline.set(k, 'stale');
    await pipeline.exec();
    return { asins, all };
  }

  const remaining = async (all: readonly string[]) => {
    const pipeline = world.redis.client.pipeline();
    for (const k of all) pipeline.exists(k);
    return ((await pipeline.exec()) ?? []).filter(([, n]) => n === 1).length;
  };

  /**
   * Publishes the stream and, at the worker's first progress (while the stream is still
   * arriving), sends `signal`. Resolves once everything is published.
   */
  async function signalMidStream(
    worker: WorkerProcess,
    signal: NodeJS.Signals,
    asins: string[],
    all: string[],
  ) {
    const publishing = publishAll(
      sns,
      world.messaging.topics.catalog,
      asins.map((id) => productUpdated(id)),
    );
    await eventually(async () => ((await remaining(all)) < all.length ? true : undefined), {
      intervalMs: 10,
      what: 'the worker to be mid-stream',
    });
    const exit = await worker.stop(signal);
    const leftAtSignal = await remaining(all);
    await publishing;
    return { exit, leftAtSignal };
  }

  it('SIGKILL mid-stream: after a restart every event is applied', async () => {
    // Prepare
    const { asins, all } = await seed('kill', 'B0KL');
    const first = await start('kill');

    // Act: kill it at its first progress, while the stream is still being published.
    const { exit: killed, leftAtSignal: leftAtKill } = await signalMidStream(first, 'SIGKILL', asins, all);
    await start('kill');

    // Assess
    expect(killed.signal).toBe('SIGKILL');
    expect(leftAtKill).toBeGreaterThan(0);
    await eventually(async () => ((await remaining(all)) === 0 ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 500,
      what: 'every key to be deleted after the restart',
    });
    await eventually(
      async () => ((await queueDepth(sqs, world.messaging.queues.catalog.url)) === 0 ? true : undefined),
      {
        timeoutMs: 30_000,
        what: 'the queue to drain',
      },
    );
    expect(await queueDepth(sqs, world.messaging.queues.catalog.dlqUrl)).toBe(0);
  }, 180_000);

  it('SIGTERM during load: in-flight batches complete, exit 0, inside the deadline', async () => {
    // Prepare: the previous test's worker keeps running; stop it so this one is alone.
    await world.stopWorkers();
    const { asins, all } = await seed('term', 'B0TM');
    const worker = await start('term');

    // Act: SIGTERM at the first progress, while the stream is still arriving.
    const { exit } = await signalMidStream(worker, 'SIGTERM', asins, all);

    // Assess
    expect(exit.code).toBe(0);
    expect(exit.tookMs).toBeLessThan(DRAIN_DEADLINE_MS);
    expect(worker.logs.some((l) => /abandoning batches/.test(String(l.msg)))).toBe(false);
    expect(worker.logs.at(-1)?.msg).toBe('worker stopped');
    // Nothing in hand was lost: a new worker finishes the rest, and the DLQ stays empty.
    await start('term');
    await eventually(async () => ((await remaining(all)) === 0 ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 500,
      what: 'the rest of the stream to be applied',
    });
    expect(await queueDepth(sqs, world.messaging.queues.catalog.dlqUrl)).toBe(0);
  }, 180_000);
});
