/**
 * Worker presence (decision 0024) on the shared Sentinel Redis, in a test namespace. The test
 * plays the workers: a watermark loop (the survivors' canaries, decision 0022: the watermark
 * stays fresh throughout) and presence messages of two workers on the namespace's watermark
 * channel. One of them falls silent without saying "leaving", as a worker SIGKILLed while it
 * holds received, unapplied messages would: the change it held never reaches Redis. The
 * client must stop serving values older than the lag window from then until the victim's last
 * presence + visibility + heartbeat + margin, then trust its caches again. A worker that says
 * "leaving" (it drained) and then falls silent changes nothing.
 * Timings are shortened: presence every 100 ms, window 800 ms, hand-over 1,000 + 300 + 200 ms.
 * A read that must trust the caches waits first for the test's own canary and presences sent
 * after its sleep: a stall of the test process (CI) silences the workers it plays.
 */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { encodePresence, parsePresence } from '../../../src/adapters/redis/presence-message.ts';
import { encodeWatermark, watermarkChannel } from '../../../src/adapters/redis/watermark-message.ts';
import type { CacheClient } from '../../../src/client/cache-client.ts';
import { freshCanary, selfPlayedClient, sentinelClientWorld, sleep } from './client-test-kit.ts';
import { channelWatch } from '../../support/load-tolerance.ts';

const WINDOW_MS = 800;
const CANARY_MS = 100;
const PRESENCE_MS = 100;
const MISSED = 3;
const HAND_OVER_MS = 1_000 + 300 + 200;

const presenceOf =
  (worker: string) =>
  (raw: string): boolean =>
    parsePresence(raw)?.worker === worker;

/** A loop publishing `message()` every `everyMs` until stopped; stop() resolves when it has. */
function loop(admin: Redis, channel: string, everyMs: number, message: () => string) {
  let on = true;
  const done = (async () => {
    while (on) await admin.publish(channel, message()).then(() => sleep(everyMs));
  })();
  return {
    async stop(): Promise<number> {
      on = false;
      await done;
      return Date.now(); // the last message went out before this
    },
  };
}

