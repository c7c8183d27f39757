/**
 * The primary is killed in the middle of 1,000 events mixed across families, under both
 * failover profiles of the twin (rule 10): `fast` (Sentinel detects in ~1 s; the worker on
 * Sentinel) and `elasticache` (detection 15 s, then the primary endpoint's DNS switch; the
 * worker on the endpoint in standalone mode, as in AWS; the promoted primary has NO replica).
 *
 * The adversary: just before the kill the replica is frozen, so deletes the old primary
 * acknowledges never reach it, and the replica is thawed only once the primary is dead, in
 * time to be promoted. Those deletes exist nowhere but in the worker's replay ring.
 *
 * Results asserted: every key named by an event is absent on the new primary (none
 * resurrected), every reco generation moved, no valid message in any DLQ, the queues drained,
 * and the replay in the worker's log with its count and the span it covered.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { eventually, queueDepth, snsClient, sqsClient } from '../support/aws.ts';
import { productUpdated, promotionChanged, publishAll, sessionStarted } from '../support/events.ts';
import { privateMessaging, type PrivateMessaging } from '../support/private-messaging.ts';
import {
  startPrivateSentinelGroup,
  type PrivateSentinelGroup,
  type SentinelProfile,
} from '../support/private-sentinel-group.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';

const PRODUCTS = 500;
const SECTIONS = 300;
const USERS = 200;

describe.each([
  { profile: 'fast' as SentinelProfile, mode: 'sentinel' as const },
  { profile: 'elasticache' as SentinelProfile, mode: 'standalone' as const },
])('primary killed mid-stream, $profile profile (worker on $mode)', ({ profile, mode }) => {
  const sns = snsClient();
  const sqs = sqsClient();
  const namespace = `ft${profile[0]}${Math.random().toString(36).slice(2, 7)}`;
  const keys = createKeyBuilder({ namespace, locales: ['en-US', 'ja-JP'] });
  const tenant = 'default';
  const products = Array.from({ length: PRODUCTS }, (_, i) => `B0FT${String(i).padStart(6, '0')}`);
  const sections = Array.from({ length: SECTIONS }, (_, i) => `ft-section-${i}`);
  const users = Array.from({ length: USERS }, (_, i) => `ft_user_${i}`);
  const valueKeys = [
    ...products.flatMap((id) => keys.variantKeys({ family: 'product', tenant, id })),
    ...sections.flatMap((id) => keys.variantKeys({ family: 'promo', tenant, id })),
  ];
  const genKeys = users.map((id) => keys.fenceKey({ family: 'reco', tenant, id }));
  /** The value keys an event of this test deletes (a session's generation is counted apart). */
  const keysNamedBy = (event: Record<string, unknown>): string[] =>
    typeof event.asin === 'string'
      ? keys.variantKeys({ family: 'product', tenant, id: event.asin })
      : Array.isArray(event.storeSections)
        ? event.storeSections.flatMap((id: string) => keys.variantKeys({ family: 'promo', tenant, id }))
        : [];
  let group: PrivateSentinelGroup;
  let messaging: PrivateMessaging;
  let worker: WorkerProcess;

  const primaryClient = () => {
    const c = new Redis({
      ...group.access.node,
      ...group.primary(),
      maxRetriesPerRequest: 3,
      lazyConnect: false,
    });
    c.on('error', () => undefined);
    return c;
  };

  beforeAll(async () => {
    [group, messaging] = await Promise.all([
      startPrivateSentinelGroup({ profile, ...(profile === 'elasticache' ? { downAfterMs: 15_000 } : {}) }),
      privateMessaging({ visibilityTimeoutSeconds: 10 }),
    ]);
    // Prepare: every value cached, every generation set, all of it on the replica.
    const seed = primaryClient();
    const pipeline = seed.pipeline();
    for (const k of valueKeys) pipeline.set(k, 'stale', 'EX', 900);
    for (const g of genKeys) pipeline.set(g, '7', 'EX', 900);
    await pipeline.exec();
    expect(await seed.call('WAIT', '1', '5000')).toBe(1);
    seed.disconnect();
    const address = mode === 'sentinel' ? group.sentinels : [group.endpoint];
    worker = await startWorkerProcess({
      messaging,
      namespace,
      redisMode: mode,
      redisAddresses: address.map((a) => `${a.host}:${a.port}`).join(','),
      env: {
        ...(mode === 'sentinel' ? { REDIS_SENTINEL_NAME: group.masterName } : {}),
        WORKER_VISIBILITY_TIMEOUT_S: '10',
        WORKER_HEARTBEAT_INTERVAL_S: '3',
        REDIS_COMMAND_TIMEOUT_MS: '1000',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await messaging?.teardown();
    await group?.stop();
    sns.destroy();
    sqs.destroy();
  }, 60_000);

  it('loses no invalidation, resurrects nothing, dead-letters nothing, and logs the replay', async () => {
    const events = [
      ...products.map((id) => ({ topic: messaging.topics.catalog, event: productUpdated(id) })),
      ...sections.map((id) => ({ topic: messaging.topics.promotions, event: promotionChanged([id]) })),
      ...users.map((id) => ({ topic: messaging.topics.sessions, event: sessionStarted(id) })),
    ];
    // Mixed: interleave the families, so every phase of the fault sees all three.
    events.sort((a, b) => (a.event.eventId < b.event.eventId ? -1 : 1));
    const publishSlice = async (from: number, to: number) => {
      const byTopic = new Map<string, Record<string, unknown>[]>();
      for (const { topic, event } of events.slice(from, to))
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), event]);
      await Promise.all([...byTopic].map(([topic, list]) => publishAll(sns, topic, list)));
    };

    // Act: a third of the stream; the replica freezes and the worker keeps applying on the
    // primary; the primary dies; the replica thaws (it never got those deletes) and is
    // promoted; the rest of the stream is published during detection and after.
    await publishSlice(0, 300);
    const old = primaryClient();
    // Watch the keys this slice names: the order is random, so no fixed entity is sure to be in it.
    const firstKeys = events.slice(0, 300).flatMap(({ event }) => keysNamedBy(event));
    await eventually(async () => ((await old.exists(...firstKeys)) < firstKeys.length ? true : undefined), {
      what: 'the worker applying the first events',
      timeoutMs: 30_000,
    });
    group.freezeReplica();
    await publishSlice(300, 450);
    // Deletes of this slice's keys, which only the frozen replica's primary has.
    const frozenKeys = events.slice(300, 450).flatMap(({ event }) => keysNamedBy(event));
    const unreplicated = await eventually(
      async () => {
        const gone = frozenKeys.length - (await countExisting(old, frozenKeys));
        return gone > 0 ? gone : undefined;
      },
      { what: 'deletes applied on the primary while the replica is frozen' },
    );
    await new Promise((r) => setTimeout(r, 1_500));
    const frozenDeletes = frozenKeys.length - (await countExisting(old, frozenKeys));
    old.disconnect();
    const { killedAt } = await group.killPrimary();
    group.thawReplica();
    await publishSlice(450, events.length);
    const promotion = await group.waitForPromotion(60_000);

    // Assess
    const drained = async () => {
      const depths = await Promise.all(Object.values(messaging.queues).map((q) => queueDepth(sqs, q.url)));
      return depths.every((d) => d === 0) ? true : undefined;
    };
    await eventually(drained, { what: 'every queue to drain', timeoutMs: 120_000 });
    const dlq = await Promise.all(Object.values(messaging.queues).map((q) => queueDepth(sqs, q.dlqUrl)));
    // The replay runs once the new primary is reached, beside the batches applied again: the
    // queues can drain a moment before it is logged.
    const replay = await eventually(
      () => worker.logs.find((l) => l.msg === 'replayed recent invalidations after failover'),
      { what: 'the replay to be logged', timeoutMs: 30_000 },
    ).catch(() => undefined);
    const trail = worker.logs
      .filter((l) => /primary|replay|redis|replication/.test(String(l.msg)))
      .map((l) => String(l.msg));
    const fresh = primaryClient();
    const left = await countExisting(fresh, valueKeys);
    const gens = await Promise.all(genKeys.map((g) => fresh.get(g)));
    fresh.disconnect();
    console.log(
      `${profile}: ${frozenDeletes} of ${frozenKeys.length} keys deleted while the replica was frozen ` +
        `(${unreplicated} when first seen); promoted ` +
        `${promotion.promotedAt - killedAt} ms after the kill; replay ${JSON.stringify(
          replay && { effects: replay.effects, fromMs: replay.fromMs, safeSinceMs: replay.safeSinceMs },
        )}${replay ? '' : `; worker log: ${JSON.stringify(trail.slice(-15))}`}`,
    );
    expect(left).toBe(0);
    expect(gens.filter((g) => g === '7')).toEqual([]);
    expect(dlq).toEqual(dlq.map(() => 0));
    expect(replay).toBeDefined();
    expect(unreplicated).toBeGreaterThan(0);
    expect(Number(replay?.effects)).toBeGreaterThanOrEqual(1);
    // The replayed span starts before the replica was frozen, whatever the detection took.
    expect(Number(replay?.fromMs)).toBeLessThan(killedAt - 1_500);
  });
});

/** How many of `keys` exist (one EXISTS per 500 keys). */
async function countExisting(client: Redis, keys: readonly string[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < keys.length; i += 500) n += await client.exists(...keys.slice(i, i + 500));
  return n;
}
