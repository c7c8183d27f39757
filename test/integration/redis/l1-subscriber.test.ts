import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyInvalidationPlan } from '../../../src/adapters/redis/invalidation-effects.ts';
import { publishHeartbeat } from '../../../src/adapters/redis/l1-heartbeat.ts';
import { L1Subscriber } from '../../../src/client/l1-subscriber.ts';
import type { FlushEvent, L1SubscriberOptions } from '../../../src/client/l1-subscriber.ts';
import type { InvalidateMessage } from '../../../src/adapters/redis/broadcast-message.ts';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { cleanup, effect, eventually, keysOf, namespace, planOf, sentinelConfig } from './redis-test-kit.ts';
import { stackAccess } from '../../support/redis-access.ts';

/** A subscriber with its L1 (a Map) and everything it emitted. */
interface Probe {
  readonly sub: L1Subscriber;
  readonly l1: Map<string, string>;
  readonly flushes: FlushEvent[];
  readonly applied: InvalidateMessage[];
}

describe('L1Subscriber', () => {
  let conn: RedisConnection;
  let ns: string;
  const probes: Probe[] = [];

  async function subscriber(options: Partial<L1SubscriberOptions> = {}): Promise<Probe> {
    const l1 = new Map<string, string>();
    const sub = new L1Subscriber({
      redis: sentinelConfig(),
      channel: keysOf(ns).channel(),
      l1,
      // Long by default so only the heartbeat test sees silence flushes.
      heartbeatIntervalMs: 60_000,
      ...options,
    });
    const probe: Probe = { sub, l1, flushes: [], applied: [] };
    sub.on('flush', (e) => probe.flushes.push(e));
    sub.on('invalidate', (m) => probe.applied.push(m));
    probes.push(probe);
    await sub.start();
    return probe;
  }

  const reasons = (p: Probe): string[] => p.flushes.map((f) => f.reason);

  beforeAll(() => {
    conn = createRedisConnection(sentinelConfig());
  });
  afterEach(async () => {
    await Promise.all(probes.splice(0).map((p) => p.sub.close()));
    await cleanup(conn.client, ns);
  });
  afterAll(async () => {
    await conn.close();
  });

  it('delivers broadcasts to two subscribers with consecutive sequences and drops exactly the listed entries', async () => {
    // Prepare
    ns = namespace();
    const k = keysOf(ns);
    const a = await subscriber();
    const b = await subscriber();
    for (const p of [a, b]) {
      p.l1.set(k.product('B08X1YRSTR', 'ja-JP'), 'old');
      p.l1.set('derived:B08X1YRSTR:summary', 'guarded by the fence');
      p.sub.register('derived:B08X1YRSTR:summary', k.productFence('B08X1YRSTR'));
      p.l1.set(k.product('B0OTHER001', 'ja-JP'), 'keep');
    }
    const channel = k.channel();
    // A reader that read L2 before the broadcast must not fill L1 after it.
    const epochBefore = a.sub.epoch;

    // Act
    const first = await applyInvalidationPlan(
      conn.client,
      planOf([effect('product', k.productFence('B08X1YRSTR'), [k.product('B08X1YRSTR', 'ja-JP')])], ['e1']),
      { channel },
    );
    const second = await applyInvalidationPlan(
      conn.client,
      planOf([effect('promo', k.promoFence('shoes'), [k.promo('shoes')], false)], ['e2']),
      { channel },
    );
    await eventually(
      () => a.applied.length === 2 && b.applied.length === 2,
      5_000,
      'both broadcasts on both',
    );

    // Assess
    expect(first.ok && first.receivers).toBe(2);
    for (const p of [a, b]) {
      expect(p.applied.map((m) => m.seq)).toEqual([1, 2]);
      expect(p.applied[0]).toMatchObject({ type: 'invalidate', eventIds: ['e1'], v: 1 });
      expect([...p.l1.keys()]).toEqual([k.product('B0OTHER001', 'ja-JP')]);
      expect(reasons(p)).toEqual(['subscribed']);
      expect(p.sub.lastSeq).toBe(2);
    }
    expect(second.ok && second.seq).toBe(2);
    expect(a.sub.canFill(epochBefore)).toBe(false);
    expect(a.sub.canFill(a.sub.epoch)).toBe(true);
  });

  it('flushes everything on a sequence gap', async () => {
    ns = namespace();
    const k = keysOf(ns);
    const p = await subscriber();
    const channel = k.channel();
    await applyInvalidationPlan(conn.client, planOf([effect('product', k.productFence('A000000001'), [])]), {
      channel,
    });
    await eventually(() => p.sub.lastSeq === 1, 5_000, 'seq 1');
    p.l1.set('anything', 'x');

    // A broadcast "lost": the sequence moves without a message reaching the subscriber.
    await conn.client.incr(channel.seqKey);
    await applyInvalidationPlan(conn.client, planOf([effect('product', k.productFence('A000000002'), [])]), {
      channel,
    });
    await eventually(() => p.flushes.length === 2, 5_000, 'gap flush');

    expect(p.flushes[1]).toEqual({ reason: 'gap', expectedSeq: 2, seq: 3 });
    expect(p.l1.size).toBe(0);
    expect(p.sub.flushCounts().get('gap')).toBe(1);
  });

  it('flushes on a heartbeat carrying a higher sequence, and not on one that matches', async () => {
    ns = namespace();
    const k = keysOf(ns);
    const p = await subscriber();
    const channel = k.channel();
    await applyInvalidationPlan(conn.client, planOf([effect('product', k.productFence('A000000001'), [])]), {
      channel,
    });
    await eventually(() => p.sub.lastSeq === 1, 5_000, 'seq 1');

    const steady = await publishHeartbeat(conn.client, channel);
    await conn.client.incr(channel.seqKey); // the broadcast of seq 2 never arrived
    p.l1.set('anything', 'x');
    const ahead = await publishHeartbeat(conn.client, channel);
    await eventually(() => p.flushes.length === 2, 5_000, 'heartbeat flush');

    expect(steady.seq).toBe(1);
    expect(ahead.seq).toBe(2);
    expect(p.flushes[1]).toEqual({ reason: 'heartbeat-ahead', expectedSeq: 1, seq: 2 });
    expect(p.l1.size).toBe(0);
  });

  it('flushes when the connection drops, resubscribes, and keeps applying broadcasts', async () => {
    ns = namespace();
    const k = keysOf(ns);
    const name = `l1sub-${ns}`;
    const p = await subscriber({
      redis: { ...sentinelConfig(), tuning: { ...stackAccess().tuning, connectionName: name } },
    });
    p.l1.set('anything', 'x');

    // Kill the subscriber's connection on the server side.
    const list = (await conn.client.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
    const id = list
      .split('\n')
      .find((line) => line.includes(` name=${name} `))
      ?.match(/^id=(\d+)/)?.[1];
    expect(id).toBeDefined();
    await conn.client.call('CLIENT', 'KILL', 'ID', id ?? '');
    await eventually(() => reasons(p).join() === 'subscribed,disconnected,subscribed', 10_000, 'resubscribe');

    expect(p.l1.size).toBe(0);
    expect(p.sub.coherent).toBe(true);
    await applyInvalidationPlan(conn.client, planOf([effect('product', k.productFence('A000000001'), [])]), {
      channel: k.channel(),
    });
    await eventually(() => p.applied.length === 1, 5_000, 'broadcast after resubscribe');
  });

  it('flushes when heartbeats stop arriving, and is not coherent meanwhile', async () => {
    ns = namespace();
    const p = await subscriber({ heartbeatIntervalMs: 100, missedHeartbeats: 3 });
    p.l1.set('anything', 'x');
    const epoch = p.sub.epoch;

    await eventually(() => reasons(p).includes('heartbeat-missed'), 5_000, 'missed heartbeat flush');

    expect(p.l1.size).toBe(0);
    expect(p.sub.coherent).toBe(false);
    expect(p.sub.canFill(epoch)).toBe(false);
    // A heartbeat brings it back.
    await publishHeartbeat(conn.client, keysOf(ns).channel());
    await eventually(() => p.sub.coherent, 5_000, 'coherent again');
  });

  it('close() is idempotent and returns the same promise', async () => {
    ns = namespace();
    const p = await subscriber();
    const first = p.sub.close();
    expect(p.sub.close()).toBe(first);
    await first;
    expect(p.sub.coherent).toBe(false);
  });

  it('start() on a subscriber closed before subscribing rejects instead of hanging', async () => {
    ns = namespace();
    const sub = new L1Subscriber({ redis: sentinelConfig(), channel: keysOf(ns).channel(), l1: new Map() });
    const closed = sub.close();
    await expect(sub.start()).rejects.toThrow(/closed/);
    await closed;
  });

  it('heartbeat on a fresh channel carries sequence 0', async () => {
    ns = namespace();
    expect((await publishHeartbeat(conn.client, keysOf(ns).channel())).seq).toBe(0);
  });
});
