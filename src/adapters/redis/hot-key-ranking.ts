/**
 * The Redis adapter of the refresh's HotKeySource port (src/refresh/hot-key-source.ts): reads
 * the sorted set the read side increments on reads (src/client/hotness-recorder.ts), one per
 * tenant and family, named by KeyBuilder.hotKeysKey:
 *
 *   <ns>:{hot:<tenant>}:<family>      e.g. mc:{hot:default}:review
 *
 * Ids read back are untrusted and validated by `mergeHotKeys` (src/refresh/hot-keys.ts).
 */
import type { KeyBuilder } from '../../core/key-builder.ts';
import type { HotKeySource } from '../../refresh/hot-key-source.ts';
import type { RedisClient } from './redis-connection.ts';

/** A HotKeySource over the hotness sorted sets of `keys`' namespace. */
export function createRedisHotKeySource(client: RedisClient, keys: KeyBuilder): HotKeySource {
  return {
    async top(family, tenant, n) {
      if (n <= 0) return [];
      return client.zrevrange(keys.hotKeysKey(tenant, family), 0, Math.floor(n) - 1);
    },
  };
}
