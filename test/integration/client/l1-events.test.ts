/**
 * The client's `l1Events` (what the scenarios' stale-read split reads, src/scenarios/
 * stale-read-split.ts): `invalidated` is told of a broadcast once the L1 has dropped its keys,
 * synchronously (a read in the callback already misses L1), and `flushed` of a flush.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvalidateMessage } from '../../../src/adapters/redis/broadcast-message.ts';
import { cleanup, eventually, sentinelAdmin, sentinelConfig } from '../redis/redis-test-kit.ts';
import { clientWorld } from './client-test-kit.ts';
import type { ClientWorld } from './client-test-kit.ts';

describe('cache client l1Events', () => {
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

  it('tells of each broadcast after its keys left L1, and of each flush', async () => {
    // Prepare
    world = clientWorld(config, admin);
    const heard: { ids: readonly string[]; l1Version: number | undefined }[] = [];
    const flushes: string[] = [];
    let version = 1;
    const client = await world.client({
      loaders: { product: ({ id }) => Promise.resolve({ data: { asin: id, v: version }, version }) },
      l1Events: {
        invalidated: (m: InvalidateMessage) =>
          heard.push({ ids: m.eventIds, l1Version: client.inspectL1('product', 'B0EVENTS01')?.version }),
        flushed: (reason) => flushes.push(reason),
      },
    });
    expect(flushes).toEqual(['subscribed']);
    await client.get('product', 'B0EVENTS01');
    expect((await client.get('product', 'B0EVENTS01')).source).toBe('l1');

    // Act
    version = 2;
    await world.invalidate({ family: 'product', tenant: 'acme', id: 'B0EVENTS01' });
    await eventually(() => heard.length > 0, 5_000, 'the broadcast heard');

    // Assess: told once, with the event ids, when L1 no longer held v1
    expect(heard).toEqual([{ ids: ['evt-test'], l1Version: undefined }]);
    expect((await client.get('product', 'B0EVENTS01')).version).toBe(2);
  });
});
