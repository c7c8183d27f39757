/**
 * The effects contract: ONE suite, the same cases, run over both Redis paths (as bentocache
 * runs one driver suite over every driver): the node path (one apply-batch script call + WAIT,
 * here through the Sentinels as the worker connects) and the cluster path (one pipeline per
 * node, then the broadcast) on the shared 6-node cluster. Each test owns a random namespace.
 */
import { Redis } from 'ioredis';
import type { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InvalidateMessage } from '../../../src/adapters/redis/broadcast-message.ts';
import { slotOf } from '../../../src/adapters/redis/cluster-slot.ts';
import { applyInvalidationPlan } from '../../../src/adapters/redis/invalidation-effects.ts';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { HostPort, RedisConfig, RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { populate, readFence } from '../../../src/client/fenced-populate.ts';
import { L1Subscriber } from '../../../src/client/l1-subscriber.ts';
import type { FlushEvent } from '../../../src/client/l1-subscriber.ts';
import { KEY_CONTRACT, fenceTtlMs } from '../../../src/core/key-contract.ts';
import { stack } from '../../support/stack.ts';
import { closedPort } from './closed-port.ts';
import {
  cleanup,
  currentPair,
  effect,
  eventually,
  keysOf,
  keysUnder,
  namespace,
  planOf,
  sentinelConfig,
} from './redis-test-kit.ts';
import { silentServer } from './silent-server.ts';
import { stackAccess } from '../../support/redis-access.ts';

/** One Redis mode the contract runs over. */
interface EffectsMode {
  readonly name: string;
  /** How the suite connects (as the worker would in this mode). */
  readonly config: () => RedisConfig;
  /** A config of this mode whose only address is `at` (an unreachable or silent server). */
  readonly configAt: (at: HostPort) => RedisConfig;
  /** Primaries that hold keys: effects spread over them when there are several. */
  readonly primaries: number;
  /** Where a plain subscriber hears the channel. */
  readonly subscribeAt: () => Promise<HostPort>;
  /** The replica of the primary that holds `key`, readable (READONLY on a cluster). */
  readonly replicaOf: (client: RedisConnection['client'], key: string) => Promise<Redis>;
}

const hostPort = (address: string): HostPort => {
  const [host = '', port = ''] = address.split(':');
  return { host, port: Number(port) };
};

const MODES: readonly EffectsMode[] = [
  {
    name: 'node path (Sentinel-managed primary + replica)',
    config: sentinelConfig,
    configAt: (at) => ({ mode: 'standalone', ...at, tuning: stackAccess().tuning }),
    primaries: 1,
    subscribeAt: async () => (await currentPair()).primary,
    replicaOf: async () =>
      new Redis({ ...stackAccess().node, ...(await currentPair()).replica, maxRetriesPerRequest: 2 }),
  },
  {
    name: 'cluster path (shared 6-node cluster)',
    config: () => ({ mode: 'cluster', nodes: stack().redis.cluster, tuning: stackAccess().tuning }),
    configAt: (at) => ({ mode: 'cluster', nodes: [at], tuning: stackAccess().tuning }),
    primaries: 3,
    subscribeAt: () => Promise.resolve(stack().redis.cluster[0] ?? { host: '', port: 0 }),
    replicaOf: async (client, key) => {
      const replica = (client as Cluster).slots[slotOf(key)]?.[1];
      if (replica === undefined) throw new Error(`no replica known for ${key}`);
      const redis = new Redis({ ...stackAccess().node, ...hostPort(replica), maxRetriesPerRequest: 2 });
      await redis.readonly();
      return redis;
    },
  },
];

describe.each(MODES)('applyInvalidationPlan: $name', (mode) => {
  let conn: RedisConnection;
  let ns: string;

  beforeAll(async () => {
    conn = createRedisConnection(mode.config());
    await conn.client.ping();
  });
  afterEach(async () => {
    await cleanup(conn.client, ns);
  });
  afterAll(async () => {
    await conn.close();
  });

  it('deletes exactly the listed variants of every entity and bumps their fences, nothing else changes', async () => {
    // Prepare: a dozen entities (spread over the primaries where there are several).
    ns = namespace();
    const k = keysOf(ns);
    const asins = Array.from({ length: 12 }, (_, i) => `B0EFFECT${String(i).padStart(2, '0')}`);
    const fences = asins.map((a) => k.productFence(a));
    const owners = new Set(
      fences.map((f) => ('slots' in conn.client ? conn.client.slots[slotOf(f)]?.[0] : 'one')),
    );
    expect(owners.size).toBeGreaterThanOrEqual(Math.min(2, mode.primaries));
    const doomed = asins.flatMap((a) => [k.product(a, 'ja-JP'), k.product(a, 'en-US')]);
    const survivors = [k.product('B0OTHER001', 'ja-JP'), k.promo('shoes'), `${ns}:{keep}:me`];
    for (const key of [...doomed, ...survivors]) await conn.client.set(key, 'v', 'EX', 60);
    const before = await keysUnder(conn.client, ns);
    // A variant that is not cached: still listed, harmlessly absent.
    const plan = planOf(
      asins.map((a) =>
        effect('product', k.productFence(a), [
          k.product(a, 'ja-JP'),
          k.product(a, 'en-US'),
          k.product(a, 'de-DE'),
        ]),
      ),
    );

    // Act
    const result = await applyInvalidationPlan(conn.client, plan, { channel: k.channel() });

    // Assess
    expect(result).toMatchObject({ ok: true, deleted: doomed.length, seq: 1, replicasAcked: null });
    if (!result.ok) return;
    for (const fence of fences) {
      // A new fence starts at the Redis clock in µs, never at 1 (rule 8: never reissued).
      expect(result.fenceValues.get(fence)).toBeGreaterThan(1e15);
      // The fence expires (bounded memory), long after any populate could still hold a token.
      const pttl = await conn.client.pttl(fence);
      expect(pttl).toBeGreaterThan(3_600_000 - 5_000);
      expect(pttl).toBeLessThanOrEqual(3_600_000);
    }
    const expected = [
      ...before.filter((key) => !doomed.includes(key as never)),
      ...fences,
      k.channel().seqKey,
    ].sort();
    expect(await keysUnder(conn.client, ns)).toEqual(expected);
  });

  it('is idempotent: a redelivered plan deletes nothing more and bumps the fence again', async () => {
    // Prepare
    ns = namespace();
    const k = keysOf(ns);
    const fence = k.productFence('B08X1YRSTR');
    await conn.client.set(k.product('B08X1YRSTR', 'ja-JP'), 'v');
    const plan = planOf([effect('product', fence, [k.product('B08X1YRSTR', 'ja-JP')])]);

    // Act
    const first = await applyInvalidationPlan(conn.client, plan, { channel: k.channel() });
    const second = await applyInvalidationPlan(conn.client, plan, { channel: k.channel() });

    // Assess
    expect(first).toMatchObject({ ok: true, deleted: 1, seq: 1 });
    expect(second).toMatchObject({ ok: true, deleted: 0, seq: 2 });
    expect(second.ok && second.fenceValues.get(fence)).toBeGreaterThan(
      (first.ok && first.fenceValues.get(fence)) || Number.MAX_SAFE_INTEGER,
    );
  });

  it('never reissues a fence value: a fence deleted between two bumps moves forward', async () => {
    // Prepare: a bump, and a reader holding the value it issued.
    ns = namespace();
    const k = keysOf(ns);
    const key = k.product('B08X1YRSTR', 'ja-JP');
    const fence = k.productFence('B08X1YRSTR');
    const bump = async () => {
      const applied = await applyInvalidationPlan(conn.client, planOf([effect('product', fence, [key])]), {
        channel: k.channel(),
      });
      return applied.ok ? applied.fenceValues.get(fence) : undefined;
    };
    const first = await bump();
    const held = await readFence(conn.client, fence, fenceTtlMs(KEY_CONTRACT.product));
    expect(held).toBe(String(first));

    // Act: the fence vanishes (expiry, eviction, lost replication), then the next invalidation.
    await conn.client.del(fence);
    const second = await bump();

    // Assess
    expect(await populate(conn.client, key, fence, held, 'old', { ttlMs: 60_000 })).toBe('refused-stale');
    expect(second).toBeGreaterThan(Number(first));
  });

  it('invalidates every reco key of one user by bumping the generation, and no other user', async () => {
    // Prepare: reco keys are built with the user's current generation (0 when absent).
    ns = namespace();
    const k = keysOf(ns);
    await conn.client.set(k.reco('user42', '0', 'B08X1YRSTR'), 'old');
    await conn.client.set(k.reco('user43', '0', 'B08X1YRSTR'), 'other user');
    await conn.client.set(k.recoGen('user43'), '7');

    // Act
    const result = await applyInvalidationPlan(
      conn.client,
      planOf([effect('reco', k.recoGen('user42'), [])]),
      {
        channel: k.channel(),
      },
    );

    // Assess: user42's readers now build keys under the new generation (the Redis clock in
    // µs, rule 8), which do not exist; user43 untouched.
    expect(result).toMatchObject({ ok: true, deleted: 0 });
    const generation = (await conn.client.get(k.recoGen('user42'))) ?? '0';
    expect(Number(generation)).toBeGreaterThan(1e15);
    expect(await conn.client.exists(k.reco('user42', generation, 'B08X1YRSTR'))).toBe(0);
    expect(await conn.client.get(k.recoGen('user43'))).toBe('7');
    expect(await conn.client.get(k.reco('user43', '0', 'B08X1YRSTR'))).toBe('other user');
  });

  it('broadcasts once per plan, after the deletes, with its seq, keys, fences and events', async () => {
    // Prepare: a cached L1 entry, an L1 subscriber and a plain one (for the raw message).
    ns = namespace();
    const k = keysOf(ns);
    const channel = k.channel();
    const asins = ['B0BCAST001', 'B0BCAST002', 'B0BCAST003'];
    const doomed = asins.map((a) => k.product(a, 'ja-JP'));
    for (const key of doomed) await conn.client.set(key, 'v', 'EX', 60);
    const l1 = new Map<string, string>([[doomed[0] ?? '', 'x']]);
    const sub = new L1Subscriber({ redis: mode.config(), channel, l1, heartbeatIntervalMs: 60_000 });
    const flushes: FlushEvent[] = [];
    const heard: InvalidateMessage[] = [];
    sub.on('flush', (e) => flushes.push(e));
    sub.on('invalidate', (m) => heard.push(m));
    const raw = new Redis({
      ...stackAccess().node,
      ...(await mode.subscribeAt()),
      maxRetriesPerRequest: 2,
      lazyConnect: true,
    });
    const rawMessages: string[] = [];
    raw.on('message', (_channel: string, message: string) => rawMessages.push(message));
    try {
      await sub.start();
      // Subscribe once ready: a SUBSCRIBE sent before the ready check's INFO breaks that check.
      await raw.connect();
      await raw.subscribe(channel.channel);
      const effects = [
        ...asins.map((a) => effect('product', k.productFence(a), [k.product(a, 'ja-JP')])),
        effect('reco', k.recoGen('user42'), []),
      ];
      const plan = planOf(effects, ['evt-1', 'evt-2']);

      // Act
      const result = await applyInvalidationPlan(conn.client, plan, { channel });
      await eventually(() => heard.length === 1 && rawMessages.length === 1, 5_000, 'the broadcast');
      // A second plan: its broadcast follows directly, so the first plan sent exactly one.
      const second = await applyInvalidationPlan(conn.client, planOf([effects[0]!]), { channel });
      await eventually(() => heard.length === 2 && rawMessages.length === 2, 5_000, 'the second broadcast');

      // Assess
      expect(result).toMatchObject({ ok: true, seq: 1 });
      expect(second).toMatchObject({ ok: true, seq: 2 });
      if (!result.ok) return;
      const fences = effects.map((e) => e.fence);
      expect(heard[0]).toEqual({
        v: 1,
        type: 'invalidate',
        seq: 1,
        publishedAtMs: result.publishedAtMs,
        keys: doomed,
        fences,
        eventIds: ['evt-1', 'evt-2'],
        originTimeMs: plan.broadcast?.originTimeMs,
      });
      expect(heard.map((m) => m.seq)).toEqual([1, 2]);
      // The same wire format on both paths: the documented fields, no more (docs/l1-broadcast.md;
      // their order is not part of the contract).
      expect(Object.keys(JSON.parse(rawMessages[0] ?? '{}') as object).sort()).toEqual([
        'eventIds',
        'fences',
        'keys',
        'originTimeMs',
        'publishedAtMs',
        'seq',
        'type',
        'v',
      ]);
      expect(l1.size).toBe(0);
      expect(flushes.map((f) => f.reason)).toEqual(['subscribed']);
    } finally {
      await sub.close();
      raw.disconnect();
    }
  });

  it('WAITs for the replica on a critical plan: 1 replica acked and the delete is on the replica', async () => {
    // Prepare: the critical entity among others (on other primaries where there are several).
    ns = namespace();
    const k = keysOf(ns);
    const key = k.promo('shoes');
    const others = ['B0WAIT0001', 'B0WAIT0002', 'B0WAIT0003', 'B0WAIT0004'];
    for (const a of others) await conn.client.set(k.product(a, 'ja-JP'), 'v');
    const replica = await mode.replicaOf(conn.client, key);
    try {
      await conn.client.set(key, 'expired coupon');
      await eventually(async () => (await replica.get(key)) === 'expired coupon', 2_000, 'the replica');
      const plan = planOf([
        ...others.map((a) => effect('product', k.productFence(a), [k.product(a, 'ja-JP')])),
        effect('promo', k.promoFence('shoes'), [key]),
      ]);

      // Act
      const result = await applyInvalidationPlan(conn.client, plan, {
        channel: k.channel(),
        waitReplicas: 1,
        waitTimeoutMs: 2_000,
      });

      // Assess
      expect(result).toMatchObject({ ok: true, deleted: others.length + 1, seq: 1, replicasAcked: 1 });
      expect(await replica.exists(key)).toBe(0);
    } finally {
      replica.disconnect();
    }
  });

  it('reports a WAIT shortfall (2 replicas wanted, 1 exists) as retryable, carrying what was applied', async () => {
    // Prepare
    ns = namespace();
    const k = keysOf(ns);
    const key = k.promo('toys');
    const fence = k.promoFence('toys');
    await conn.client.set(key, 'v');

    // Act
    const result = await applyInvalidationPlan(conn.client, planOf([effect('promo', fence, [key])]), {
      channel: k.channel(),
      waitReplicas: 2,
      waitTimeoutMs: 150,
    });

    // Assess: the deletes were applied on the primary; only a confirmation is missing.
    expect(result).toMatchObject({
      ok: false,
      error: {
        kind: 'wait-shortfall',
        retryable: true,
        required: 2,
        acked: 1,
        applied: { ok: true, deleted: 1, seq: 1, replicasAcked: 1 },
      },
    });
    if (result.ok || result.error.kind !== 'wait-shortfall') return;
    expect(result.error.applied.fenceValues.get(fence)).toBeGreaterThan(1e15);
    expect(await conn.client.exists(key)).toBe(0);
  });

  it('skips WAIT when waitReplicas is 0 (replication known degraded), even for a critical plan', async () => {
    // Prepare
    ns = namespace();
    const k = keysOf(ns);
    const key = k.promo('bags');
    await conn.client.set(key, 'v');

    // Act
    const result = await applyInvalidationPlan(
      conn.client,
      planOf([effect('promo', k.promoFence('bags'), [key])]),
      {
        channel: k.channel(),
        waitReplicas: 0,
      },
    );

    // Assess: replicasAcked is null only when no WAIT ran.
    expect(result).toMatchObject({ ok: true, deleted: 1, seq: 1, replicasAcked: null });
  });

  it('fails the whole plan when one script errors: never partially ok, no broadcast', async () => {
    // Prepare: a fence that is not a number makes the bump fail inside the second entity's script.
    ns = namespace();
    const k = keysOf(ns);
    await conn.client.set(k.productFence('B0BROKEN01'), 'not-a-number');
    const plan = planOf([
      effect('product', k.productFence('B08X1YRSTR'), [k.product('B08X1YRSTR', 'ja-JP')]),
      effect('product', k.productFence('B0BROKEN01'), [k.product('B0BROKEN01', 'ja-JP')]),
    ]);

    // Act
    const result = await applyInvalidationPlan(conn.client, plan, { channel: k.channel() });

    // Assess
    expect(result).toMatchObject({ ok: false, error: { kind: 'redis-error', retryable: true } });
    expect(await conn.client.exists(k.channel().seqKey)).toBe(0);
  });

  it('returns a retryable failure, fast, when Redis is unreachable', async () => {
    // Prepare
    ns = namespace();
    const k = keysOf(ns);
    const down = createRedisConnection(mode.configAt({ host: '127.0.0.1', port: await closedPort() }));
    try {
      const started = Date.now();

      // Act
      const result = await applyInvalidationPlan(
        down.client,
        planOf([effect('product', k.productFence('B08X1YRSTR'), [k.product('B08X1YRSTR', 'ja-JP')])]),
        { channel: k.channel() },
      );

      // Assess
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error.retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await down.close();
    }
  });

  it('gives up at the deadline when Redis accepts the connection but never answers', async () => {
    // Prepare: a server that accepts and stays silent; the client would wait on it for seconds.
    ns = namespace();
    const k = keysOf(ns);
    const silent = await silentServer();
    const hung = createRedisConnection(mode.configAt(silent.address));
    hung.client.on('error', () => undefined);
    try {
      const started = Date.now();

      // Act
      const result = await applyInvalidationPlan(
        hung.client,
        planOf([effect('product', k.productFence('B08X1YRSTR'), [k.product('B08X1YRSTR', 'ja-JP')])]),
        { channel: k.channel(), deadlineMs: 200 },
      );

      // Assess
      expect(result).toMatchObject({
        ok: false,
        error: { kind: 'deadline-exceeded', retryable: true, message: 'effects not confirmed in 200 ms' },
      });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await silent.close();
      await hung.close();
    }
  });

  it('does nothing for an empty plan', async () => {
    // Prepare
    ns = namespace();

    // Act
    const result = await applyInvalidationPlan(
      conn.client,
      { decisions: [], effects: [], broadcast: null, critical: false },
      { channel: keysOf(ns).channel() },
    );

    // Assess
    expect(result).toMatchObject({ ok: true, deleted: 0, seq: null, replicasAcked: null });
    expect(await keysUnder(conn.client, ns)).toEqual([]);
  });
});
