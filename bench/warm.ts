/**
 * Warm-up benchmark: 1,000 keys at the seeds' origin latencies (reviews 200 ms, products
 * 120 ms; latency scale 1), with the warm command's default budget (50 req/s, 16 in flight).
 *
 *   node bench/warm.ts [--keys 1000] [--families review,product] [--env-file .local/env.json]
 *
 * Starts an origin simulator in this process (random port), runs `src/cli/warm.ts` as a child
 * process against it and the stack's Redis (Sentinel group), under a throw-away namespace that
 * is deleted afterwards. Prints, per family: wall time, the command's own duration, achieved
 * req/s, and the peak req/s the origin measured.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { readLocalStack } from '../src/local/env-file.ts';
import { createOriginSimulator } from '../src/origin-sim/origin-simulator.ts';
import { redisAccess } from '../src/local/local-redis.ts';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000' },
    families: { type: 'string', default: 'review,product' },
    'env-file': { type: 'string', default: '.local/env.json' },
  },
});
const count = Number(values.keys);
const envPath = values['env-file'];
const stackEnv = readLocalStack(envPath);

const sim = createOriginSimulator({ config: { latencyScale: 1 } });
const url = await sim.listen(0);
const dir = await mkdtemp(join(tmpdir(), 'bench-warm-'));
const ns = `bench-${Date.now().toString(36)}`;
const redis = new Redis({
  ...redisAccess(stackEnv.redis).sentinel,
  sentinels: stackEnv.redis.sentinels,
  name: stackEnv.redis.sentinelName,
});
redis.on('error', (err: Error) => console.error(`bench redis: ${err.message}`));
try {
  const envFile = join(dir, 'env.json');
  await writeFile(envFile, JSON.stringify({ ...stackEnv, origin: { url } }));
  const ids = Array.from({ length: count }, (_, i) => `B${String(900_000_000 + i).padStart(9, '0')}`);
  const idFile = join(dir, 'ids.txt');
  await writeFile(idFile, ids.join('\n'));
  console.log(`warm-up benchmark: ${count} keys, latency scale 1, default budget, node ${process.version}`);
  for (const family of (values.families ?? '').split(',')) {
    await fetch(`${url}/_sim/reset`, { method: 'POST' });
    const started = performance.now();
    const { stdout } = await run(
      process.execPath,
      [
        'src/cli/warm.ts',
        '--family',
        family,
        '--file',
        idFile,
        '--env-file',
        envFile,
        '--namespace',
        ns,
        '--json',
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const wallMs = performance.now() - started;
    const summary = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      written: number;
      failed: number;
      durationMs: number;
      originRequestsPerSecond: number;
      budget: { ratePerSecond: number; concurrency: number };
    };
    const stats = (await (await fetch(`${url}/_sim/stats`)).json()) as {
      maxPerSecond: Record<string, number>;
    };
    const endpoint = family === 'review' ? 'reviews' : family === 'product' ? 'products' : 'promotions';
    console.log(
      `${family.padEnd(8)} written ${summary.written}/${count}, failed ${summary.failed}: ` +
        `${(summary.durationMs / 1000).toFixed(2)} s in the command (${(wallMs / 1000).toFixed(2)} s wall, process start included), ` +
        `${summary.originRequestsPerSecond.toFixed(1)} req/s achieved, origin peak ${stats.maxPerSecond[endpoint]} req/s ` +
        `(budget ${summary.budget.ratePerSecond} req/s, concurrency ${summary.budget.concurrency})`,
    );
  }
} finally {
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${ns}:*`, 'COUNT', 1000);
    cursor = next;
    if (batch.length > 0) await redis.unlink(...batch);
  } while (cursor !== '0');
  redis.disconnect();
  await sim.close();
  await rm(dir, { recursive: true, force: true });
}
