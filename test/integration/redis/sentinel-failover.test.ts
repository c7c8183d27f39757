/**
 * A real Sentinel failover on a PRIVATE primary + replica + Sentinel (random ports, started
 * and stopped here), so the shared stack is never failed over under other tests. TLS and the
 * password everywhere, as every Redis of the suite (privateAccess()).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { L1Subscriber } from '../../../src/client/l1-subscriber.ts';
import type { FlushReason } from '../../../src/client/l1-subscriber.ts';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type {
  PrimaryChange,
  RedisConfig,
  RedisConnection,
} from '../../../src/adapters/redis/redis-connection.ts';
import { closedPort } from './closed-port.ts';
import { eventually } from './redis-test-kit.ts';
import {
  privateAccess,
  privateSentinelAuthPass,
  privateSentinelConfLines,
  privateServerArgs,
} from '../../support/redis-access.ts';

const NAME = 'tfo';

function start(command: string, args: string[]): ChildProcess {
  return spawn(command, args, { stdio: 'ignore' });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

async function ping(port: number): Promise<boolean> {
  const probe = new Redis({
    ...privateAccess().node,
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

describe('Sentinel failover (private servers)', () => {
  const children: ChildProcess[] = [];
  let dir: string;
  let ports: { primary: number; replica: number; sentinel: number };
  let admin: Redis;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-failover-'));
    ports = { primary: await closedPort(), replica: await closedPort(), sentinel: await closedPort() };
    const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    children.push(start('redis-server', [...privateServerArgs(ports.primary, dir), ...common]));
    children.push(
      start('redis-server', [
        ...privateServerArgs(ports.replica, dir),
        ...common,
        '--replicaof',
        '127.0.0.1',
        String(ports.primary),
      ]),
    );
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        ...privateSentinelConfLines(ports.sentinel),
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${NAME} 127.0.0.1 ${ports.primary} 1`,
        privateSentinelAuthPass(NAME),
        `sentinel down-after-milliseconds ${NAME} 1000`,
        `sentinel failover-timeout ${NAME} 5000`,
        '',
      ].join('\n'),
    );
    children.push(start('redis-sentinel', [conf]));
    for (const port of Object.values(ports)) await eventually(() => ping(port), 10_000, `redis on ${port}`);
    admin = new Redis({ ...privateAccess().node, port: ports.sentinel, host: '127.0.0.1' });
    // The Sentinel must know an in-sync replica before it agrees to fail over.
    await eventually(
      async () => {
        const replicas = (await admin.call('SENTINEL', 'REPLICAS', NAME)) as string[][];
        const fields = replicas[0] ?? [];
        const flags = fields[fields.indexOf('flags') + 1] ?? '';
        const link = fields[fields.indexOf('master-link-status') + 1] ?? '';
        return flags === 'slave' && link === 'ok';
      },
      20_000,
      'sentinel to see the replica',
    );
  });

  afterAll(async () => {
    admin?.disconnect();
    await Promise.all(children.splice(0).map(stop));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reconnects to the new primary, announces it, and the L1 subscriber flushes', async () => {
    // Prepare
    const config: RedisConfig = {
      mode: 'sentinel',
      sentinels: [{ host: '127.0.0.1', port: ports.sentinel }],
      name: NAME,
      tuning: privateAccess().tuning,
    };
    const conn: RedisConnection = createRedisConnection(config);
    conn.events.on('error', () => undefined);
    const changes: PrimaryChange[] = [];
    conn.events.on('primary-changed', (c) => changes.push(c));
    const l1 = new Map<string, string>();
    const sub = new L1Subscriber({ redis: config, channel: { channel: 't:l1', seqKey: 't:{l1}:seq' }, l1 });
    sub.on('error', () => undefined);
    const flushes: FlushReason[] = [];
    sub.on('flush', (e) => flushes.push(e.reason));
    try {
      await sub.start();
      await conn.client.set('before', '1');
      await eventually(() => conn.client.status === 'ready', 5_000, 'ready');
      await new Promise((r) => setTimeout(r, 200)); // the first identification lands
      l1.set('cached', 'x');

      // Act
      await admin.call('SENTINEL', 'FAILOVER', NAME);
      await eventually(() => changes.length >= 1, 30_000, 'primary-changed');
      await eventually(() => flushes.filter((r) => r === 'subscribed').length >= 2, 30_000, 'resubscribe');

      // Assess: writes go to the old replica, now primary.
      expect(changes[0]?.reason).toBe('run-id-changed');
      await eventually(
        async () => {
          try {
            await conn.client.set('after', '1');
            return true;
          } catch {
            return false;
          }
        },
        20_000,
        'a write on the new primary',
      );
      const [host, port] = (await admin.call('SENTINEL', 'get-master-addr-by-name', NAME)) as [
        string,
        string,
      ];
      expect(`${host}:${port}`).toBe(`127.0.0.1:${ports.replica}`);
      expect(flushes).toContain('disconnected');
      expect(l1.size).toBe(0);
    } finally {
      await sub.close();
      await conn.close();
    }
  }, 90_000);
});
