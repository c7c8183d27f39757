/** Maps the validated worker configuration to the Redis adapter's connection config. */
import type { WorkerConfig } from '../config/worker-config.ts';
import type { ConnectionTuning, RedisConfig } from '../adapters/redis/redis-connection.ts';

export function redisConfigFrom(redis: WorkerConfig['redis'], connectionName: string): RedisConfig {
  const tuning: ConnectionTuning = {
    commandTimeoutMs: redis.commandTimeoutMs,
    connectionName,
    tls: redis.tls,
    ...(redis.tlsCaFile === undefined ? {} : { tlsCaFile: redis.tlsCaFile }),
    db: redis.db,
    ...(redis.username === undefined ? {} : { username: redis.username }),
    ...(redis.password === undefined ? {} : { password: redis.password }),
  };
  const addresses = redis.addresses.map((a) => ({ host: a.host, port: a.port }));
  switch (redis.mode) {
    case 'cluster':
      return { mode: 'cluster', nodes: addresses, tuning };
    case 'sentinel':
      // No fallback name: the local twin's `mcache` must never be guessed in production.
      if (redis.sentinelName === undefined)
        throw new Error('sentinel Redis needs REDIS_SENTINEL_NAME (config validation should have said so)');
      return { mode: 'sentinel', sentinels: addresses, name: redis.sentinelName, tuning };
    case 'standalone': {
      const first = addresses[0];
      if (!first)
        throw new Error('standalone Redis needs an address (config validation should have said so)');
      return { mode: 'standalone', host: first.host, port: first.port, tuning };
    }
  }
}
