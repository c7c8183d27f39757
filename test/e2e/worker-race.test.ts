/**
 * The classic cache-aside race, closed by the fence (DESIGN rule 3): a reader that fetched
 * the origin BEFORE an invalidation and writes AFTER it is refused; a reader that starts
 * after the invalidation stores its value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { KEY_CONTRACT, fenceTtlMs } from '../../src/core/key-contract.ts';
import { populate, readFence } from '../../src/client/fenced-populate.ts';
import { eventually, snsClient } from '../support/aws.ts';
import { productUpdated, publish } from '../support/events.ts';
import { privateWorld, type PrivateWorld } from '../support/private-world.ts';

describe('populate racing an invalidation', () => {
  const sns = snsClient();
  const namespace = 'race';
  const keys = createKeyBuilder({ namespace, locales: ['en-US'] });
  const product = { family: 'product' as const, tenant: 'default', id: 'B0RACE0001' };
  const valueKey = keys.valueKey({ ...product, locale: 'en-US' });
  const fence = keys.fenceKey(product);
  const FENCE_TTL_MS = fenceTtlMs(KEY_CONTRACT.product);
  let world: PrivateWorld;

  beforeAll(async () => {
    world = await privateWorld();
    await world.startWorker(namespace);
  });

  afterAll(async () => {
    await world?.teardown();
    sns.destroy();
  });

  it('refuses a populate that read the origin before the invalidation, accepts one that started after', async () => {
    const { redis, messaging } = world;
    // Prepare: a reader misses, takes the fence token, and fetches v1 from the origin (slowly).
    const staleToken = await readFence(redis.client, fence, FENCE_TTL_MS);

    // Act: the product changes; the worker invalidates (fence bump) while the reader is away.
    await publish(sns, messaging.topics.catalog, productUpdated(product.id, { version: 2 }));
    await eventually(async () => ((await redis.client.get(fence)) !== staleToken ? true : undefined), {
      what: 'the worker to bump the fence',
    });
    const late = await populate(redis.client, valueKey, fence, staleToken, 'v1 (stale)', { ttlMs: 300_000 });

    // A reader that starts after the invalidation.
    const freshToken = await readFence(redis.client, fence, FENCE_TTL_MS);
    const fresh = await populate(redis.client, valueKey, fence, freshToken, 'v2', { ttlMs: 300_000 });

    // Assess
    expect(late).toBe('refused-stale');
    expect(fresh).toBe('stored');
    expect(await redis.client.get(valueKey)).toContain('v2');
  });
});
