import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisConnection, reconnectDelay } from '../../../src/adapters/redis/redis-connection.ts';
import type { PrimaryChange, RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { closedPort } from './closed-port.ts';
import { eventually, sentinelConfig } from './redis-test-kit.ts';
import { privateAccess, privateServerArgs } from '../../support/redis-access.ts';

/** A private, throwaway redis-server (no persistence; TLS + password) that this test may stop and restart. */
async function privateRedis(port: number): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-connection-'));
  dirs.push(dir);
  const child = spawn(
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
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await eventually(() => out.includes('Ready to accept connections'), 10_000, 'private redis-server');
  return child;
}

/** The private servers' temp dirs (their access config), removed after each test. */
const dirs: string[] = [];

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

describe('createRedisConnection', () => {
  const toClose: RedisConnection[] = [];
  const children: ChildProcess[] = [];

  afterEach(async () => {
    await Promise.all(toClose.splice(0).map((c) => c.close()));
    await Promise.all(children.splice(0).map(stop));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('connects through the Sentinels to the current primary', async () => {
    const conn = createRedisConnection(sentinelConfig());
    toClose.push(conn);
    const role = (await conn.client.call('ROLE')) as [string, ...unknown[]];
    expect(role[0]).toBe('master');
  });

  it('fails a command fast (no endless queueing) when Redis is down', async () => {
    const conn = createRedisConnection({
      mode: 'standalone',
      host: '127.0.0.1',
      port: await closedPort(),
      tuning: privateAccess().tuning,
    });
    toClose.push(conn);
    const started = Date.now();
    await expect(conn.client.get('x')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('announces a new primary when the server behind the address changed (run_id)', async () => {
    // Prepare: a private server, so restarting it disturbs nobody.
    const port = await closedPort();
    children.push(await privateRedis(port));
    const conn = createRedisConnection({
      mode: 'standalone',
      host: '127.0.0.1',
      port,
      tuning: privateAccess().tuning,
    });
    toClose.push(conn);
    const changes: PrimaryChange[] = [];
    let lost = 0;
    conn.events.on('primary-changed', (c) => changes.push(c));
    conn.events.on('connection-lost', () => lost++);
    conn.events.on('error', () => undefined);
    await conn.client.set('k', 'v');
    await eventually(() => conn.client.status === 'ready', 5_000, 'ready');
    await new Promise((r) => setTimeout(r, 100)); // let the first identification land

    // Act: the primary restarts empty, as after a failover that lost writes.
    await stop(children.pop() as ChildProcess);
    children.push(await privateRedis(port));
    await eventually(() => changes.length === 1, 15_000, 'primary-changed');

    // Assess
    expect(lost).toBeGreaterThanOrEqual(1);
    expect(changes[0]?.reason).toBe('run-id-changed');
    expect(changes[0]?.previous).not.toEqual(changes[0]?.current);
    expect(await conn.client.get('k')).toBeNull();
  });

  it('close() is idempotent', async () => {
    const conn = createRedisConnection(sentinelConfig());
    const first = conn.close();
    expect(conn.close()).toBe(first);
    await first;
  });

  it('backs off linearly up to the cap', () => {
    expect([1, 5, 50].map((n) => reconnectDelay(n, 2_000))).toEqual([100, 500, 2_000]);
  });
});
