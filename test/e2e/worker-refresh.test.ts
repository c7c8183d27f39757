/**
 * The hourly review refresh through the real path: two worker processes receive two ticks
 * for the same hour on the review-refresh queue (a duplicated schedule). One run happens:
 * every hot review key is written through the fence, each fetched from the Reviews origin
 * once, within its budget, and both ticks leave the queue.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { createOriginSimulator, type OriginSimulator } from '../../src/origin-sim/origin-simulator.ts';
import { eventually, queueDepth, sqsClient } from '../support/aws.ts';
import { privateWorld, type PrivateWorld } from '../support/private-world.ts';

const HOT = Array.from({ length: 200 }, (_, i) => `B0HOT${String(i).padStart(5, '0')}`);
const RATE = 100;

describe('hourly review refresh across the fleet', () => {
  const sqs = sqsClient();
  const keys = createKeyBuilder({ namespace: 'refresh', locales: ['en-US', 'ja-JP'] });
  let world: PrivateWorld;
  let sim: OriginSimulator;
  let originUrl: string;

  beforeAll(async () => {
    world = await privateWorld();
    sim = createOriginSimulator({ config: { latencyScale: 0.05 } });
    originUrl = await sim.listen(0, '127.0.0.1');
    const env = {
      WORKER_ORIGIN_URL: originUrl,
      WORKER_REFRESH_ASINS: HOT.join(','),
      WORKER_REFRESH_RATE_PER_S: String(RATE),
    };
    await Promise.all([world.startWorker('refresh', env), world.startWorker('refresh', env)]);
  });

  afterAll(async () => {
    await world?.teardown();
    await sim?.close();
    sqs.destroy();
  });

  it('runs once for two ticks of the same hour, writing every hot review key within the budget', async () => {
    // Prepare: two ticks for the current hour, as a duplicated schedule would send them.
    const scheduledAt = new Date().toISOString();
    const tick = () =>
      JSON.stringify({
        type: 'refresh.tick',
        schemaVersion: 1,
        eventId: randomUUID(),
        occurredAt: scheduledAt,
        scheduledAt,
        version: 1,
      });

    // The simulator counts calls when this process's event loop gets to them: a stall of it
    // bunches calls the workers started on time. Its longest stall bounds that error.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();

    // Act
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: world.messaging.queues.reviewRefresh.url,
        Entries: [
          { Id: 'a', MessageBody: tick() },
          { Id: 'b', MessageBody: tick() },
        ],
      }),
    );

    // Assess: every locale variant of every hot review is written, through the fence.
    const reviewKeys = HOT.flatMap((id) => keys.variantKeys({ family: 'review', tenant: 'default', id }));
    await eventually(
      async () => {
        const present = await world.redis.client.exists(...reviewKeys);
        return present === reviewKeys.length ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'every hot review key to be written' },
    );
    await eventually(
      async () =>
        (await queueDepth(sqs, world.messaging.queues.reviewRefresh.url)) === 0 ? true : undefined,
      { timeoutMs: 60_000, what: 'both ticks to be acked' },
    );
    const stats = (await (await fetch(`${originUrl}/_sim/stats`)).json()) as {
      calls: { reviews: number };
      maxPerSecond: { reviews: number };
    };
    loopDelay.disable();
    // One run: each hot key fetched once, not twice; and never over the origin's budget, but
    // for the calls one stall of this process could bunch (RATE x its longest stall).
    const stallMs = loopDelay.max / 1e6;
    const bunched = Math.ceil((RATE * stallMs) / 1_000);
    console.log(
      `review refresh: ${stats.calls.reviews} calls, at most ${stats.maxPerSecond.reviews} in a second ` +
        `(budget ${RATE}; this process's longest stall ${stallMs.toFixed(0)} ms, allowing ${bunched} bunched)`,
    );
    expect(stats.calls.reviews).toBe(HOT.length);
    expect(stats.maxPerSecond.reviews).toBeLessThanOrEqual(RATE + bunched);
    const ttl = await world.redis.client.pttl(reviewKeys[0]!);
    expect(ttl).toBeGreaterThan(3_600_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000 + 5 * 60_000);
  }, 120_000);
});
