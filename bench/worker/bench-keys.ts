/**
 * The bench's private key namespace: every key it touches starts with `<namespace>:`, so it
 * can pre-populate the cached values it is about to invalidate (the deletes then delete
 * something, as in production) and remove everything it created afterwards, by SCAN.
 */
import type { Redis } from 'ioredis';
import { createKeyBuilder, type KeyBuilder } from '../../src/core/key-builder.ts';
import { asinFor } from './product-events.ts';

/** Locales of the bench's key builder: two value variants per product. */
export const BENCH_LOCALES: readonly string[] = ['en-US', 'ja-JP'];

/** A fresh namespace (a valid slug) for one run. */
export function benchNamespace(): string {
  return `bench-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

export function benchKeys(namespace: string): KeyBuilder {
  return createKeyBuilder({ namespace, locales: BENCH_LOCALES });
}

/** The value keys of ASIN index `i` (one per locale). */
export function productKeys(keys: KeyBuilder, i: number): string[] {
  return keys.variantKeys({ family: 'product', tenant: 'default', id: asinFor(i) });
}

/** SETs every variant of ASIN indexes [from, from + count), pipelined in chunks. */
export async function populateProducts(
  redis: Redis,
  keys: KeyBuilder,
  from: number,
  count: number,
): Promise<void> {
  const CHUNK = 1000;
  for (let i = 0; i < count; i += CHUNK) {
    const pipeline = redis.pipeline();
    for (let n = i; n < Math.min(count, i + CHUNK); n++) {
      for (const key of productKeys(keys, from + n)) pipeline.set(key, 'cached-value', 'EX', 600);
    }
    await pipeline.exec();
  }
}

/** How many variants of ASIN indexes [from, from + count) still exist. */
export async function survivingProducts(
  redis: Redis,
  keys: KeyBuilder,
  from: number,
  count: number,
): Promise<number> {
  const pipeline = redis.pipeline();
  for (let n = 0; n < count; n++) pipeline.exists(...productKeys(keys, from + n));
  const replies = (await pipeline.exec()) ?? [];
  return replies.reduce((sum, [, exists]) => sum + Number(exists), 0);
}

/** Deletes every key under `prefix` (SCAN, never KEYS); resolves with how many went. */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) deleted += await redis.unlink(...found);
  } while (cursor !== '0');
  return deleted;
}

/**
 * Waits until the replica has applied every write made so far (WAIT 1). A bulk write (the
 * keys a round is about to delete, the ceiling's keyspace) is replicated after the fact, and
 * a replica still catching up would take CPU from the next measurement on this 2-core box.
 */
export async function replicaCaughtUp(redis: Redis): Promise<void> {
  const acked = Number(await redis.call('WAIT', 1, 60_000));
  if (acked < 1) throw new Error('the replica did not catch up within 60 s');
}
