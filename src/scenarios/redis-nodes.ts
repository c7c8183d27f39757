/**
 * The scenarios' private Redis: redis-server processes on free loopback ports (no
 * persistence, temp dirs) and a TCP endpoint in front of them, standing in for ElastiCache's
 * primary endpoint. Every client of a scenario (the worker, the demo Orchestrator's readers,
 * the scenario's own probes) connects to the endpoint, so "the primary is lost, the replica
 * is promoted" or "an empty node replaces it" is one `retarget()` away, as a DNS switch is.
 * The nodes serve TLS only and require the password, as ElastiCache and every other local
 * Redis do (src/local/local-redis.ts); the endpoint forwards the TLS bytes unchanged.
 * Nothing here touches the shared stack's Redis.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { privateAccess, privateServerArgs } from '../local/local-redis.ts';

const HOST = '127.0.0.1';

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** One redis-server process. */
export interface RedisNode {
  readonly port: number;
  /** A client for the scenario's own probes (lazy, one retry). */
  readonly client: Redis;
  /** SIGKILL: the node is lost with everything in it. */
  kill(): void;
  /** SIGTERM and wait; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a redis-server, as a replica of `replicaOf` when given; resolves once it answers PING. */
export async function startRedisNode(options: { replicaOf?: number } = {}): Promise<RedisNode> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'scenario-redis-'));
  const args = [
    ...privateServerArgs(port, dir),
    ...['--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir],
  ];
  if (options.replicaOf !== undefined) args.push('--replicaof', HOST, String(options.replicaOf));
  const proc: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  const client = new Redis({
    port,
    host: HOST,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    ...privateAccess().node,
  });
  client.on('error', () => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if (client.status !== 'ready') await client.connect();
      if ((await client.ping()) === 'PONG') break;
    } catch {
      // not up yet
    }
    if (proc.exitCode !== null) throw new Error(`redis-server on :${port} exited with ${proc.exitCode}`);
    if (Date.now() > deadline) throw new Error(`redis-server on :${port} did not answer within 10 s`);
    await sleep(50);
  }
  let stopped: Promise<void> | undefined;
  return {
    port,
    client,
    kill() {
      client.disconnect();
      proc.kill('SIGKILL');
    },
    stop() {
      return (stopped ??= (async () => {
        client.disconnect();
        if (proc.exitCode === null && proc.signalCode === null) {
          const exited = new Promise((r) => proc.once('exit', r));
          proc.kill('SIGTERM');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      })());
    },
  };
}

/** Waits until the replica on `replica` reports its link to the primary up and in sync. */
export async function waitForReplicaInSync(replica: RedisNode, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await replica.client.info('replication').catch(() => '');
    if (/master_link_status:up/.test(info) && !/master_sync_in_progress:1/.test(info)) return;
    if (Date.now() > deadline) throw new Error(`replica :${replica.port} not in sync after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** A TCP endpoint that forwards every new connection to the current target. */
export interface RedisEndpoint {
  readonly port: number;
  /** New connections go to `port`; open ones are dropped (clients reconnect, as after a DNS switch). */
  retarget(port: number | undefined): void;
  close(): Promise<void>;
}

export async function startRedisEndpoint(target: number | undefined): Promise<RedisEndpoint> {
  let current = target;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    if (current === undefined) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: HOST, port: current });
    open.add(upstream);
    upstream.on('close', () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const a = server.address();
      if (typeof a === 'object' && a !== null) resolve(a.port);
      else reject(new Error('endpoint has no port'));
    });
  });
  return {
    port,
    retarget(next) {
      current = next;
      for (const s of open) s.destroy();
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
