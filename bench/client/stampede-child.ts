/**
 * One process of the stampede benchmark (client-bench.ts): builds the cache client (or the
 * naive cache-aside) over the given Redis and the origin simulator, says `ready`, waits for
 * `go`, fires `concurrency` concurrent reads of one cold key, reports the origin calls its
 * loader made and where the reads were served from, then exits.
 *
 *   node bench/client/stampede-child.ts '<{"mode","redis","originUrl","namespace","asin","concurrency"}>'
 */
import { createRedisConnection } from '../../src/adapters/redis/redis-connection.ts';
import type { RedisConfig } from '../../src/adapters/redis/redis-connection.ts';
import type { RedisAccess } from '../../src/local/env-file.ts';
import { redisAccessTuning } from '../../src/local/local-redis.ts';
import type { CacheClient } from '../../src/client/cache-client.ts';
import { createCacheClient } from '../../src/client/cache-client.ts';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { createNaiveCache } from '../../src/orchestrator-sim/naive-cache.ts';
import { originLoaders } from '../../src/orchestrator-sim/origin-loaders.ts';

interface ChildArgs {
  readonly mode: 'client' | 'naive';
  readonly redis: RedisConfig;
  /** The stack's TLS CA and password file (env.json's `redis.tls`, `redis.passwordFile`). */
  readonly redisAccess: RedisAccess;
  readonly originUrl: string;
  readonly namespace: string;
  readonly asin: string;
  readonly concurrency: number;
}

const parsed = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const args = {
  ...parsed,
  redis: { ...parsed.redis, tuning: redisAccessTuning(parsed.redisAccess) } as RedisConfig,
};
let originCalls = 0;
const loaders = originLoaders(args.originUrl, (_family, outcome) => {
  if (outcome !== 'error') originCalls++;
});
const side = createRedisConnection(args.redis);
const client: CacheClient =
  args.mode === 'client'
    ? createCacheClient({
        redis: args.redis,
        namespace: args.namespace,
        locales: ['en-US'],
        l1: false,
        loaders,
        // The wait is the loader's hard timeout; the herd must not time out waiting.
        origin: { hardTimeoutMs: 5_000, concurrency: 1_000 },
      })
    : createNaiveCache({
        redis: side.client,
        keys: createKeyBuilder({ namespace: args.namespace, locales: ['en-US'] }),
        loaders,
        l1MaxEntries: 0,
        loaderTimeoutMs: 10_000,
      });

await client.ready();
await side.client.ping();
process.send?.({ type: 'ready' });
process.once('message', () => {
  void (async () => {
    const started = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: args.concurrency }, () => client.get('product', args.asin, { locale: 'en-US' })),
    );
    const ms = performance.now() - started;
    const sources: Record<string, number> = {};
    for (const r of results) {
      const k = r.status === 'fulfilled' ? r.value.source : 'error';
      sources[k] = (sources[k] ?? 0) + 1;
    }
    process.send?.({ type: 'done', originCalls, sources, ms });
    await client.close();
    await side.close();
    process.exit(0);
  })();
});
