/**
 * The demo Orchestrator's reader process, for real: a child process reading the Zipf mix
 * through the cache client (and one in naive mode) against a private origin simulator
 * (latencies scaled down) and the local Redis under a random namespace. Its admin port
 * serves the read-side metrics and counters, its trace has one line per read, and its reads
 * feed the hotness set the refresh reads.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisHotKeySource } from '../../../src/adapters/redis/hot-key-ranking.ts';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import type { RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import type { ReaderSettings } from '../../../src/orchestrator-sim/reader-settings.ts';
import type { ReadTraceSnapshot } from '../../../src/orchestrator-sim/read-trace.ts';
import { eventually } from '../../support/aws.ts';
import { stack } from '../../support/stack.ts';
import { startSim } from '../origin-sim/sim-harness.ts';
import type { SimHarness } from '../origin-sim/sim-harness.ts';
import { cleanup, namespace, sentinelConfig } from '../redis/redis-test-kit.ts';
import { adminHeaders } from '../../../src/admin/admin-token.ts';

const ENTRY = fileURLToPath(new URL('../../../src/orchestrator-sim/reader-process.ts', import.meta.url));

describe('demo Orchestrator reader process', () => {
  let sim: SimHarness;
  let conn: RedisConnection;
  let ns: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    sim = await startSim({ config: { latencyScale: 0.1 } });
    conn = createRedisConnection(sentinelConfig());
  });
  afterEach(async () => {
    if (child !== undefined && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await cleanup(conn.client, ns);
  });
  afterAll(async () => {
    await conn.close();
    await sim.sim.close();
  });

  function settings(mode: 'client' | 'naive', tracePath: string): ReaderSettings {
    const { sentinels, sentinelName } = stack().redis;
    return {
      index: 0,
      mode,
      rate: 100,
      maxInFlight: 64,
      skew: 1.2,
      catalogSize: 200,
      users: 20,
      redis: { mode: 'sentinel', sentinels, name: sentinelName },
      redisAccess: { tls: stack().redis.tls, passwordFile: stack().redis.passwordFile },
      namespace: ns,
      locales: ['en-US', 'ja-JP'],
      tenant: 'default',
      originUrl: sim.url,
      adminPort: 0,
      l1Entries: 1_000,
      hotnessSampleEvery: 1,
      tracePath,
      durationS: 0,
      seed: 5,
    };
  }

  async function start(s: ReaderSettings): Promise<string> {
    const c = fork(ENTRY, [JSON.stringify(s)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child = c;
    const [msg] = (await once(c, 'message')) as [{ type: string; adminPort: number }];
    expect(msg.type).toBe('ready');
    return `http://127.0.0.1:${msg.adminPort}`;
  }

  it.each(['client', 'naive'] as const)(
    '%s mode: reads, metrics, counters, trace and hotness',
    async (mode) => {
      // Prepare
      ns = namespace();
      const dir = mkdtempSync(join(tmpdir(), 'osim-'));
      const tracePath = join(dir, 'reader-0.jsonl');
      const admin = await start(settings(mode, tracePath));

      // Act: let it read until its counters show each source (about 150 reads on a quiet
      // machine). Polled, not slept: on a loaded one the client's breaker can open (two 250 ms
      // command timeouts) and send every read of a second or more to the origin, as it should.
      const snapshot = async () =>
        (await (await fetch(`${admin}/reads.json`, { headers: adminHeaders() })).json()) as ReadTraceSnapshot;
      const bySource = (r: ReadTraceSnapshot, src: string) =>
        Object.values(r.families).reduce((s, f) => s + (f?.bySource[src as 'l1'] ?? 0), 0);
      const reads = await eventually(
        async () => {
          const r = await snapshot();
          const cached = bySource(r, 'l1') + bySource(r, 'l2');
          return Object.values(r.families).reduce((s, f) => s + (f?.reads ?? 0), 0) > 50 && cached > 0
            ? r
            : undefined;
        },
        { what: 'more than 50 reads, some served by L1 or Redis', timeoutMs: 20_000, intervalMs: 250 },
      );
      const metrics = await (await fetch(`${admin}/metrics`, { headers: adminHeaders() })).text();
      const c = child;
      c?.kill('SIGTERM');
      if (c !== undefined) await once(c, 'exit');

      // Assess: counters by family and source, hits and origin calls on /metrics
      expect(reads.mode).toBe(mode);
      const families = Object.values(reads.families);
      const total = families.reduce((s, f) => s + (f?.reads ?? 0), 0);
      expect(total).toBeGreaterThan(50);
      expect(families.reduce((s, f) => s + (f?.errors ?? 0), 0)).toBe(0);
      const served = (src: string) => bySource(reads, src);
      expect(served('origin')).toBeGreaterThan(0);
      expect(served('l1') + served('l2')).toBeGreaterThan(0);
      expect(metrics).toMatch(/cache_read_hits_total\{[^}]*family="product"/);
      expect(metrics).toMatch(/cache_origin_calls_total\{[^}]*family="product"[^}]*\} [1-9]/);

      // The trace: one line per read, each with the version served
      const lines = readFileSync(tracePath, 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(total);
      const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
      expect(first).toMatchObject({ p: 0, v: 1 });
      expect(['product', 'promo', 'reco', 'review']).toContain(first.family);

      // Hotness: the Zipf head (rank 0) is the hottest product the refresh would take
      const top = await createRedisHotKeySource(conn.client, createKeyBuilder({ namespace: ns })).top(
        'product',
        'default',
        3,
      );
      expect(top[0]).toBe('B000000000');
    },
  );
});
