import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { createRedisHotKeySource } from '../../../src/refresh/hot-key-source.ts';
import { createReviewRefresher } from '../../../src/refresh/review-refresher.ts';
import type { SimHarness } from '../origin-sim/sim-harness.ts';
import { eventually } from '../redis/redis-test-kit.ts';
import {
  asins,
  cleanup,
  namespace,
  reviewCalls,
  reviewStats,
  seedHotness,
  startRefreshEnv,
  testLogger,
  tickAt,
} from './refresh-harness.ts';

const CHILD = new URL('./refresh-child.ts', import.meta.url).pathname;

describe('a refresh worker killed with SIGKILL mid-run', () => {
  let env: Awaited<ReturnType<typeof startRefreshEnv>>;
  let sim: SimHarness;
  let conn: RedisConnection;
  let ns: string;

  beforeAll(async () => {
    env = await startRefreshEnv(0.01);
    sim = env.sim;
    conn = env.conn;
  });
  afterEach(async () => {
    await cleanup(conn.client, ns);
  });
  afterAll(async () => {
    await env.close();
  });

  it('is resumed by the redelivered tick: done keys are not fetched again', async () => {
    // Prepare
    ns = namespace();
    const ids = asins(500, 20_000);
    await seedHotness(conn.client, ns, ids);
    await sim.post('/_sim/reset');
    const tick = tickAt();

    // Act: kill -9 after ~150 origin calls (no signal handler, no lock release, no cleanup).
    const child = spawn(process.execPath, [CHILD, ns, sim.url, tick.scheduledAt, tick.eventId], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await eventually(async () => (await reviewStats(sim)).calls >= 150, 15_000, '150 origin calls');
    child.kill('SIGKILL');
    await exited;
    const callsAtKill = (await reviewStats(sim)).calls;
    // The redelivered tick (same message) waits out the dead worker's lock, then resumes.
    const resumed = await createReviewRefresher({
      redis: conn.client,
      keys: createKeyBuilder({ namespace: ns }),
      originBaseUrl: sim.url,
      hotKeys: createRedisHotKeySource(conn.client, ns),
      limits: { concurrency: 8, ratePerSecond: 300 },
      logger: testLogger,
      lock: { ttlMs: 1_000, renewEveryMs: 250, waitMs: 2_000 },
    }).handleTick(tick);

    // Assess: completed from the checkpoint; only the keys in flight at the kill (fetched,
    // not yet marked done) may have been fetched twice: at most the 2 x 8 lanes.
    expect(callsAtKill).toBeLessThan(500);
    expect(resumed.status).toBe('completed');
    expect(resumed.skippedAlreadyDone).toBeGreaterThan(100);
    expect(resumed.skippedAlreadyDone + resumed.written).toBe(500);
    const calls = await reviewCalls(sim);
    expect(calls.size).toBe(500);
    const twice = ids.filter((id) => (calls.get(id) ?? 0) > 1);
    expect(twice.length).toBeLessThanOrEqual(16);
    expect(Math.max(...calls.values())).toBeLessThanOrEqual(2);
  });
});
