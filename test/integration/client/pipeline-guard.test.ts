/**
 * The pipeline guard (decision 0022) on the shared Sentinel Redis, in a test namespace: the
 * workers' canaries are played by the test, which publishes watermark messages on the
 * namespace's watermark channel as a worker that applied a canary would. A change at the
 * origin whose invalidation never arrives (the pipeline stopped) must not be served past the
 * family's lag window once the watermark stops; when the watermark moves again, the cache is
 * served again. The lag window is shortened to 800 ms (product) so the test is quick.
 */
import { describe, expect, it } from 'vitest';
import { encodeWatermark, watermarkChannel } from '../../../src/adapters/redis/watermark-message.ts';
import { eventually } from '../redis/redis-test-kit.ts';
import { freshCanary, selfPlayedClient, sentinelClientWorld, sleep } from './client-test-kit.ts';
import { channelWatch } from '../../support/load-tolerance.ts';

const WINDOW_MS = 800;
const CANARY_MS = 100;

describe('pipeline guard', () => {
  const s = sentinelClientWorld();

  it('refetches a value older than the window once the watermark stops, and serves the cache again when it resumes', async () => {
    // Prepare: a watermark loop playing the workers' canaries on the catalog topic
    const channel = watermarkChannel(s.world.ns);
    const heard = await channelWatch(s.admin, channel);
    let canaries = true;
    const loop = (async () => {
      while (canaries)
        await s.admin
          .publish(channel, encodeWatermark({ topic: 'catalog', originTimeMs: Date.now(), queue: 'catalog' }))
          .then(() => sleep(CANARY_MS));
    })();
    let version = 1;
    let originCalls = 0;
    // Neither the breaker's nor the L1 silence rule's test: see selfPlayedClient.
    const { options: tolerant, breaker, flushes } = selfPlayedClient();
    const client = await s.world.client({
      ...tolerant,
      loaders: {
        product: ({ id }) => {
          originCalls++;
          return Promise.resolve({ data: { asin: id, v: version }, version });
        },
      },
      pipelineGuard: { canaryIntervalMs: CANARY_MS, lagWindowMs: { product: WINDOW_MS } },
    });
    await sleep(3 * CANARY_MS); // the first canaries heard
    expect((await client.get('product', 'B0GUARDED1')).source).toBe('origin');
    await sleep(WINDOW_MS + 200); // the value is now older than the window, the pipeline healthy
    // The test plays the workers: after its own stall (a loaded CI machine) the watermark would
    // look stopped, so a read meant to trust the caches is judged on a canary sent after the sleep.
    await heard.next(freshCanary());
    const trusted = await client.get('product', 'B0GUARDED1');
    expect(trusted.source).toBe('l1'); // trusted: served from the cache, however old
    expect(originCalls).toBe(1);

    // Act: the pipeline stops (no more canaries); the origin changes and nothing invalidates it
    canaries = false;
    await loop;
    const stoppedAt = Date.now();
    version = 2;
    const reads: { at: number; version: number | undefined; source: string }[] = [];
    while (Date.now() - stoppedAt < 2 * WINDOW_MS) {
      const r = await client.get('product', 'B0GUARDED1');
      reads.push({ at: Date.now(), version: r.version, source: r.source });
      await sleep(20);
    }

    // Assess: no read after the change served v1 once the window had passed
    const beyond = reads.filter((r) => r.at - stoppedAt > WINDOW_MS && r.version !== 2);
    console.log(
      `pipeline guard: ${reads.length} reads after the stop, ${beyond.length} served v1 beyond ${WINDOW_MS} ms; origin calls ${originCalls}`,
    );
    expect(beyond).toEqual([]);
    // One refetch per window at most while unverified (values filled within the window are served)
    expect(originCalls).toBeGreaterThanOrEqual(2);
    expect(originCalls).toBeLessThanOrEqual(2 + Math.ceil((2 * WINDOW_MS) / (WINDOW_MS - CANARY_MS)));

    // Act: the watermark resumes
    canaries = true;
    const resumed = (async () => {
      while (canaries)
        await s.admin
          .publish(channel, encodeWatermark({ topic: 'catalog', originTimeMs: Date.now(), queue: 'catalog' }))
          .then(() => sleep(CANARY_MS));
    })();
    await sleep(3 * CANARY_MS);
    await heard.next(freshCanary());
    const before = originCalls;
    await eventually(
      async () => (await client.get('product', 'B0GUARDED1')).source === 'l1',
      2_000,
      'l1 hit',
    );
    await sleep(WINDOW_MS + 200);
    await heard.next(freshCanary());
    const again = await client.get('product', 'B0GUARDED1');
    canaries = false;
    await resumed;
    await heard.close();

    // Assess: served from the cache, older than the window, no origin call
    expect(again.source).toBe('l1');
    expect(again.version).toBe(2);
    expect(again.ageMs).toBeGreaterThan(WINDOW_MS);
    expect(originCalls).toBe(before);
    expect(breaker.opened).toBe(0);
    expect(flushes).toEqual(['subscribed']); // each client's first subscription only
  });
});
