/**
 * A connection must never end by itself (found by the primary-kill drill, issue 15). ioredis
 * sets a connection's status to `end` for good, with no retry, when its connector is
 * disconnected while it is still resolving the node: `disconnect(true)` (our wrong-node and
 * identity checks call it, and so does ioredis' own Sentinel failover detector on
 * +switch-master) during a Sentinel look-up makes the pending connect reject with
 * "Connection is closed.". A worker then failed every write probe with that message and
 * held its batches for good. The connection must come back on its own, in both modes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedisConnection, type RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { L1Subscriber } from '../../../src/client/l1-subscriber.ts';
import { createSubscriberClient } from '../../../src/client/subscriber-client.ts';
import { eventually } from '../../support/aws.ts';
import {
  startPrivateSentinelGroup,
  type PrivateSentinelGroup,
} from '../../support/private-sentinel-group.ts';
import { keysOf, namespace } from './redis-test-kit.ts';

describe('a connection disconnected while it resolves its node', () => {
  let group: PrivateSentinelGroup;
  const open: RedisConnection[] = [];

  beforeAll(async () => {
    group = await startPrivateSentinelGroup({ profile: 'fast' });
  }, 60_000);

  afterAll(async () => {
    for (const c of open) await c.close();
    await group?.stop();
  });

  it.each(['sentinel', 'standalone'] as const)('comes back by itself (%s)', async (mode) => {
    // Prepare: a ready connection.
    const conn = createRedisConnection(group.redisConfig(mode));
    open.push(conn);
    conn.events.on('error', () => undefined);
    await eventually(() => (conn.client.status === 'ready' ? true : undefined), { what: 'ready' });
    const ended: string[] = [];
    conn.client.on('end', () => ended.push('end'));

    // Act: drop it; when its reconnect starts (the connector is resolving), drop it again.
    conn.client.once('connecting', () => conn.client.disconnect(true));
    conn.client.disconnect(true);

    // Assess: ioredis ended it (the race happened), and it is ready and writable again.
    await eventually(() => (ended.length > 0 ? true : undefined), { what: 'the race', timeoutMs: 5_000 });
    await eventually(() => (conn.client.status === 'ready' ? true : undefined), {
      what: 'the connection back',
      timeoutMs: 10_000,
    });
    expect(await conn.client.set(`conn-ended:${mode}`, '1', 'PX', 10_000)).toBe('OK');
  });

  it('an L1 subscriber comes back by itself and subscribes again', async () => {
    // Prepare: a subscribed L1 subscriber on Sentinel; its client captured.
    let client: Redis | undefined;
    const sub = new L1Subscriber({
      redis: group.redisConfig('sentinel'),
      channel: keysOf(namespace()).channel(),
      l1: new Map(),
      createClient: (redis) => (client = createSubscriberClient(redis)),
    });
    sub.on('error', () => undefined);
    await sub.start();
    const c = client!;
    const flushes: string[] = [];
    sub.on('flush', (e) => flushes.push(e.reason));
    let ended = false;
    c.on('end', () => (ended = true));

    // Act: the same race on the subscriber's connection.
    c.once('connecting', () => c.disconnect(true));
    c.disconnect(true);

    // Assess: ended by ioredis, then connected and subscribed again (a 'subscribed' flush).
    await eventually(() => (ended ? true : undefined), { what: 'the race', timeoutMs: 5_000 });
    await eventually(() => (flushes.includes('subscribed') && c.status === 'ready' ? true : undefined), {
      what: 'the subscriber back',
      timeoutMs: 10_000,
    });
    expect(sub.coherent).toBe(true);
    await sub.close();
  });
});
