/**
 * Origin down (issue 12, Done when), shortened from 30 s to 6 s with the breaker's interval
 * scaled to 1 s (sampling window 1 s, half-open after 1 s): product ('bounded-staleness',
 * fail-safe on) is served from its stale copy; promo ('strong-invalidation') never is: its
 * reads fail with OriginUnavailableError. Origin calls while down are bounded by the breaker
 * (the calls that open it, then about one probe per interval per family); after the origin is
 * back, the first origin answer comes within one breaker interval.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Loader, ReadResult } from '../../../src/client/cache-client.ts';
import { OriginUnavailableError } from '../../../src/client/client-errors.ts';
import { cleanup, sentinelConfig } from '../redis/redis-test-kit.ts';
import { clientWorld, sleep } from './client-test-kit.ts';
import type { ClientWorld } from './client-test-kit.ts';

const DOWN_MS = 6_000;
const BREAKER_MS = 1_000;

describe('origin down', () => {
  const config = sentinelConfig();
  let admin: Redis;
  let world: ClientWorld;

  beforeAll(() => {
    if (config.mode !== 'sentinel') throw new Error('unreachable');
    admin = new Redis({ sentinels: config.sentinels.map((s) => ({ ...s })), name: config.name });
  });
  afterAll(async () => {
    await world.close();
    await cleanup(admin, world.ns);
    admin.disconnect();
  });

  it('serves fail-safe only where the class allows, bounds origin calls, recovers within one interval', async () => {
    // Prepare
    world = clientWorld(config, admin);
    let down = false;
    const calls = { up: 0, down: 0 };
    const loader: Loader = async ({ id, family }) => {
      if (down) {
        calls.down++;
        await sleep(5);
        throw new Error('origin 503');
      }
      calls.up++;
      return { data: { id, family }, version: 1 };
    };
    const client = await world.client({
      loaders: { product: loader, promo: loader },
      // The product value goes stale at once, and only fail-safe may serve it (no SWR).
      readPolicy: { product: { softTtlMs: 100, staleWhileRevalidate: false } },
      origin: {
        softTimeoutMs: 100,
        hardTimeoutMs: 500,
        breaker: { failureRatio: 0.5, halfOpenAfterMs: BREAKER_MS, samplingMs: BREAKER_MS, minimumRps: 2 },
      },
    });
    await client.get('product', 'B0ORIGINDN');
    await sleep(150);
    const results: { family: string; at: number; result?: ReadResult; error?: unknown }[] = [];
    const read = async (family: 'product' | 'promo', id: string): Promise<void> => {
      const at = performance.now();
      try {
        results.push({ family, at, result: await client.get(family, id) });
      } catch (error) {
        results.push({ family, at, error });
      }
    };

    // Act: down for DOWN_MS with 50 reads/s per family, then up again
    down = true;
    const downAt = performance.now();
    let n = 0;
    while (performance.now() - downAt < DOWN_MS) {
      await Promise.all([read('product', 'B0ORIGINDN'), read('promo', `section-${n++ % 5}`)]);
      await sleep(20);
    }
    down = false;
    const upAt = performance.now();
    let recoveredAt: number | undefined;
    while (recoveredAt === undefined && performance.now() - upAt < 5 * BREAKER_MS) {
      await read('promo', 'section-0');
      const last = results.at(-1);
      if (last?.result?.source === 'origin') recoveredAt = performance.now();
      await sleep(20);
    }

    // Assess
    const during = results.filter((r) => r.at >= downAt && r.at < upAt);
    const product = during.filter((r) => r.family === 'product');
    const promo = during.filter((r) => r.family === 'promo');
    const productSources = new Set(product.map((r) => r.result?.source ?? 'error'));
    console.log(
      `origin down ${DOWN_MS} ms: ${during.length} reads, ${calls.down} origin calls while down,` +
        ` product sources ${[...productSources].join(',')}, recovery ${((recoveredAt ?? NaN) - upAt).toFixed(0)} ms`,
    );
    expect(product.every((r) => r.result?.source === 'fail-safe' || r.result?.source === 'stale')).toBe(true);
    expect(product.filter((r) => r.result?.source === 'fail-safe').length).toBeGreaterThan(0);
    expect(promo.every((r) => r.error instanceof OriginUnavailableError)).toBe(true);
    expect(promo.some((r) => (r.error as OriginUnavailableError).reason === 'breaker-open')).toBe(true);
    // Opening calls (a window's worth at most) + one probe per interval per family.
    const bound = 2 * (BREAKER_MS / 20 + DOWN_MS / BREAKER_MS + 1);
    expect(calls.down).toBeLessThanOrEqual(bound);
    expect(calls.down).toBeLessThan(during.length / 4);
    expect(recoveredAt).toBeDefined();
    expect(recoveredAt! - upAt).toBeLessThanOrEqual(BREAKER_MS + 250);
  }, 30_000);
});
