/**
 * DESIGN rule 8 end to end: a fence or a reco generation can vanish between two events (its
 * TTL, eviction, a failover to a replica that missed the last bump; a DEL stands in for all
 * three). The real worker's next bump must still issue a value no reader ever held, so a
 * populate holding the first token is refused, and a reader after the second session builds
 * reco keys under which none of the first session's values exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { populate, readFence } from '../../src/client/fenced-populate.ts';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { KEY_CONTRACT, fenceTtlMs } from '../../src/core/key-contract.ts';
import { eventually, snsClient } from '../support/aws.ts';
import { productUpdated, publish, sessionStarted } from '../support/events.ts';
import { privateWorld, type PrivateWorld } from '../support/private-world.ts';

describe('fence and generation deleted between two events', () => {
  const sns = snsClient();
  const namespace = 'reissue';
  const keys = createKeyBuilder({ namespace, locales: ['en-US'] });
  const product = { family: 'product' as const, tenant: 'default', id: 'B0REISSUE1' };
  const user = { family: 'reco' as const, tenant: 'default', id: 'reissue_user' };
  const seeds = ['B0REISSUE2', 'B0REISSUE3', 'B0REISSUE4'];
  let world: PrivateWorld;

  beforeAll(async () => {
    world = await privateWorld();
    await world.startWorker(namespace);
  });

  afterAll(async () => {
    await world?.teardown();
    sns.destroy();
  });

  /** Waits until the worker has bumped `fence` to a value other than `previous`, and returns it. */
  const bumpedFrom = (fence: string, previous: string | null, what: string): Promise<string> =>
    eventually(
      async () => {
        const value = await world.redis.client.get(fence);
        return value !== null && value !== previous ? value : undefined;
      },
      { what },
    );

  it('refuses a populate holding the token read before the fence vanished', async () => {
    const { redis, messaging } = world;
    const fence = keys.fenceKey(product);
    const valueKey = keys.valueKey({ ...product, locale: 'en-US' });

    // Prepare: a first change; a reader then takes the fence token and fetches v2 (slowly).
    await publish(sns, messaging.topics.catalog, productUpdated(product.id, { version: 2 }));
    const first = await bumpedFrom(fence, null, 'the first fence bump');
    const heldToken = await readFence(redis.client, fence, fenceTtlMs(KEY_CONTRACT.product));
    expect(heldToken).toBe(first);

    // Act: the fence vanishes, the product changes again (v3), then the reader writes v2.
    await redis.client.del(fence);
    await publish(sns, messaging.topics.catalog, productUpdated(product.id, { version: 3 }));
    const second = await bumpedFrom(fence, null, 'the second fence bump');
    const late = await populate(redis.client, valueKey, fence, heldToken, 'v2 (stale)', { ttlMs: 300_000 });

    // Assess: the second value is new, so the old token no longer matches.
    expect(late).toBe('refused-stale');
    expect(await redis.client.exists(valueKey)).toBe(0);
    expect(second).not.toBe(first);
    expect(BigInt(second)).toBeGreaterThan(BigInt(first));
  });

  it("serves none of the first session's recommendations after the generation vanished", async () => {
    const { redis, messaging } = world;
    const gen = keys.fenceKey(user);
    const genTtl = fenceTtlMs(KEY_CONTRACT.reco);
    const recoKey = (generation: string, seedAsin: string) =>
      keys.valueKey({ ...user, seedAsin, generation: Number(generation) });

    // Prepare: session one; a reader fills recommendations under the generation it reads.
    await publish(sns, messaging.topics.sessions, sessionStarted(user.id));
    const first = await bumpedFrom(gen, null, 'the first session bump');
    const firstToken = await readFence(redis.client, gen, genTtl);
    for (const seed of seeds) {
      const stored = await populate(redis.client, recoKey(firstToken, seed), gen, firstToken, 'session-1', {
        ttlMs: 900_000,
      });
      expect(stored).toBe('stored');
    }

    // Act: the generation vanishes, session two starts, a reader reads the generation.
    await redis.client.del(gen);
    await publish(sns, messaging.topics.sessions, sessionStarted(user.id));
    await bumpedFrom(gen, null, 'the second session bump');
    const secondToken = await readFence(redis.client, gen, genTtl);

    // Assess: every key the reader builds now misses; the old values are unreachable.
    for (const seed of seeds) expect(await redis.client.get(recoKey(secondToken, seed))).toBeNull();
    expect(firstToken).toBe(first);
    expect(secondToken).not.toBe(firstToken);
  });
});
