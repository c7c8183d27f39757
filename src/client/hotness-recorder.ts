/**
 * Read side (src/client/): the hotness recorder. A read of a cached value counts one point
 * for its id in the tenant's and family's sorted set (KeyBuilder.hotKeysKey), which the
 * hourly refresh reads through its HotKeySource (src/adapters/redis/hot-key-ranking.ts). The
 * caller should sample (1 read in k, passing `by = k`) and decay the scores; tests call it
 * to make keys hot.
 */
import type { RedisClient } from '../adapters/redis/redis-connection.ts';
import type { CachedFamily, KeyBuilder } from '../core/key-builder.ts';

/** Counts `by` reads of `id` in `family` for `tenant`: one ZINCRBY. */
export async function recordHotness(
  client: RedisClient,
  keys: KeyBuilder,
  read: { readonly tenant: string; readonly family: CachedFamily; readonly id: string },
  by = 1,
): Promise<void> {
  await client.zincrby(keys.hotKeysKey(read.tenant, read.family), by, read.id);
}
