import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { createRedisHotKeySource } from '../../../src/adapters/redis/hot-key-ranking.ts';
import { createReviewRefresher } from '../../../src/refresh/review-refresher.ts';
import { eventually } from '../redis/redis-test-kit.ts';
import {
  asins,
  reviewCalls,
  reviewStats,
  seedHotness,
  useRefreshEnv,
  testLogger,
  tickAt,
} from './refresh-harness.ts';

const CHILD = new URL('./refresh-child.ts', import.meta.url).pathname;

describe('a refresh worker killed with SIGKILL mid-run', () => {
  const env = useRefreshEnv();

  it('is resumed by the redelivered tick: done keys are not fetched again', async () => {
    // Prepare
    const ids = asins(500, 20_000);
    await seedHotness(env.conn.client, env.ns, ids);
    await env.sim.post('/_sim/reset');
    const tick = tickAt();

    // Act: kill -9 after ~150 origin calls (no signal handler, no lock release, no cleanup).
    const child = spawn(process.execPath, [CHILD, env.ns, env.sim.url, tick.scheduledAt, tick.eventId], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await eventually(async () => (await reviewStats(env.sim)).calls >= 150, 15_000, '150 origin calls');
    child.kill('SIGKILL');
    await exited;
    const callsAtKill = (await reviewStats(env.sim)).calls;
    // The redelivered tick (same message) waits out the dead worker's lock, then resumes.
    const resumed = await createReviewRefresher({
      redis: env.conn.client,
      keys: createKeyBuilder({ namespace: env.ns }),
      originBaseUrl: env.sim.url,
      hotKeys: createRedisHotKeySource(env.conn.client, createKeyBuilder({ namespace: env.ns })),
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
    const calls = await reviewCalls(env.sim);
    expect(calls.size).toBe(500);
    const twice = ids.filter((id) => (calls.get(id) ?? 0) > 1);
    expect(twice.length).toBeLessThanOrEqual(16);
    expect(Math.max(...calls.values())).toBeLessThanOrEqual(2);
  });
});
