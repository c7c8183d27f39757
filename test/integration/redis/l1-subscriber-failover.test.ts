/**
 * Cluster mode: the L1 subscriber's connection is not tied to one node. On a private
 * 3-master cluster per test (the shared one is never disturbed) the node in use is killed
 * or frozen; the subscriber must flush, resubscribe on a live node, and apply a broadcast
 * published afterwards. Classic PUBLISH reaches every node of a cluster, so any node will do.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { L1Channel } from '../../../src/adapters/redis/broadcast-message.ts';
import { L1Subscriber } from '../../../src/client/l1-subscriber.ts';
import type { FlushEvent, L1SubscriberOptions } from '../../../src/client/l1-subscriber.ts';
import type { InvalidateMessage } from '../../../src/adapters/redis/broadcast-message.ts';
import { createSubscriberClient } from '../../../src/client/subscriber-client.ts';
import type { HostPort } from '../../../src/adapters/redis/redis-connection.ts';
import { startPrivateCluster, type PrivateCluster } from '../../support/private-cluster.ts';
import { closedPort } from './closed-port.ts';
import { keysOf, namespace } from './redis-test-kit.ts';
import { eventually } from '../../support/aws.ts';

interface Probe {
  readonly sub: L1Subscriber;
  readonly channel: L1Channel;
  readonly l1: Map<string, string>;
  readonly flushes: FlushEvent[];
  readonly applied: InvalidateMessage[];
  /** The subscriber's own connection, to see which node it is on. */
  client(): Redis;
}

