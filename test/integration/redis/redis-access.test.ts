/**
 * The local Redis speaks to clients as ElastiCache with in-transit encryption and an AUTH
 * token does (issue 14, item 6): every node, Sentinel and cluster node of the shared stack
 * serves TLS only and requires the password. A client without TLS, without the password,
 * with a wrong one, or that does not trust the stack's CA is refused; the worker's own path
 * (the variables the stack would inject -> its config -> its connection) gets in.
 */
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { loadWorkerConfig } from '../../../src/config/load-config.ts';
import { localWorkerEnv } from '../../../src/local/local-worker-env.ts';
import { redisConfigFrom } from '../../../src/worker/redis-settings.ts';
import { stackAccess } from '../../support/redis-access.ts';
import { stack, testPrefix } from '../../support/stack.ts';

/** One connection attempt, one command: `PONG`, or the first error it met. */
async function attempt(options: RedisOptions, command: string[] = ['PING']): Promise<string> {
  const client = new Redis({
    ...options,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
  });
  let firstError: string | undefined;
  client.on('error', (e: Error) => (firstError ??= e.message));
  try {
    await client.connect();
    const reply = String(await client.call(command[0] ?? 'PING', ...command.slice(1)));
    return firstError === undefined ? reply : `${firstError} (then ${reply})`;
  } catch (error) {
    return firstError ?? (error instanceof Error ? error.message : String(error));
  } finally {
    client.disconnect();
  }
}

const s = stack();
const TARGETS = [
  ['the primary', s.redis.primary],
  ['the replica', s.redis.replica],
  ['a Sentinel', s.redis.sentinels[0]!],
  ['a cluster node', s.redis.cluster[0]!],
] as const;

describe.each(TARGETS)('the local Redis: %s', (_name, at) => {
  const access = stackAccess();
  const tls = access.node.tls!;

  it('lets a client in with TLS (the stack CA) and the password', async () => {
    expect(access.tls).toBe(true);
    expect(await attempt({ ...at, ...access.node })).toBe('PONG');
  });

  it('refuses a client without TLS, even with the password', async () => {
    const outcome = await attempt({ ...at, password: access.node.password! });
    expect(outcome).not.toContain('PONG');
    expect(outcome).toMatch(/ECONNRESET|Connection is closed|socket hang up|EPIPE/);
  });

  it('refuses a TLS client without the password (NOAUTH)', async () => {
    expect(await attempt({ ...at, tls })).toMatch(/^NOAUTH/);
  });

  it('refuses a TLS client with a wrong password (WRONGPASS), and it gets no command in', async () => {
    const outcome = await attempt({ ...at, tls, password: `${access.node.password!}x` });
    expect(outcome).toMatch(/^WRONGPASS/);
    expect(outcome).not.toContain('PONG');
  });

  it('is refused by a client that does not trust the stack CA (the certificate is checked)', async () => {
    const outcome = await attempt({ ...at, tls: {}, password: access.node.password! });
    expect(outcome).toMatch(/self[- ]signed certificate|unable to verify|unable to get local issuer/);
  });
});

describe('the worker path to the local Redis', () => {
  it('the variables the worker gets (REDIS_TLS, REDIS_TLS_CA_FILE, REDIS_PASSWORD) connect it through the Sentinels', async () => {
    // Prepare: the same load as the worker's start-up, from the local worker environment.
    const env = localWorkerEnv(s, { redisMode: 'sentinel' });
    expect(env).toMatchObject({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: s.redis.tls?.caFile });
    const config = loadWorkerConfig(env);
    const connection = createRedisConnection(redisConfigFrom(config.redis, 'redis-access-test'));
    const key = `${testPrefix('tls')}:k`;
    try {
      // Act
      await connection.client.set(key, 'v', 'PX', 10_000);

      // Assess: on the primary, over TLS.
      expect(await connection.client.get(key)).toBe('v');
      const role = (await connection.client.call('ROLE')) as [string];
      expect(role[0]).toBe('master');
      const client = connection.client as Redis;
      expect(client.stream.constructor.name).toBe('TLSSocket');
    } finally {
      await connection.client.unlink(key);
      await connection.close();
    }
  });
});
