/**
 * A private redis-server for one test file: its whole keyspace belongs to the test (so
 * "nothing else was touched" can be checked on all of it), and it can be frozen (SIGSTOP)
 * to play "Redis is down" without a Sentinel failing it over. Like every Redis of the suite it
 * serves TLS only and requires the password (src/local/local-redis.ts): `access` gets a
 * client in, `config` is a standalone RedisConfig that carries it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RedisConfig } from '../../src/adapters/redis/redis-connection.ts';
import { freePort } from '../../src/local/free-port.ts';
import { privateAccess, privateServerArgs, type RedisAccess } from '../../src/local/local-redis.ts';
import { eventually } from './aws.ts';

export { freePort };

export interface PrivateRedis {
  readonly port: number;
  /** TLS + password of this server (the tuning, ioredis options, redis-cli arguments). */
  readonly access: RedisAccess;
  /** `{ mode: 'standalone', host, port, tuning: access.tuning }`. */
  readonly config: Extract<RedisConfig, { mode: 'standalone' }>;
  /** A client for assertions (not the worker's). */
  readonly client: Redis;
  /** Every key, sorted, with its value or type. */
  snapshot(): Promise<Map<string, string>>;
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'private-redis-'));
  const proc: ChildProcess = spawn(
    'redis-server',
    [
      ...privateServerArgs(port, dir),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  const access = privateAccess();
  const client = new Redis({
    ...access.node,
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  client.on('error', () => undefined);
  await eventually(
    async () => {
      try {
        if (client.status !== 'ready') await client.connect();
        return (await client.ping()) === 'PONG' ? true : undefined;
      } catch {
        return undefined;
      }
    },
    { what: `redis-server on :${port}` },
  );
  return {
    port,
    access,
    config: { mode: 'standalone', host: '127.0.0.1', port, tuning: access.tuning },
    client,
    async snapshot() {
      const keys = (await client.keys('*')).sort();
      const out = new Map<string, string>();
      for (const key of keys) {
        const type = await client.type(key);
        out.set(key, type === 'string' ? `string:${await client.get(key)}` : type);
      }
      return out;
    },
    freeze: () => void proc.kill('SIGSTOP'),
    thaw: () => void proc.kill('SIGCONT'),
    async stop() {
      proc.kill('SIGCONT');
      client.disconnect();
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode === null ? proc.once('exit', r) : r(undefined)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
