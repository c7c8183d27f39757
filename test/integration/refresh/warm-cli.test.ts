import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeVersioned } from '../../../src/client/fenced-populate.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { KEY_CONTRACT } from '../../../src/core/key-contract.ts';
import { stack } from '../../support/stack.ts';
import { asins, reviewStats, seedHotness, useRefreshEnv } from './refresh-harness.ts';

const run = promisify(execFile);
const WARM = new URL('../../../src/cli/warm.ts', import.meta.url).pathname;

/** Runs the warm command; resolves with its exit code and output (never rejects on exit code). */
async function warm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [WARM, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('warm-up command (child process, real Redis, origin simulator)', () => {
  let dir: string;
  let envFile: string;

  const env = useRefreshEnv();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warm-'));
    // The stack description, pointing at this test's simulator.
    envFile = join(dir, 'env.json');
    await writeFile(envFile, JSON.stringify({ ...stack(), origin: { url: env.sim.url } }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prefills 200 review keys from a file, with progress and a summary, within the budget', async () => {
    // Prepare
    const ids = asins(200, 7_000);
    const file = join(dir, 'ids.txt');
    await writeFile(file, `# flash sale list\n${ids.join('\n')}\n`);
    await env.sim.post('/_sim/reset');

    // Act
    const out = await warm([
      '--family',
      'review',
      '--file',
      file,
      '--rate',
      '400',
      '--concurrency',
      '16',
      '--env-file',
      envFile,
      '--namespace',
      env.ns,
    ]);

    // Assess: output (not a TTY: plain progress lines), budget, keys with the family TTL.
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^progress \d+\/200 \(\d+%\)/m);
    expect(out.stdout).toContain('progress 200/200 (100%) written=200 failed=0');
    expect(out.stdout).toContain('warm-up summary');
    expect(out.stdout).toMatch(/keys\s+200\n/);
    expect(out.stdout).toMatch(/written\s+200 \(400 values\)/);
    expect(out.stdout).toMatch(/origin\s+200 calls, [\d.]+ req\/s \(budget 400 req\/s, concurrency 16\)/);
    const stats = await reviewStats(env.sim);
    expect(stats.calls).toBe(200);
    expect(stats.maxPerSecond).toBeLessThanOrEqual(400);
    const keys = createKeyBuilder({ namespace: env.ns });
    const spec = KEY_CONTRACT.review;
    for (const id of ids)
      for (const key of keys.variantKeys({ family: 'review', tenant: 'default', id })) {
        const ttl = await env.conn.client.pttl(key);
        expect(ttl, key).toBeGreaterThan(spec.ttlMs - 30_000);
        expect(ttl, key).toBeLessThanOrEqual(spec.ttlMs + spec.jitterMs);
      }
  });

  it('warms the top N products of the hotness set, every configured locale, with the product TTL', async () => {
    // Prepare
    const hot = asins(30, 8_000);
    await seedHotness(env.conn.client, env.ns, hot, 'product');

    // Act
    const out = await warm([
      '--family',
      'product',
      '--top',
      '20',
      '--rate',
      '400',
      '--env-file',
      envFile,
      '--namespace',
      env.ns,
      '--locales',
      'en-US,ja-JP,de-DE',
      '--json',
    ]);

    // Assess: the 20 hottest, three locale variants each, product TTL 5 min + jitter.
    expect(out.code, out.stderr).toBe(0);
    const summary = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(summary).toMatchObject({ family: 'product', keys: 20, written: 20, valuesWritten: 60, failed: 0 });
    const keys = createKeyBuilder({ namespace: env.ns, locales: ['en-US', 'ja-JP', 'de-DE'] });
    const spec = KEY_CONTRACT.product;
    for (const [i, id] of hot.entries()) {
      for (const key of keys.variantKeys({ family: 'product', tenant: 'default', id })) {
        const raw = await env.conn.client.get(key);
        if (i >= 20) {
          expect(raw).toBeNull();
          continue;
        }
        expect(decodeVersioned(raw ?? '')?.data).toContain(`"asin":"${id}"`);
        const ttl = await env.conn.client.pttl(key);
        expect(ttl).toBeGreaterThan(spec.ttlMs - 30_000);
        expect(ttl).toBeLessThanOrEqual(spec.ttlMs + spec.jitterMs);
      }
    }
  });

  it('reports every bad option at once and exits 1', async () => {
    const out = await warm(['--family', 'review', '--ids', 'not-an-asin', '--rate', '0']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('not valid asins');
    expect(out.stderr).toContain('--rate');
    expect(out.stderr).toContain('no Redis');
  });
});
