/**
 * One Orchestrator process of the stampede test: a cache client on the namespace and Redis
 * given in argv, waiting for "go" on IPC, then `reads` concurrent cold reads of one product.
 * The loader counts its calls with INCR on a counter key (so the parent counts across
 * processes) and takes `loadMs`. The client's Redis deadline is `redisTimeoutMs`; its Redis breaker's
 * openings are counted. Replies { calls, sources, leaked, breakerOpened } on IPC and exits.
 */
import { Redis, Cluster } from 'ioredis';
import { createCacheClient } from '../../../src/client/cache-client.ts';
import type { RedisConfig } from '../../../src/adapters/redis/redis-connection.ts';
import { stackAccess } from '../../support/redis-access.ts';
import { redisBreakerWatch } from '../../support/load-tolerance.ts';

const [ns, redisJson, readsArg, asin, counterKey, loadMsArg, redisTimeoutArg] = process.argv.slice(2);
const access = stackAccess();
const redis = { ...(JSON.parse(redisJson!) as RedisConfig), tuning: access.tuning } as RedisConfig;
const counter =
  redis.mode === 'cluster'
    ? new Cluster(
        redis.nodes.map((n) => ({ ...n })),
        { redisOptions: access.node },
      )
    : redis.mode === 'sentinel'
      ? new Redis({ ...access.sentinel, sentinels: redis.sentinels.map((s) => ({ ...s })), name: redis.name })
      : new Redis({ ...access.node, host: redis.host, port: redis.port });
let calls = 0;
const breaker = redisBreakerWatch();
const client = createCacheClient({
  redis,
  redisTimeoutMs: Number(redisTimeoutArg),
  logger: breaker.logger,
  namespace: ns!,
  locales: ['en-US'],
  tenant: 'acme',
  loaders: {
    product: async ({ id }) => {
      calls++;
      await counter.incr(counterKey!);
      await new Promise((r) => setTimeout(r, Number(loadMsArg)));
      return { data: { asin: id, title: 'cold', priceCents: 1999 }, version: 1 };
    },
  },
});
await client.ready();
process.send!({ ready: true });
process.once('message', () => {
  void (async () => {
    const results = await Promise.all(
      Array.from({ length: Number(readsArg) }, () => client.get('product', asin!)),
    );
    const sources: Record<string, number> = {};
    for (const r of results) sources[r.source] = (sources[r.source] ?? 0) + 1;
    const leaked = results.some((r) => JSON.stringify(r.value).includes('price'));
    process.send!({ calls, sources, leaked, breakerOpened: breaker.opened }, () => {
      void client.close().then(() => {
        counter.disconnect();
        process.exit(0);
      });
    });
  })();
});
