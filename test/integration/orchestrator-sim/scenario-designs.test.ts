/**
 * The hand-written designs the scenarios compare (naive-cache.ts), on a private
 * redis-server: what each does with concurrent misses and with a change it is not told of.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Loader } from '../../../src/client/cache-client.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { createNaiveCache } from '../../../src/orchestrator-sim/naive-cache.ts';
import { startRedisNode } from '../../../src/scenarios/redis-nodes.ts';
import type { RedisNode } from '../../../src/scenarios/redis-nodes.ts';

let node: RedisNode;
beforeAll(async () => {
  node = await startRedisNode();
});
afterAll(() => node.stop());

/** A loader that counts its calls, answers after `ms` with the current version. */
function countingLoader(ms = 30) {
  const state = { calls: 0, version: 1 };
  const loader: Loader = async () => {
    state.calls++;
    const v = state.version;
    await new Promise((r) => setTimeout(r, ms));
    return { data: { v }, version: v };
  };
  return { state, loader };
}

const keys = createKeyBuilder({ namespace: 'dsgn', locales: ['en-US'] });

describe('scenario designs (naive-cache.ts modes)', () => {
  it('naive: every concurrent miss calls the origin', async () => {
    const { state, loader } = countingLoader();
    const cache = createNaiveCache({ redis: node.client, keys, loaders: { product: loader } });
    await Promise.all(
      Array.from({ length: 10 }, () => cache.get('product', 'B00000000N', { locale: 'en-US' })),
    );
    expect(state.calls).toBe(10);
  });

  it('local-flight: one origin call per key per process, none shared across processes', async () => {
    const { state, loader } = countingLoader();
    const make = () =>
      createNaiveCache({
        redis: node.client,
        keys,
        loaders: { product: loader },
        singleFlight: 'process',
        l1MaxEntries: 0,
      });
    const [a, b] = [make(), make()];
    const reads = [a, b].flatMap((c) =>
      Array.from({ length: 10 }, () => c.get('product', 'B00000000F', { locale: 'en-US' })),
    );
    const results = await Promise.all(reads);
    expect(state.calls).toBe(2);
    expect(new Set(results.map((r) => r.version))).toEqual(new Set([1]));
    // After the flight, the value is in L2: the next read is a hit.
    expect((await a.get('product', 'B00000000F', { locale: 'en-US' })).source).toBe('l2');
  });

  it('ttl-l1: no Redis at all, and the L1 keeps the old version after the origin changed', async () => {
    const { state, loader } = countingLoader(0);
    const redis = new Proxy({} as typeof node.client, {
      get: () => () => Promise.reject(new Error('ttl-l1 must not touch Redis')),
    });
    const cache = createNaiveCache({ redis, keys, loaders: { promo: loader }, l2: false });
    const first = await cache.get('promo', 'manga-home', { locale: 'en-US' });
    state.version = 2;
    const second = await cache.get('promo', 'manga-home', { locale: 'en-US' });
    expect(first).toMatchObject({ source: 'origin', version: 1 });
    expect(second).toMatchObject({ source: 'l1', version: 1 });
    expect(state.calls).toBe(1);
  });
});
