/**
 * A private Redis cluster (masters only) on free loopback ports, for tests that kill or
 * freeze one of its nodes: the shared cluster on :7100-7105 is never touched. TLS only (the
 * cluster bus too) and the password, as every Redis of the suite (src/local/local-redis.ts):
 * `access` gets a client in (`access.node` as a Cluster's `redisOptions`).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { privateAccess, privateServerArgs, type RedisAccess } from '../../src/local/local-redis.ts';
import { eventually } from './aws.ts';
import { freePort } from './private-redis.ts';

export interface PrivateClusterNode {
  readonly port: number;
  kill(): Promise<void>;
  freeze(): void;
}

export interface PrivateCluster {
  readonly access: RedisAccess;
  readonly nodes: readonly PrivateClusterNode[];
  stop(): Promise<void>;
}

async function ping(port: number, command: string[] = ['PING']): Promise<string | undefined> {
  const c = new Redis({
    ...privateAccess().node,
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return String(await c.call(command[0]!, ...command.slice(1)));
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
}

/** Starts `size` masters, joins them with `redis-cli --cluster create` and waits for `ok`. */
export async function startPrivateCluster(size = 3): Promise<PrivateCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'private-cluster-'));
  const procs: { port: number; proc: ChildProcess }[] = [];
  for (let i = 0; i < size; i++) {
    const port = await freePort();
    const proc = spawn(
      'redis-server',
      [
        ...privateServerArgs(port, dir, { cluster: true }),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        // Fast failure detection, and the surviving slots keep serving when one master dies.
        '--cluster-node-timeout',
        '1000',
        '--cluster-require-full-coverage',
        'no',
      ],
      { stdio: 'ignore' },
    );
    procs.push({ port, proc });
  }
  const exited = (proc: ChildProcess) =>
    new Promise((r) =>
      proc.exitCode !== null || proc.signalCode !== null ? r(undefined) : proc.once('exit', r),
    );
  try {
    for (const { port } of procs) {
      await eventually(async () => ((await ping(port)) === 'PONG' ? true : undefined), { what: `:${port}` });
    }
    const { cli } = privateAccess();
    await promisify(execFile)(
      'redis-cli',
      [
        ...cli.args,
        '--cluster',
        'create',
        ...procs.map((p) => `127.0.0.1:${p.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { env: { ...process.env, ...cli.env } },
    );
    for (const { port } of procs) {
      await eventually(
        async () =>
          (await ping(port, ['CLUSTER', 'INFO']))?.includes('cluster_state:ok') ? true : undefined,
        { what: `cluster state ok on :${port}` },
      );
    }
  } catch (error) {
    for (const { proc } of procs) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    access: privateAccess(),
    nodes: procs.map(({ port, proc }) => ({
      port,
      async kill() {
        proc.kill('SIGKILL');
        await exited(proc);
      },
      freeze: () => void proc.kill('SIGSTOP'),
    })),
    async stop() {
      for (const { proc } of procs) {
        proc.kill('SIGCONT');
        proc.kill('SIGKILL');
      }
      await Promise.all(procs.map(({ proc }) => exited(proc)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
