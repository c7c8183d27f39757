/**
 * The read-side benchmark of issue 12 (`npm run bench:client`), in one run, on the local
 * stack, against raw ioredis on the same machine and the same Redis (the Sentinel pair's
 * primary, as the client is deployed):
 *   1. L1 hits per second on one core (sequential awaits), beside raw ioredis GETs per second;
 *   2. L2 hit latency p50/p99 (client with no L1) against a plain ioredis GET of the same key,
 *      interleaved in rounds so both see the same machine load; target: within 1.2x;
 *   3. the miss path (a fresh key per read, an in-process loader that answers at once): ours
 *      (lease + fenced fill + release) against the naive cache-aside (GET + SET);
 *   4. the stampede: 1,000 concurrent cold reads of one key from 4 processes against the
 *      origin simulator (product: 120 ms), origin calls of ours against the naive mode.
 * Prints a table and a JSON line; docs/benchmarks.md records a run.
 *
 *   node bench/client/client-bench.ts [--env-file .local/env.json] [--quick]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { createRedisConnection } from '../../src/adapters/redis/redis-connection.ts';
import type { RedisConfig } from '../../src/adapters/redis/redis-connection.ts';
import { createCacheClient } from '../../src/client/cache-client.ts';
import type { CacheClient, Loader } from '../../src/client/cache-client.ts';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { readLocalStack } from '../../src/local/env-file.ts';
import { createNaiveCache } from '../../src/orchestrator-sim/naive-cache.ts';
import { loadAverage, machine, percentile } from '../worker/stats.ts';
import { redisAccessTuning } from '../../src/local/local-redis.ts';

const program = new Command('bench:client')
  .option('--env-file <file>', 'local stack description', '.local/env.json')
  .option('--quick', 'fewer samples (a smoke run)')
  .parse();
const opts = program.opts<{ envFile: string; quick?: boolean }>();
const stack = readLocalStack(opts.envFile);
const redis: RedisConfig = {
  mode: 'sentinel',
  sentinels: stack.redis.sentinels,
  name: stack.redis.sentinelName,
  tuning: redisAccessTuning(stack.redis),
};
const ns = `bench-client-${randomUUID().slice(0, 8)}`;
const keys = createKeyBuilder({ namespace: ns, locales: ['en-US'] });
const scale = opts.quick === true ? 0.1 : 1;
const N = (n: number) => Math.max(100, Math.round(n * scale));

const raw = createRedisConnection(redis);
const instant: Loader = ({ id }) => Promise.resolve({ data: { asin: id, title: `bench ${id}` }, version: 1 });
const asin = (i: number) => `B${String(i).padStart(9, '0')}`;

function makeClient(l1: boolean): CacheClient {
  return createCacheClient({
    redis,
    namespace: ns,
    locales: ['en-US'],
    l1: l1 ? { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 } : false,
    loaders: { product: instant },
  });
}

async function timed(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    out[i] = performance.now() - t;
  }
  return out;
}
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const stats = (xs: number[]) => {
  const s = sorted(xs);
  return { p50: percentile(s, 50), p99: percentile(s, 99), n: s.length };
};
const r3 = (v: number) => Math.round(v * 1000) / 1000;

async function opsPerSecond(n: number, op: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await op();
  return n / ((performance.now() - t) / 1000);
}

// 1. L1 hits per second on one core.
async function l1Throughput() {
  const client = makeClient(true);
  await client.ready();
  await client.get('product', asin(1), { locale: 'en-US' });
  await client.get('product', asin(1), { locale: 'en-US' });
  const rawKey = `${ns}:raw:l1`;
  await raw.client.set(rawKey, 'x'.repeat(120));
  await opsPerSecond(N(20_000), () => client.get('product', asin(1), { locale: 'en-US' })); // warm the JIT
  const l1 = await opsPerSecond(N(200_000), () => client.get('product', asin(1), { locale: 'en-US' }));
  const rawGets = await opsPerSecond(N(20_000), () => raw.client.get(rawKey));
  await client.close();
  return { l1HitsPerS: Math.round(l1), rawGetsPerS: Math.round(rawGets), ratio: r3(l1 / rawGets) };
}

// 2. L2 hit latency against a plain GET, interleaved rounds.
async function l2Latency() {
  const client = makeClient(false);
  await client.ready();
  await client.get('product', asin(2), { locale: 'en-US' }); // fill
  const valueKey = keys.valueKey({ family: 'product', tenant: 'default', id: asin(2), locale: 'en-US' });
  const ours: number[] = [];
  const plain: number[] = [];
  await timed(N(2_000), () => client.get('product', asin(2), { locale: 'en-US' }));
  await timed(N(2_000), () => raw.client.get(valueKey));
  for (let round = 0; round < 10; round++) {
    plain.push(...(await timed(N(1_000), () => raw.client.get(valueKey))));
    ours.push(...(await timed(N(1_000), () => client.get('product', asin(2), { locale: 'en-US' }))));
  }
  const check = await client.get('product', asin(2), { locale: 'en-US' });
  await client.close();
  const o = stats(ours);
  const p = stats(plain);
  return {
    source: check.source,
    ours: { p50: r3(o.p50), p99: r3(o.p99) },
    plainGet: { p50: r3(p.p50), p99: r3(p.p99) },
    ratioP50: r3(o.p50 / p.p50),
    ratioP99: r3(o.p99 / p.p99),
    samples: o.n,
  };
}

// 3. The miss path with an instant loader: ours against naive, fresh keys.
async function missPath() {
  const client = makeClient(false);
  await client.ready();
  const naive = createNaiveCache({ redis: raw.client, keys, loaders: { product: instant }, l1MaxEntries: 0 });
  const n = N(1_000);
  const ours: number[] = [];
  const plain: number[] = [];
  let next = 100_000;
  for (let round = 0; round < 5; round++) {
    plain.push(...(await timed(n / 5, () => naive.get('product', asin(next++), { locale: 'en-US' }))));
    ours.push(...(await timed(n / 5, () => client.get('product', asin(next++), { locale: 'en-US' }))));
  }
  await client.close();
  const o = stats(ours);
  const p = stats(plain);
  return {
    ours: { p50: r3(o.p50), p99: r3(o.p99) },
    naive: { p50: r3(p.p50), p99: r3(p.p99) },
    overheadP50Ms: r3(o.p50 - p.p50),
    ratioP50: r3(o.p50 / p.p50),
    samples: o.n,
  };
}

// 4. The stampede: 4 processes × 250 concurrent cold reads of one key.
async function stampede(mode: 'client' | 'naive') {
  const entry = fileURLToPath(new URL('./stampede-child.ts', import.meta.url));
  const id = `B9${randomUUID().replace(/-/g, '').slice(0, 8).toUpperCase()}`;
  const children = Array.from({ length: 4 }, () =>
    fork(entry, [
      // The child reads the password from its file (redisAccess): none in argv.
      JSON.stringify({
        mode,
        redis: { ...redis, tuning: undefined },
        redisAccess: { tls: stack.redis.tls, passwordFile: stack.redis.passwordFile },
        originUrl: stack.origin.url,
        namespace: ns,
        asin: id,
        concurrency: 250,
      }),
    ]),
  );
  await Promise.all(children.map((c) => once(c, 'message')));
  const done = children.map(
    (c) =>
      once(c, 'message') as Promise<[{ originCalls: number; sources: Record<string, number>; ms: number }]>,
  );
  for (const c of children) c.send('go');
  const reports = (await Promise.all(done)).map(([r]) => r);
  await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : Promise.resolve())));
  const sources: Record<string, number> = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.sources)) sources[k] = (sources[k] ?? 0) + v;
  return {
    originCalls: reports.reduce((s, r) => s + r.originCalls, 0),
    reads: 1_000,
    sources,
    slowestProcessMs: Math.round(Math.max(...reports.map((r) => r.ms))),
  };
}

try {
  const started = new Date().toISOString();
  const l1 = await l1Throughput();
  const l2 = await l2Latency();
  const miss = await missPath();
  const stampedeOurs = await stampede('client');
  const stampedeNaive = await stampede('naive');
  const m = machine();
  const out = {
    started,
    machine: m,
    load: loadAverage(),
    l1,
    l2,
    miss,
    stampede: { ours: stampedeOurs, naive: stampedeNaive },
  };
  const lines = [
    `read-side benchmark (${m.cpus} cores, ${m.model}, node ${m.node}; load ${out.load})`,
    `  L1 hits/s, one core         ${l1.l1HitsPerS.toLocaleString('en-US')}   raw ioredis GET/s ${l1.rawGetsPerS.toLocaleString('en-US')}   ratio ${l1.ratio}x`,
    `  L2 hit p50 / p99 (ms)       ours ${l2.ours.p50} / ${l2.ours.p99}   plain GET ${l2.plainGet.p50} / ${l2.plainGet.p99}   ratio ${l2.ratioP50}x / ${l2.ratioP99}x  (target <= 1.2x; served from ${l2.source})`,
    `  miss path p50 / p99 (ms)    ours ${miss.ours.p50} / ${miss.ours.p99}   naive ${miss.naive.p50} / ${miss.naive.p99}   overhead p50 +${miss.overheadP50Ms} ms (${miss.ratioP50}x)`,
    `  stampede 4 x 250 cold reads origin calls: ours ${stampedeOurs.originCalls}, naive ${stampedeNaive.originCalls}   (ours ${JSON.stringify(stampedeOurs.sources)} in ${stampedeOurs.slowestProcessMs} ms; naive ${JSON.stringify(stampedeNaive.sources)} in ${stampedeNaive.slowestProcessMs} ms)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n${JSON.stringify(out)}\n`);
} finally {
  const found = await raw.client.keys(`${ns}:*`);
  if (found.length > 0) await raw.client.unlink(...found);
  await raw.close();
}
