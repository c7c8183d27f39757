/**
 * Lost broadcast (issue 12, Done when; DESIGN rule 5): a process's subscriber connections are
 * killed (CLIENT KILL on the primary) and an invalidation is broadcast while they are down.
 * That process flushes and never serves the invalidated value afterwards.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadResult } from '../../../src/client/cache-client.ts';
import { cleanup, eventually, sentinelAdmin, sentinelConfig } from '../redis/redis-test-kit.ts';
import { clientWorld, sleep } from './client-test-kit.ts';
import type { ClientWorld } from './client-test-kit.ts';

describe('lost broadcast', () => {
  const config = sentinelConfig();
  let admin: Redis;
  let world: ClientWorld;

  beforeAll(() => {
    admin = sentinelAdmin(config);
  });
  afterAll(async () => {
    await world.close();
    await cleanup(admin, world.ns);
    admin.disconnect();
  });

  it('flushes L1 and never serves a value invalidated while its subscriber was down', async () => {
    // Prepare
    world = clientWorld(config, admin);
    const name = `${world.ns}-client`;
    let version = 1;
    const client = await world.client({
      redis: { ...config, tuning: { ...config.tuning, connectionName: name } },
      loaders: { product: ({ id }) => Promise.resolve({ data: { asin: id, v: version }, version }) },
    });
    await client.get('product', 'B0LOSTLOST');
    expect((await client.get('product', 'B0LOSTLOST')).source).toBe('l1');
    const epochBefore = client.l1Epoch;
    const reads: { issuedAt: number; result: ReadResult }[] = [];
    let running = true;
    const reader = (async () => {
      while (running) {
        const issuedAt = performance.now();
        reads.push({ issuedAt, result: await client.get('product', 'B0LOSTLOST') });
        await sleep(2);
      }
    })();

    // Act: kill the subscribed connections, then invalidate while they reconnect
    const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const ids = list
      .split('\n')
      .filter((line) => line.includes(`name=${name} `))
      .map((line) => /\bid=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
    for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
    version = 2;
    await world.invalidate({ family: 'product', tenant: 'acme', id: 'B0LOSTLOST' });
    const invalidatedAt = performance.now();
    await eventually(
      () => client.inspectL1('product', 'B0LOSTLOST')?.version === 2,
      5_000,
      'L1 refilled with v2',
    );
    await sleep(200);
    running = false;
    await reader;

    // Assess
    const after = reads.filter((r) => r.issuedAt > invalidatedAt);
    console.log(
      `lost broadcast: ${ids.length} subscriber connections killed, ${after.length} reads after the invalidation, sources`,
      Object.fromEntries(
        ['l1', 'l2', 'origin'].map((s) => [s, after.filter((r) => r.result.source === s).length]),
      ),
    );
    expect(ids.length).toBe(2); // the L1 subscriber and the fill notices
    expect(client.l1Epoch).toBeGreaterThan(epochBefore); // flushed (disconnected, then subscribed)
    expect(after.length).toBeGreaterThan(10);
    expect(after.filter((r) => r.result.version !== 2)).toEqual([]);
    expect(after.some((r) => r.result.source === 'l1')).toBe(true); // L1 back in use
  }, 20_000);
});
