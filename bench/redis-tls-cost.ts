/**
 * What TLS + AUTH costs a client of the local Redis (decision 0017): two private
 * redis-servers on this machine, one plain and one as every Redis of the stack runs (TLS
 * only, password), measured in interleaved rounds so that machine load hits both alike:
 *
 *   round trip   one awaited GET at a time (the read path's L2 hit, the worker's WAIT-less
 *                commands), p50 and p99 per side, and their ratio TLS / plain
 *   pipeline     100-command pipelines (the worker's batch shape), ms per pipeline
 *   connect      a new client to ready: TCP (+ TLS handshake + AUTH), p50
 *
 *   node bench/redis-tls-cost.ts [--rounds 20] [--per-round 500]
 *
 * Needs the local stack's credentials (.local/tls, .local/redis-password: npm run env:up).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from '../src/local/free-port.ts';
import { privateAccess, privateServerArgs } from '../src/local/local-redis.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '20' }, 'per-round': { type: 'string', default: '500' } },
});
const ROUNDS = Number(values.rounds);
const PER_ROUND = Number(values['per-round']);
const HOST = '127.0.0.1';

interface Side {
  readonly name: 'plain' | 'tls';
  readonly options: RedisOptions;
  readonly proc: ChildProcess;
  readonly client: Redis;
  readonly rtt: number[];
  readonly pipeline: number[];
  readonly connect: number[];
}

async function startSide(name: Side['name'], dir: string): Promise<Side> {
  const port = await freePort();
  const access = name === 'tls' ? privateServerArgs(port, dir) : ['--port', String(port)];
  const proc = spawn(
    'redis-server',
    [...access, '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  const options: RedisOptions = { host: HOST, port, ...(name === 'tls' ? privateAccess().node : {}) };
  const client = new Redis({ ...options, lazyConnect: true, retryStrategy: (n) => Math.min(n * 50, 500) });
  client.on('error', () => undefined);
  for (let i = 0; ; i++) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch {
      if (i > 100) throw new Error(`${name} redis-server on :${port} did not start`);
      client.disconnect();
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await client.set('bench:k', 'x'.repeat(512));
  return { name, options, proc, client, rtt: [], pipeline: [], connect: [] };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const now = (): number => performance.now();

async function round(side: Side): Promise<void> {
  for (let i = 0; i < PER_ROUND; i++) {
    const t = now();
    await side.client.get('bench:k');
    side.rtt.push(now() - t);
  }
  for (let i = 0; i < 5; i++) {
    const p = side.client.pipeline();
    for (let j = 0; j < 100; j++) p.get('bench:k');
    const t = now();
    await p.exec();
    side.pipeline.push(now() - t);
  }
  const t = now();
  const fresh = new Redis({ ...side.options, lazyConnect: true });
  await fresh.connect();
  await fresh.ping();
  side.connect.push(now() - t);
  fresh.disconnect();
}

const dir = mkdtempSync(join(tmpdir(), 'bench-tls-'));
const sides = [await startSide('plain', dir), await startSide('tls', dir)];
try {
  for (const s of sides) await round(s); // warm-up, discarded
  for (const s of sides) s.rtt.length = s.pipeline.length = s.connect.length = 0;
  for (let r = 0; r < ROUNDS; r++) for (const s of r % 2 === 0 ? sides : [...sides].reverse()) await round(s);
  const [plain, tls] = sides as [Side, Side];
  const row = (what: string, a: number, b: number) =>
    `  ${what.padEnd(26)} plain ${a.toFixed(3).padStart(8)} ms   tls ${b.toFixed(3).padStart(8)} ms   tls/plain ${(b / a).toFixed(2)}x`;
  console.log(
    `redis TLS + AUTH cost: ${ROUNDS} interleaved rounds x ${PER_ROUND} GETs (512 B), 5 pipelines of 100, 1 connect`,
  );
  console.log(row('GET round trip p50', pct(plain.rtt, 50), pct(tls.rtt, 50)));
  console.log(row('GET round trip p99', pct(plain.rtt, 99), pct(tls.rtt, 99)));
  console.log(row('pipeline of 100 GET p50', pct(plain.pipeline, 50), pct(tls.pipeline, 50)));
  console.log(row('connect to ready p50', pct(plain.connect, 50), pct(tls.connect, 50)));
} finally {
  for (const s of sides) {
    s.client.disconnect();
    const gone = once(s.proc, 'exit');
    s.proc.kill('SIGTERM');
    await gone;
  }
  rmSync(dir, { recursive: true, force: true });
}
