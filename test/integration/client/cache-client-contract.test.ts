/**
 * The client's contract suite, one table of cases over both Redis modes (describe.each):
 * Sentinel (standalone path) and the 6-node cluster. Fills, the fence and the epoch races,
 * negative caching, the reco generation, the fleet-wide single-flight under hot-key expiry.
 */
import { Cluster, Redis } from 'ioredis';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { RedisClient, RedisConfig } from '../../../src/adapters/redis/redis-connection.ts';
import type { Loader } from '../../../src/client/cache-client.ts';
import { InvalidIdentifierError } from '../../../src/core/errors.ts';
import { cleanup, eventually, sentinelConfig } from '../redis/redis-test-kit.ts';
import { clientWorld, clusterConfig, deferred, sleep } from './client-test-kit.ts';
import type { ClientWorld } from './client-test-kit.ts';
import { LOAD_TOLERANT_REDIS_TIMEOUT_MS, redisBreakerWatch } from '../../support/load-tolerance.ts';
import { stackAccess } from '../../support/redis-access.ts';

const MODES: [string, () => RedisConfig][] = [
  ['sentinel', sentinelConfig],
  ['cluster', clusterConfig],
];

function adminFor(config: RedisConfig): RedisClient {
  const access = stackAccess();
  if (config.mode === 'cluster')
    return new Cluster(
      config.nodes.map((n) => ({ ...n })),
      { redisOptions: access.node },
    );
  if (config.mode === 'sentinel')
    return new Redis({
      ...access.sentinel,
      sentinels: config.sentinels.map((s) => ({ ...s })),
      name: config.name,
    });
  return new Redis({ ...access.node, host: config.host, port: config.port });
}

