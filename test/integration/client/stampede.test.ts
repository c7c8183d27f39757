/**
 * Stampede (issue 12, Done when): 1,000 concurrent cold reads of one key from 4 processes
 * make exactly 1 origin call. Real processes, each with its own client (L1, subscriptions,
 * single-flight), on the stack's Sentinel-managed Redis; the fleet-wide lease does the rest.
 * The children's Redis deadline is 2 s, not 250 ms: a CI stall of a child just after its reads
 * went out timed out its GET and that child read the origin without the lease (4 calls).
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, namespace, sentinelAdmin, sentinelConfig } from '../redis/redis-test-kit.ts';
import { LOAD_TOLERANT_REDIS_TIMEOUT_MS } from '../../support/load-tolerance.ts';

const PROCESSES = 4;
const READS_PER_PROCESS = 250;

interface Report {
  calls: number;
  sources: Record<string, number>;
  leaked: boolean;
  breakerOpened: number;
}

describe('stampede: cold reads of one key from 4 processes', () => {
  const config = sentinelConfig();
  let admin: Redis;
  const ns = namespace();

  beforeAll(() => {
    admin = sentinelAdmin(config);
  });
  afterAll(async () => {
    await cleanup(admin, ns);
    admin.disconnect();
  });

  it('makes exactly 1 origin call for 1,000 reads, and every reader gets the value without price', async () => {
    // Prepare
    const counterKey = `${ns}:{test}:origin-calls`;
    const children: ChildProcess[] = [];
    const reports: Promise<Report>[] = [];
    const readies: Promise<void>[] = [];
    for (let i = 0; i < PROCESSES; i++) {
      const child = fork(
        new URL('./stampede-child.ts', import.meta.url).pathname,
        // The child adds the access itself (stackAccess()): no password in argv.
        [
          ns,
          JSON.stringify({ ...config, tuning: undefined }),
          String(READS_PER_PROCESS),
          'B0STAMPEDE',
          counterKey,
          '150',
          String(LOAD_TOLERANT_REDIS_TIMEOUT_MS),
        ],
        { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
      );
      children.push(child);
      let resolveReady!: () => void;
      readies.push(new Promise((r) => (resolveReady = r)));
      reports.push(
        new Promise<Report>((resolve, reject) => {
          child.on('message', (m: { ready?: boolean } & Report) => (m.ready ? resolveReady() : resolve(m)));
          child.once('exit', (code) => reject(new Error(`child exited ${code} before reporting`)));
        }),
      );
    }
    await Promise.all(readies);

    // Act
    for (const child of children) child.send('go');
    const results = await Promise.all(reports);

    // Assess
    const totalCalls = Number(await admin.get(counterKey));
    const sources: Record<string, number> = {};
    for (const r of results)
      for (const [s, n] of Object.entries(r.sources)) sources[s] = (sources[s] ?? 0) + n;
    console.log(
      `stampede: ${PROCESSES * READS_PER_PROCESS} reads, ${totalCalls} origin call(s), sources`,
      sources,
      `Redis breaker openings per process: ${results.map((r) => r.breakerOpened).join(', ')}`,
    );
    // Not the breaker's test: it must not have opened (a stall no longer opens it, a real Redis
    // fault still does), and single-flight alone made the one call.
    expect(results.map((r) => r.breakerOpened)).toEqual(results.map(() => 0));
    expect(totalCalls).toBe(1);
    expect(results.reduce((n, r) => n + r.calls, 0)).toBe(1);
    expect(Object.values(sources).reduce((a, b) => a + b, 0)).toBe(PROCESSES * READS_PER_PROCESS);
    expect(results.some((r) => r.leaked)).toBe(false);
    expect(await admin.get(`${ns}:{acme:product:B0STAMPEDE}:v1:en-US:lease`)).toBeNull();
  }, 30_000);
});