describe('L1Subscriber in cluster mode, when its node goes away', () => {
  let cluster: PrivateCluster;
  const probes: Probe[] = [];
  const publishers: Redis[] = [];
  const timers: NodeJS.Timeout[] = [];

  beforeEach(async () => {
    cluster = await startPrivateCluster(3);
  }, 60_000);
  afterEach(async () => {
    for (const t of timers.splice(0)) clearInterval(t);
    await Promise.all(probes.splice(0).map((p) => p.sub.close()));
    for (const c of publishers.splice(0)) c.disconnect();
    await cluster?.stop();
  });

  const seeds = (): HostPort[] => cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));

  function subscriber(nodes: HostPort[], options: Partial<L1SubscriberOptions> = {}): Probe {
    let client: Redis | undefined;
    const l1 = new Map<string, string>();
    const channel = keysOf(namespace()).channel();
    const sub = new L1Subscriber({
      // Short reconnect and connect deadlines keep the test quick; the rotation is the same.
      redis: {
        mode: 'cluster',
        nodes,
        tuning: { ...cluster.access.tuning, maxReconnectDelayMs: 200, connectTimeoutMs: 500 },
      },
      channel,
      l1,
      heartbeatIntervalMs: 60_000,
      createClient: (redis) => (client = createSubscriberClient(redis)),
      ...options,
    });
    const probe: Probe = { sub, channel, l1, flushes: [], applied: [], client: () => client! };
    sub.on('flush', (e) => probe.flushes.push(e));
    sub.on('invalidate', (m) => probe.applied.push(m));
    probes.push(probe);
    return probe;
  }

  /** Subscribed, bounded: a client stuck on a dead node never subscribes. */
  async function started(p: Probe, timeoutMs = 8_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      p.sub.start(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not subscribed within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  const nodeInUse = (p: Probe) => p.client().stream?.remotePort;

  /** A connection to the node on `port` alone: published there, a message must cross the cluster bus. */
  function publisherOn(port: number): Redis {
    const c = new Redis({ ...cluster.access.node, port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    c.on('error', () => undefined);
    publishers.push(c);
    return c;
  }

  function invalidate(seq: number, keys: string[]): string {
    const now = Date.now();
    return JSON.stringify({
      v: 1,
      type: 'invalidate',
      seq,
      publishedAtMs: now,
      keys,
      fences: [],
      eventIds: ['e'],
      originTimeMs: now,
    });
  }

  /** After a resubscribe: fill L1, publish from a live node other than the one in use, check. */
  async function assertHearsBroadcastsOnLiveNode(p: Probe, deadPort: number | undefined): Promise<void> {
    p.l1.set('k-drop', 'filled after the resubscribe');
    p.l1.set('k-keep', 'not in the broadcast');
    const other = cluster.nodes.find((n) => n.port !== deadPort && n.port !== nodeInUse(p));
    expect(other).toBeDefined();
    await publisherOn(other!.port).publish(p.channel.channel, invalidate(7, ['k-drop']));
    await eventually(() => (p.applied.length > 0 ? true : undefined), { what: 'the broadcast to arrive' });
    expect(p.applied.map((m) => m.seq)).toEqual([7]);
    expect(p.l1.has('k-drop')).toBe(false);
    expect(p.l1.get('k-keep')).toBe('not in the broadcast');
  }

  it('resubscribes on a live node when the node in use is killed, flushes, and applies a later broadcast', async () => {
    // Prepare
    const p = subscriber(seeds());
    await started(p);
    const before = nodeInUse(p);
    const victim = cluster.nodes.find((n) => n.port === before);
    expect(victim).toBeDefined();
    p.l1.set('k-stale', 'filled before the loss');

    // Act: the node the subscriber is on dies.
    await victim!.kill();

    // Assess: flushed on the loss, subscribed again elsewhere (flushed again), and hearing.
    await eventually(() => (p.sub.coherent && nodeInUse(p) !== before ? true : undefined), {
      what: 'a resubscribe on another node',
      timeoutMs: 10_000,
    });
    const reasons = p.flushes.map((f) => f.reason);
    expect(reasons[0]).toBe('subscribed');
    expect(reasons.slice(1)).toContain('disconnected');
    expect(reasons.at(-1)).toBe('subscribed');
    expect(p.l1.has('k-stale')).toBe(false);
    await assertHearsBroadcastsOnLiveNode(p, before);
  }, 30_000);

  it('subscribes through the next seed when the first one is a closed port', async () => {
    // Prepare: the first seed names a node that is gone (nothing listens there).
    const dead = await closedPort();
    const p = subscriber([{ host: '127.0.0.1', port: dead }, ...seeds()]);

    // Act
    await started(p);

    // Assess
    expect(cluster.nodes.map((n) => n.port)).toContain(nodeInUse(p));
    await assertHearsBroadcastsOnLiveNode(p, dead);
  }, 30_000);

  it('leaves a frozen node whose silence outlasts the heartbeats, for a live one', async () => {
    // Prepare: heartbeats every 100 ms from a node; the subscriber flushes after 3 missed.
    const p = subscriber(seeds(), { heartbeatIntervalMs: 100 });
    await started(p);
    const before = nodeInUse(p)!;
    const publisher = publisherOn(cluster.nodes.find((n) => n.port !== before)!.port);
    await publisher.ping();
    timers.push(
      setInterval(() => {
        const now = Date.now();
        void publisher
          .publish(p.channel.channel, JSON.stringify({ v: 1, type: 'heartbeat', seq: 0, publishedAtMs: now }))
          .catch(() => undefined);
      }, 100),
    );
    await eventually(() => (p.sub.lastSeq === 0 ? true : undefined), { what: 'a heartbeat' });

    // Act: the node in use hangs (its TCP connection stays open, nothing arrives).
    cluster.nodes.find((n) => n.port === before)!.freeze();

    // Assess: the silence flush, then a resubscribe on another node that hears heartbeats.
    await eventually(
      () => (p.sub.coherent && nodeInUse(p) !== before && p.sub.lastSeq === 0 ? true : undefined),
      { what: 'a resubscribe away from the frozen node', timeoutMs: 15_000 },
    );
    expect(p.flushes.map((f) => f.reason)).toContain('heartbeat-missed');
    expect(p.flushes.at(-1)?.reason).toBe('subscribed');
  }, 30_000);
});
