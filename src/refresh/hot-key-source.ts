/**
 * The hotness signal, as a port: "the N hottest ids of a family". The Redis adapter reads a
 * sorted set the read side increments on reads (`ZINCRBY`), one per tenant and family:
 *
 *   <ns>:{hot:<tenant>}:<family>      e.g. mc:{hot:default}:review
 *
 * The read side should sample its increments (1 read in k) and decay the scores (e.g. an hourly
 * `ZUNIONSTORE key 1 key WEIGHTS 0.5`): that is its contract, not this module's. Ids read back
 * are untrusted and validated by `mergeHotKeys`.
 */
import type { RedisClient } from '../adapters/redis/redis-connection.ts';
import { InvalidIdentifierError } from '../core/errors.ts';
import { NAMESPACE, TENANT, matchesRule } from '../core/identifier-rules.ts';
import type { FetchableFamily } from './cached-value-filter.ts';

/** Where the hottest ids come from. */
export interface HotKeySource {
  /** Up to `n` ids of `family` for `tenant`, hottest first. */
  top(family: FetchableFamily, tenant: string, n: number): Promise<readonly string[]>;
}

/** The sorted set of a tenant's and family's hotness. */
export function hotnessKey(namespace: string, tenant: string, family: FetchableFamily): string {
  if (!matchesRule(NAMESPACE, namespace))
    throw new InvalidIdentifierError('namespace', NAMESPACE.description);
  if (!matchesRule(TENANT, tenant)) throw new InvalidIdentifierError('tenant', TENANT.description);
  return `${namespace}:{hot:${tenant}}:${family}`;
}

/** A HotKeySource over the Redis sorted sets above. */
export function createRedisHotKeySource(client: RedisClient, namespace: string): HotKeySource {
  return {
    async top(family, tenant, n) {
      if (n <= 0) return [];
      return client.zrevrange(hotnessKey(namespace, tenant, family), 0, Math.floor(n) - 1);
    },
  };
}

/** What the read side does on a read (and tests, to make keys hot): one ZINCRBY. */
export async function recordHotness(
  client: RedisClient,
  namespace: string,
  tenant: string,
  family: FetchableFamily,
  id: string,
  by = 1,
): Promise<void> {
  await client.zincrby(hotnessKey(namespace, tenant, family), by, id);
}
