/**
 * The worker through the real path: events published to SNS (LocalStack), consumed from
 * SQS by a real worker process, applied to real Redis (primary + replica via Sentinel, and
 * a 6-node cluster). Each file owns a private messaging stack and key namespace.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { eventually, queueDepth, snsClient, sqsClient } from '../support/aws.ts';
import { productUpdated, promotionChanged, publish, sessionStarted } from '../support/events.ts';
import { privateMessaging, type PrivateMessaging } from '../support/private-messaging.ts';
import { stack } from '../support/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';
import { adminHeaders } from '../../src/admin/admin-token.ts';
import { stackAccess } from '../support/redis-access.ts';

const sqs = sqsClient();
const sns = snsClient();
/** How many of `keys` exist, one key per command (they may live in different cluster slots). */
const existing = async (r: Redis | Cluster, keys: readonly string[]) =>
  (await Promise.all(keys.map((k) => r.exists(k)))).reduce((a, b) => a + b, 0);
const queueEmpty = (url: string) => async () => ((await queueDepth(sqs, url)) === 0 ? true : undefined);

describe.each([
  { mode: 'sentinel' as const, label: 'primary + replica via Sentinel' },
  { mode: 'cluster' as const, label: '6-node cluster' },
])('worker on $label', ({ mode }) => {
  const s = stack();
  const namespace = `e${Math.random().toString(36).slice(2, 8)}`;
  const keys = createKeyBuilder({ namespace, locales: ['en-US', 'ja-JP'] });
  let messaging: PrivateMessaging;
  let worker: WorkerProcess;
  let redis: Redis | Cluster;
  let subscriber: Redis;
  const broadcasts: Record<string, unknown>[] = [];

  beforeAll(async () => {
    messaging = await privateMessaging({ visibilityTimeoutSeconds: 10 });
    redis =
      mode === 'cluster'
        ? new Cluster(
            s.redis.cluster.map((n) => ({ host: n.host, port: n.port })),
            { redisOptions: stackAccess().node },
          )
        : new Redis({
            ...stackAccess().sentinel,
            sentinels: [...s.redis.sentinels],
            name: s.redis.sentinelName,
          });
    subscriber = new Redis({
      ...stackAccess().node,
      ...(mode === 'cluster' ? s.redis.cluster[0]! : s.redis.primary),
    });
    await subscriber.subscribe(`${namespace}:l1`);
    subscriber.on('message', (_channel, raw: string) => {
      const m = JSON.parse(raw) as Record<string, unknown>;
      if (m.type === 'invalidate') broadcasts.push(m);
    });
    worker = await startWorkerProcess({
      messaging,
      namespace,
      redisMode: mode,
      // The cluster's replicas are not WAITed for here; the Sentinel pair is.
      env: { WORKER_VISIBILITY_TIMEOUT_S: '10', WORKER_HEARTBEAT_INTERVAL_S: '3', REDIS_WAIT_REPLICAS: '1' },
    });
  });

  afterAll(async () => {
    const exit = await worker?.stop();
    expect(exit?.code).toBe(0);
    subscriber?.disconnect();
    redis?.disconnect();
    await messaging?.teardown();
  });

  it('a catalog event deletes exactly every variant of that ASIN, bumps its fence, broadcasts once and leaves the queue', async () => {
    // Prepare: two products, and a review of the same ASIN that must survive.
    const target = { family: 'product' as const, tenant: 'default', id: 'B08X1YRST1' };
    const other = { family: 'product' as const, tenant: 'default', id: 'B08X1YRST2' };
    const review = keys.valueKey({ family: 'review', tenant: 'default', id: target.id, locale: 'en-US' });
    const targetKeys = keys.variantKeys(target);
    const survivors = [...keys.variantKeys(other), review];
    for (const k of [...targetKeys, ...survivors]) await redis.set(k, 'cached', 'EX', 300);
    const before = broadcasts.length;

    // Act
    await publish(sns, messaging.topics.catalog, productUpdated(target.id));

    // Assess
    await eventually(async () => ((await existing(redis, targetKeys)) === 0 ? true : undefined), {
      what: 'the product keys to be deleted',
    });
    expect(targetKeys).toHaveLength(2);
    for (const k of survivors) expect(await redis.get(k)).toBe('cached');
    // A new fence starts at the Redis clock in µs (16 digits), never at 1 (rule 8).
    expect(await redis.get(keys.fenceKey(target))).toMatch(/^[1-9]\d{15}$/);
    await eventually(queueEmpty(messaging.queues.catalog.url), { what: 'the message to be acked' });
    await eventually(() => (broadcasts.length > before ? true : undefined), { what: 'the broadcast' });
    const mine = broadcasts.slice(before);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.keys).toEqual(expect.arrayContaining(targetKeys));
  });

  it('a promotion event deletes its sections, and the delete is on the replica before the ack', async () => {
    // Prepare: freeze the replica(s), so WAIT cannot be satisfied.
    const sections = ['manga-home', 'deals'];
    const promoKeys = sections.flatMap((id) => keys.variantKeys({ family: 'promo', tenant: 'default', id }));
    for (const k of promoKeys) await redis.set(k, 'old-coupon', 'EX', 900);
    const replicas =
      mode === 'cluster'
        ? (redis as Cluster).nodes('slave')
        : [new Redis({ ...stackAccess().node, host: s.redis.replica.host, port: s.redis.replica.port })];
    const pids = await Promise.all(
      replicas.map(async (r) => Number(/process_id:(\d+)/.exec(await r.info('server'))?.[1])),
    );
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      // Act
      await publish(sns, messaging.topics.promotions, promotionChanged(sections));

      // Assess: the primary has applied the deletes, but the message is NOT acked while
      // no replica confirms them (its ack is held, its visibility extended: decision 0008).
      await eventually(async () => ((await existing(redis, promoKeys)) === 0 ? true : undefined), {
        what: 'the deletes on the primary',
      });
      await new Promise((r) => setTimeout(r, 2500));
      expect(await queueDepth(sqs, messaging.queues.promotions.url)).toBe(1);
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    // Once the replicas answer again, the held ack's WAIT succeeds and only then is it acked.
    await eventually(queueEmpty(messaging.queues.promotions.url), {
      what: 'the promotion to be acked',
      timeoutMs: 30_000,
    });
    // Cluster replicas only answer for their own slots, and only in READONLY mode.
    if (mode === 'cluster') await Promise.all(replicas.map((r) => r.call('READONLY')));
    for (const k of promoKeys) {
      const answers = await Promise.all(replicas.map((r) => r.exists(k).catch(() => null)));
      const served = answers.filter((a) => a !== null);
      expect(served.length, k).toBeGreaterThan(0);
      expect(Math.max(...served), k).toBe(0);
    }
    if (mode !== 'cluster') for (const r of replicas) r.disconnect();
    // The held ack is confirmed by the held-acks loop's next WAIT (every second). Under load
    // the message can also come back once and be acked in hand before that tick, so the queue
    // may be empty a tick before the counter moves: wait for the counter, do not sample it.
    const confirmed = /^invalidation_held_acks_confirmed_total\{queue="promotions"\} [1-9]/m;
    const metrics = await eventually(
      async () => {
        const text = await (
          await fetch(`http://127.0.0.1:${worker.adminPort}/metrics`, { headers: adminHeaders() })
        ).text();
        return confirmed.test(text) ? text : undefined;
      },
      { what: 'the held ack to be confirmed by a WAIT', timeoutMs: 10_000 },
    );
    expect(metrics).toMatch(confirmed);
  });

  it("a session event invalidates every reco key of that user and none of another user's", async () => {
    // Prepare: reco entries of two users, written under their current generation (0).
    const seeds = ['B08X1YRST1', 'B08X1YRST2', 'B08X1YRST3'];
    const reco = (id: string, generation: number, seedAsin: string) =>
      keys.valueKey({ family: 'reco', tenant: 'default', id, seedAsin, generation });
    for (const seed of seeds) {
      await redis.set(reco('alice', 0, seed), 'recs', 'EX', 900);
      await redis.set(reco('bob', 0, seed), 'recs', 'EX', 900);
    }
    const gen = async (id: string) =>
      Number((await redis.get(keys.fenceKey({ family: 'reco', tenant: 'default', id }))) ?? 0);

    // Act
    await publish(sns, messaging.topics.sessions, sessionStarted('alice'));

    // Assess: alice's generation moved, so every key a reader builds for her now misses
    // (constant time: no scan); bob's generation and entries are untouched.
    await eventually(async () => ((await gen('alice')) > 0 ? true : undefined), {
      what: "alice's generation",
    });
    for (const seed of seeds) {
      expect(await redis.get(reco('alice', await gen('alice'), seed))).toBeNull();
      expect(await redis.get(reco('bob', await gen('bob'), seed))).toBe('recs');
    }
    expect(await gen('bob')).toBe(0);
    await eventually(queueEmpty(messaging.queues.sessions.url), { what: 'the session event to be acked' });
  });
});