describe('worker presence', () => {
  const s = sentinelClientWorld();

  // Neither the breaker's nor the L1 silence rule's test: see selfPlayedClient.
  const { options: tolerant, breaker, flushes } = selfPlayedClient();

  async function guardedClient(origin: { version: number; calls: number }): Promise<CacheClient> {
    return s.world.client({
      ...tolerant,
      loaders: {
        product: ({ id }) => {
          origin.calls++;
          return Promise.resolve({ data: { asin: id, v: origin.version }, version: origin.version });
        },
      },
      pipelineGuard: {
        canaryIntervalMs: CANARY_MS,
        lagWindowMs: { product: WINDOW_MS },
        presence: {
          intervalMs: PRESENCE_MS,
          missedIntervals: MISSED,
          visibilityTimeoutMs: 1_000,
          visibilityHeartbeatMs: 300,
          handOverMarginMs: 200,
        },
      },
    });
  }

  it('refetches values older than the window while a worker that fell silent without leaving may hold messages, then trusts again', async () => {
    // Prepare: a fresh watermark, two workers present, a value older than the window in L1
    const channel = watermarkChannel(s.world.ns);
    const heard = await channelWatch(s.admin, channel);
    const canaries = loop(s.admin, channel, CANARY_MS, () =>
      encodeWatermark({ topic: 'catalog', originTimeMs: Date.now(), queue: 'catalog' }),
    );
    const survivor = loop(s.admin, channel, PRESENCE_MS, () => encodePresence('host-a:11:aaaaaaaa', false));
    const victim = loop(s.admin, channel, PRESENCE_MS, () => encodePresence('host-b:12:bbbbbbbb', false));
    const origin = { version: 1, calls: 0 };
    const client = await guardedClient(origin);
    await sleep(3 * CANARY_MS);
    expect((await client.get('product', 'B0PRESENT1')).source).toBe('origin');
    await sleep(WINDOW_MS + 200);
    // The test plays the workers: after its own stall (a loaded CI machine) they would look
    // silent, so the read is judged on presences and a canary sent after the sleep.
    await heard.next(freshCanary(), presenceOf('host-a:11:aaaaaaaa'), presenceOf('host-b:12:bbbbbbbb'));
    const trusted = await client.get('product', 'B0PRESENT1');
    expect(trusted.source).toBe('l1'); // healthy: served from the cache, however old
    expect(trusted.ageMs).toBeGreaterThan(WINDOW_MS);

    // Act: the victim dies holding the change to v2 (its invalidation never arrives)
    const lastHeard = await victim.stop();
    origin.version = 2;
    const callsBefore = origin.calls;
    const reads: { at: number; version: number | undefined; source: string }[] = [];
    while (Date.now() - lastHeard < HAND_OVER_MS + 300) {
      const r = await client.get('product', 'B0PRESENT1');
      reads.push({ at: Date.now() - lastHeard, version: r.version, source: r.source });
      await sleep(20);
    }
    const callsDuring = origin.calls - callsBefore;
    // The victim is forgotten: once the last refetch is older than the window, it is served from L1
    await sleep(WINDOW_MS + 100);
    await heard.next(freshCanary(), presenceOf('host-a:11:aaaaaaaa'));
    const after = await client.get('product', 'B0PRESENT1');
    await Promise.all([canaries.stop(), survivor.stop()]);
    await heard.close();

    // Assess: once the silence exceeded the threshold (+ 150 ms of delivery and read slack),
    // no read served v1; the distrust ended with the hand-over span and the cache was served
    // again, older than the window, without the origin
    const detectedBy = PRESENCE_MS * MISSED + 150;
    const staleAfterDetection = reads.filter((r) => r.at > detectedBy && r.version !== 2);
    console.log(
      `worker presence: ${reads.length} reads after the silence, first v2 at +${reads.find((r) => r.version === 2)?.at} ms, ${staleAfterDetection.length} v1 after +${detectedBy} ms; origin calls ${callsDuring}`,
    );
    expect(staleAfterDetection).toEqual([]);
    // Refetches only while distrusted: one per (window - margin) at most, plus the first
    expect(callsDuring).toBeGreaterThanOrEqual(1);
    expect(callsDuring).toBeLessThanOrEqual(1 + Math.ceil(HAND_OVER_MS / (WINDOW_MS - CANARY_MS)));
    expect(after.source).toBe('l1');
    expect(after.version).toBe(2);
    expect(after.ageMs).toBeGreaterThan(WINDOW_MS);
    expect(origin.calls - callsBefore).toBe(callsDuring);
    expect(breaker.opened).toBe(0);
    expect(flushes).toEqual(['subscribed']); // each client's first subscription only
  });

  it('keeps serving the cache when a worker said "leaving" before falling silent', async () => {
    // Prepare: as above, then the worker leaves gracefully
    const channel = watermarkChannel(s.world.ns);
    const heard = await channelWatch(s.admin, channel);
    const canaries = loop(s.admin, channel, CANARY_MS, () =>
      encodeWatermark({ topic: 'catalog', originTimeMs: Date.now(), queue: 'catalog' }),
    );
    const leaver = loop(s.admin, channel, PRESENCE_MS, () => encodePresence('host-c:13:cccccccc', false));
    const origin = { version: 1, calls: 0 };
    const client = await guardedClient(origin);
    await sleep(3 * CANARY_MS);
    expect((await client.get('product', 'B0PRESENT2')).source).toBe('origin');
    await sleep(WINDOW_MS + 200);

    // Act: "leaving", then silence for longer than the hand-over span
    await leaver.stop();
    await s.admin.publish(channel, encodePresence('host-c:13:cccccccc', true));
    const leftAt = Date.now();
    const sources = new Set<string>();
    while (Date.now() - leftAt < HAND_OVER_MS + 300) {
      await heard.next(freshCanary()); // each read judged on a canary sent after the sleep
      sources.add((await client.get('product', 'B0PRESENT2')).source);
      await sleep(50);
    }
    await canaries.stop();
    await heard.close();

    // Assess: every read came from L1, no refetch
    expect([...sources]).toEqual(['l1']);
    expect(origin.calls).toBe(1);
    expect(breaker.opened).toBe(0);
    expect(flushes).toEqual(['subscribed', 'subscribed']); // each client's first subscription only
  });
});
