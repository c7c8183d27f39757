/**
 * One Orchestrator process of the Golden Week test (client-golden-week.test.ts): a cache
 * client on the namespace and Redis given in argv, the worker fleet's default heartbeat rule
 * (the test's worker publishes heartbeats every 1000 ms on the namespace's channel). The
 * promo loader stands for the promotion service: it serves version `version`, which the
 * parent bumps (IPC) before it publishes the change, as the origin commits before its event.
 *
 * IPC, parent -> child: { cmd: 'prime', reads } | { cmd: 'loop' } | { cmd: 'bump', version }
 * | { cmd: 'stop' }. Child -> parent: { ready } once subscribed, then one reply per command.
 * Times are wall-clock milliseconds with sub-ms precision (timeOrigin + now), comparable
 * across processes and with Redis's publishedAtMs.
 */
import { createCacheClient } from '../../src/client/cache-client.ts';
import type { RedisConfig } from '../../src/adapters/redis/redis-connection.ts';
import { stallMeter } from '../support/load-tolerance.ts';
import { stackAccess } from '../support/redis-access.ts';

export type ChildCommand =
  { cmd: 'prime'; reads: number } | { cmd: 'loop' } | { cmd: 'bump'; version: number } | { cmd: 'stop' };

/** One read of the loop: [startedAt, endedAt, version, source, L1's version just before it (null: none)]. */
export type ReadSample = [number, number, number | undefined, string, number | null];

export interface LoopReport {
  readonly reads: ReadSample[];
  readonly loaderCalls: number;
  readonly errors: string[];
  /** This process's event-loop stalls while it looped, [from, to] on the reads' clock. */
  readonly stalls: [number, number][];
}

const [ns, redisJson, section] = process.argv.slice(2);
const redis = { ...(JSON.parse(redisJson!) as RedisConfig), tuning: stackAccess().tuning } as RedisConfig;
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const stallsOfLoop = stallMeter();
let version = 1;
let loaderCalls = 0;
const client = createCacheClient({
  redis,
  namespace: ns!,
  locales: ['en-US', 'ja-JP'],
  loaders: {
    promo: async ({ id }) => {
      loaderCalls++;
      const v = version; // what the origin holds when the call arrives
      await sleep(5);
      return { data: { section: id, coupon: `golden-week-v${v}`, discountPct: 10 * v }, version: v };
    },
  },
});
await client.ready();

const reads: ReadSample[] = [];
const errors: string[] = [];
let running = false;
let loop: Promise<void> | undefined;

async function readLoop(): Promise<void> {
  while (running) {
    const held = client.inspectL1('promo', section!)?.version ?? null;
    const startedAt = now();
    try {
      const r = await client.get('promo', section!);
      reads.push([startedAt, now(), r.version, r.source, held]);
    } catch (error) {
      errors.push(String(error));
    }
    await sleep(1);
  }
}

process.on('message', (m: ChildCommand) => {
  void (async () => {
    switch (m.cmd) {
      case 'prime': {
        const sources: string[] = [];
        const versions: (number | undefined)[] = [];
        for (let i = 0; i < m.reads; i++) {
          const r = await client.get('promo', section!);
          sources.push(r.source);
          versions.push(r.version);
          await sleep(5);
        }
        process.send!({ sources, versions, l1: client.inspectL1('promo', section!) ?? null });
        break;
      }
      case 'loop':
        running = true;
        loop = readLoop();
        process.send!({ looping: true });
        break;
      case 'bump':
        version = m.version;
        process.send!({ bumped: version });
        break;
      case 'stop': {
        running = false;
        await loop;
        stallsOfLoop.stop();
        const stalls = stallsOfLoop.intervals.map(([a, b]): [number, number] => [
          performance.timeOrigin + a,
          performance.timeOrigin + b,
        ]);
        const report: LoopReport = { reads, loaderCalls, errors, stalls };
        process.send!(report, () => {
          void client.close().then(() => process.exit(0));
        });
        break;
      }
    }
  })();
});
process.send!({ ready: true });