describe.each(MODES)('cache client over %s', (_mode, configOf) => {
  const config = configOf();
  let admin: RedisClient;
  let world: ClientWorld;

  beforeAll(() => {
    admin = adminFor(config);
  });
  afterAll(() => admin.disconnect());
  afterEach(async () => {
    await world.close();
    await cleanup(admin, world.ns);
  });
  const setup = (): ClientWorld => (world = clientWorld(config, admin));

  it('fills L2 through the fence with price stripped, then serves L1, then L2 after a drop', async () => {
    // Prepare
    const w = setup();
    let calls = 0;
    const loader: Loader = ({ id }) => {
      calls++;
      return Promise.resolve({
        data: { asin: id, title: 'Kettle', price: 12, nested: { priceCents: 1 } },
        version: 4,
      });
    };
    const client = await w.client({ loaders: { product: loader } });
    const key = w.keys.valueKey({ family: 'product', tenant: 'acme', id: 'B000000001', locale: 'ja-JP' });

    // Act
    const first = await client.get('product', 'B000000001', { locale: 'ja-JP' });
    const second = await client.get('product', 'B000000001', { locale: 'ja-JP' });

    // Assess
    expect(first).toMatchObject({
      source: 'origin',
      version: 4,
      value: { asin: 'B000000001', title: 'Kettle', nested: {} },
    });
    expect(second.source).toBe('l1');
    expect(calls).toBe(1);
    const raw = await admin.get(key);
    expect(raw).toMatch(
      /^4\|\{"mc":1,"at":\d+,"d":\{"asin":"B000000001","title":"Kettle","nested":\{\}\}\}$/,
    );
    expect(await admin.pttl(key)).toBeGreaterThan(290_000);
    expect(client.inspectL1('product', 'B000000001', { locale: 'ja-JP' })?.version).toBe(4);
  });

  it('refuses an unconfigured locale, price and a reco read without seed', async () => {
    const client = await setup().client();
    await expect(client.get('product', 'B000000001', { locale: 'fr-FR' })).rejects.toThrow(
      InvalidIdentifierError,
    );
    await expect(client.get('price' as 'product', 'B000000001')).rejects.toThrow(InvalidIdentifierError);
    await expect(client.get('reco', 'user42')).rejects.toThrow(InvalidIdentifierError);
  });

  it('fill race on L2 and L1: a load that began before an invalidation fills neither', async () => {
    // Prepare
    const w = setup();
    const hold = deferred();
    const started = deferred();
    let version = 1;
    const loader: Loader = async ({ id }) => {
      const v = version;
      started.resolve();
      await hold.promise;
      return { data: { storeSection: id, title: `promo v${v}` }, version: v };
    };
    const client = await w.client({ loaders: { promo: loader } });
    const key = w.keys.valueKey({ family: 'promo', tenant: 'acme', id: 'golden-week', locale: 'en-US' });

    // Act
    const read = client.get('promo', 'golden-week');
    await started.promise; // the origin answered v1 ...
    version = 2;
    await w.invalidate({ family: 'promo', tenant: 'acme', id: 'golden-week' }); // ... then the change
    const epochAfterInvalidation = client.l1Epoch;
    hold.resolve();
    const result = await read;

    // Assess
    expect(result).toMatchObject({ source: 'origin', version: 1 }); // returned, not cached
    expect(await admin.get(key)).toBeNull();
    expect(await admin.exists(`${key}:lease`)).toBe(0);
    expect(client.inspectL1('promo', 'golden-week')).toBeUndefined();
    const next = await client.get('promo', 'golden-week');
    expect(next).toMatchObject({ source: 'origin', version: 2 });
    expect(client.l1Epoch).toBe(epochAfterInvalidation);
  });

  it('fill race on L1 only: a broadcast during the load keeps the fill out of L1 (L2 stored)', async () => {
    // Prepare
    const w = setup();
    const hold = deferred();
    const started = deferred();
    const client = await w.client({
      loaders: {
        review: async ({ id }) => {
          started.resolve();
          await hold.promise;
          return { data: { asin: id, reviewCount: 3 }, version: 1 };
        },
      },
    });

    // Act: an invalidation of ANOTHER entity moves the subscriber's epoch during the load
    const read = client.get('review', 'B000000002');
    await started.promise;
    const epoch = client.l1Epoch;
    await w.invalidate({ family: 'review', tenant: 'acme', id: 'B000000009' });
    await eventually(async () => (await admin.get(`${w.ns}:{l1}:seq`)) !== null, 2_000, 'broadcast');
    await sleep(50);
    hold.resolve();
    await read;

    // Assess
    const key = w.keys.valueKey({ family: 'review', tenant: 'acme', id: 'B000000002', locale: 'en-US' });
    expect(await admin.get(key)).toMatch(/^1\|/);
    expect(client.inspectL1('review', 'B000000002')).toBeUndefined();
    expect(client.l1Epoch).toBe(epoch); // a drop, not a flush
    expect((await client.get('review', 'B000000002')).source).toBe('l2');
    expect(client.inspectL1('review', 'B000000002')?.version).toBe(1);
  });

  it('caches "not found" briefly, fenced: an invalidation ends it', async () => {
    // Prepare
    const w = setup();
    let calls = 0;
    let exists = false;
    const client = await w.client({
      loaders: {
        product: ({ id }) => {
          calls++;
          return Promise.resolve(exists ? { data: { asin: id }, version: 1 } : null);
        },
      },
    });
    const key = w.keys.valueKey({ family: 'product', tenant: 'acme', id: 'B000000003', locale: 'en-US' });

    // Act
    const missing = await client.get('product', 'B000000003');
    const again = await client.get('product', 'B000000003');
    const ttl = await admin.pttl(key);
    exists = true;
    await w.invalidate({ family: 'product', tenant: 'acme', id: 'B000000003' });
    await eventually(() => client.inspectL1('product', 'B000000003') === undefined, 2_000, 'L1 drop');
    const found = await client.get('product', 'B000000003');

    // Assess
    expect(missing).toMatchObject({ value: null, source: 'origin', version: 0 });
    expect(again).toMatchObject({ value: null, source: 'l1' });
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(17_000);
    expect(found).toMatchObject({ value: { asin: 'B000000003' }, source: 'origin' });
    expect(calls).toBe(2);
  });

  it('reco: keys embed the generation; a session bump drops every L1 entry of the user', async () => {
    // Prepare
    const w = setup();
    let session = 1;
    const client = await w.client({
      loaders: {
        reco: ({ dims }) => Promise.resolve({ data: { seed: dims.seedAsin, session }, version: session }),
      },
    });
    await client.get('reco', 'user42', { seedAsin: 'B000000004' });
    await client.get('reco', 'user42', { seedAsin: 'B000000005' });
    const generation = Number(
      await admin.get(w.keys.fenceKey({ family: 'reco', tenant: 'acme', id: 'user42' })),
    );

    // Act
    session = 2;
    await w.invalidate({ family: 'reco', tenant: 'acme', id: 'user42' });
    await eventually(
      () =>
        client.inspectL1('reco', 'user42', { seedAsin: 'B000000004' }) === undefined &&
        client.inspectL1('reco', 'user42', { seedAsin: 'B000000005' }) === undefined,
      2_000,
      'fence-guarded drop',
    );
    const after = await client.get('reco', 'user42', { seedAsin: 'B000000004' });

    // Assess
    expect(generation).toBeGreaterThan(1e15);
    const oldKey = w.keys.valueKey({
      family: 'reco',
      tenant: 'acme',
      id: 'user42',
      seedAsin: 'B000000004',
      generation,
    });
    expect(await admin.get(oldKey)).toMatch(/^1\|/); // unreachable now, expires by TTL
    expect(after).toMatchObject({ source: 'origin', value: { session: 2 } });
  });

  it('hot key: 1 origin call per expiry under 2,000 reads/s from 2 clients, never 2 at once', async () => {
    // Prepare
    const w = setup();
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let batchesIssued = 0; // each batch: 10 concurrent reads of each client
    const duringLoads: number[] = [];
    const loader: Loader = async ({ id }) => {
      calls++;
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      // The adversary, by construction: the load lasts 30 ms and until two more batches of
      // both clients have arrived during it (a stalled machine could otherwise end it first).
      const batchesAtStart = batchesIssued;
      const until = performance.now() + 1_000; // well inside the 2 s lease
      await sleep(30);
      while (batchesIssued - batchesAtStart < 2 && performance.now() < until) await sleep(5);
      duringLoads.push((batchesIssued - batchesAtStart) * 10);
      inFlight--;
      return { data: { asin: id }, version: calls };
    };
    // No L1, so every read reaches Redis and sees each expiry. Not the Redis breaker's test:
    // a 2 s Redis deadline, so a CI stall does not open it and send reads past the lease.
    const watches = [redisBreakerWatch(), redisBreakerWatch()] as const;
    const [a, b] = await Promise.all(
      watches.map((watch) =>
        w.client({
          l1: false,
          loaders: { product: loader },
          redisTimeoutMs: LOAD_TOLERANT_REDIS_TIMEOUT_MS,
          logger: watch.logger,
        }),
      ),
    );
    const key = w.keys.valueKey({ family: 'product', tenant: 'acme', id: 'B0HOTHOTHO', locale: 'en-US' });
    await a!.get('product', 'B0HOTHOTHO');
    const reads: Promise<unknown>[] = [];
    let running = true;
    const load = (async () => {
      // 20 reads per 10 ms tick = 2,000 reads/s, paced against the clock and not waiting for
      // the previous batch (reads keep arriving while a refill is in flight, as on a hot key).
      const t0 = Date.now();
      for (let tick = 1; running; tick++) {
        batchesIssued++;
        for (let i = 0; i < 20; i++) reads.push((i % 2 ? a! : b!).get('product', 'B0HOTHOTHO'));
        await sleep(Math.max(0, t0 + tick * 10 - Date.now()));
      }
    })();

    // Act: three expiries (the key vanishes as at its TTL; no invalidation, no fence bump),
    // each refilled before the next
    const startedAt = Date.now();
    for (let i = 0; i < 3; i++) {
      await sleep(300);
      await admin.del(key);
      await eventually(async () => (await admin.exists(key)) === 1, 5_000, `refill ${i + 1}`);
    }
    await sleep(300);
    running = false;
    await load;
    const settled = await Promise.allSettled(reads);

    // Assess
    const rate = (reads.length * 1000) / (Date.now() - startedAt);
    console.log(
      `hot key: ${reads.length} reads at ${rate.toFixed(0)}/s, ${calls - 1} origin calls for 3 expiries;` +
        ` reads per client arriving during each refill: ${duringLoads.slice(1).join(', ')}`,
    );
    expect(settled.filter((x) => x.status === 'rejected')).toEqual([]);
    expect(watches.map((x) => x.opened)).toEqual([0, 0]);
    expect(calls - 1).toBe(3);
    expect(maxInFlight).toBe(1);
    // Each refill was contended: at least 2 batches (20 reads of each client) came in during it
    for (const n of duringLoads.slice(1)) expect(n).toBeGreaterThanOrEqual(20);
  }, 20_000);
});
