/**
 * Issue 14, Done when: a family purge over 100,000 keys never blocks Redis for more than
 * 10 ms at a time. On a private redis-server: writes N review values (+ their fences) in one
 * tenant, plus 10% in another tenant that must survive, then runs the purge the admin API
 * runs (Purger, family `review` in tenant `bench`: SCAN MATCH + UNLINK, family-purge.ts) with
 * SLOWLOG recording every command (slowlog-log-slower-than 0), and prints the longest
 * command, the p99.9, the number over 10 ms, and LATENCY LATEST. Two references from the same
 * run: one `KEYS` of the same pattern on the same data (what the purge must never do), and a
 * control of as many O(1) commands (EXISTS), whose longest is what the machine's scheduling
 * alone adds to any command (on a loaded machine it is not zero).
 *   node bench/admin/family-purge-bench.ts [--keys 100000] [--scan-count 250]
 */
import { parseArgs } from 'node:util';
import { PURGE_SCAN_COUNT, Purger } from '../../src/admin/purge.ts';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { startPrivateRedis } from '../../test/support/private-redis.ts';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '100000' },
    'scan-count': { type: 'string', default: String(PURGE_SCAN_COUNT) },
  },
});
const n = Number(values.keys);
const scanCount = Number(values['scan-count']);

interface CommandStats {
  readonly commands: number;
  readonly longestUs: number;
  readonly longest: string;
  readonly p999Us: number;
  readonly over10ms: number;
}

const redis = await startPrivateRedis();
const c = redis.client;
try {
  const keys = createKeyBuilder({ namespace: 'bench', locales: ['en-US'] });
  const id = (i: number) => `B${String(i).padStart(9, '0')}`;
  const write = async (tenant: string, count: number) => {
    for (let start = 0; start < count; start += 1_000) {
      const args: string[] = [];
      for (let i = start; i < Math.min(count, start + 1_000); i++) {
        const e = { family: 'review' as const, tenant, id: id(i) };
        args.push(keys.valueKey({ ...e, locale: 'en-US' }), 'summary', keys.fenceKey(e), '1');
      }
      await c.mset(...args);
    }
  };
  await write('bench', n / 2); // n/2 entities x (value + fence) = n keys in the purged tenant
  await write('other', n / 20);
  const total = await c.dbsize();

  await c.config('SET', 'slowlog-max-len', String(4 * n));
  await c.config('SET', 'latency-monitor-threshold', '1');
  // Every command from now to `stop()` is in SLOWLOG; reading it back is itself slow, so
  // the threshold goes up first.
  const record = async () => {
    await c.call('SLOWLOG', 'RESET');
    await c.config('SET', 'slowlog-log-slower-than', '0');
  };
  const stop = async (): Promise<CommandStats> => {
    await c.config('SET', 'slowlog-log-slower-than', '10000');
    // The bench's own bookkeeping (SLOWLOG RESET of 100,000 entries is slow) is left out.
    const log = ((await c.call('SLOWLOG', 'GET', '-1')) as [number, number, number, string[]][]).filter(
      (e) => !/^(slowlog|config|latency)$/i.test(e[3][0] ?? ''),
    );
    let longestUs = 0;
    let longest = '';
    for (const [, , us, argv] of log) {
      if (us > longestUs) {
        longestUs = us;
        longest = argv.slice(0, 2).join(' ');
      }
    }
    const sorted = log.map((e) => e[2]).sort((a, b) => a - b);
    return {
      commands: log.length,
      longestUs,
      longest,
      p999Us: sorted[Math.floor(sorted.length * 0.999)] ?? 0,
      over10ms: sorted.filter((us) => us > 10_000).length,
    };
  };
  const fmt = (s: CommandStats) =>
    `longest ${(s.longestUs / 1000).toFixed(3)} ms (${s.longest}); p99.9 ${(s.p999Us / 1000).toFixed(3)} ms; ${s.over10ms} of ${s.commands} commands over 10 ms`;

  // Reference 1: one KEYS of the pattern (blocks for the whole keyspace walk).
  await record();
  const matched = (await c.keys('bench:{bench:review:*}*')).length;
  const keysBaseline = await stop();

  // The purge.
  await record();
  await c.call('LATENCY', 'RESET');
  const purger = new Purger({
    client: c,
    keys,
    applyEffects: () => Promise.reject(new Error('not used by a family purge')),
    scanCount,
  });
  const t0 = performance.now();
  const outcome = await purger.purge({
    scope: 'family',
    family: 'review',
    tenant: 'bench',
    reason: 'bench',
    dryRun: false,
  });
  const tookMs = performance.now() - t0;
  const latency = (await c.call('LATENCY', 'LATEST')) as unknown[];
  const purge = await stop();

  // Reference 2: as many O(1) commands, pipelined 1,000 at a time like the purge's UNLINKs.
  await record();
  for (let start = 0; start < n; start += 1_000) {
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => c.exists(`bench:{control}:${start + i}`)));
  }
  const control = await stop();

  const left =
    (await c.keys('bench:{bench:review:*')).length + (await c.keys('bench:{other:review:*')).length;
  console.log(`keys: ${total} (${matched} in the purged family+tenant, ${total - matched} elsewhere)`);
  console.log(
    `purge: ${outcome.keyCount} keys unlinked in ${tookMs.toFixed(0)} ms (SCAN COUNT ${scanCount}); ${left} keys left`,
  );
  console.log(`purge commands: ${fmt(purge)}`);
  console.log(`LATENCY LATEST during the purge ([event, at, latest ms, max ms]): ${JSON.stringify(latency)}`);
  console.log(`control, O(1) EXISTS: ${fmt(control)}`);
  console.log(`baseline, one KEYS of the same pattern: ${(keysBaseline.longestUs / 1000).toFixed(3)} ms`);
  console.log(
    `ratios: longest purge command / KEYS ${(purge.longestUs / keysBaseline.longestUs).toFixed(4)}; / longest control ${(purge.longestUs / Math.max(1, control.longestUs)).toFixed(2)}`,
  );
  if (left !== total - matched) throw new Error(`expected ${total - matched} keys left, found ${left}`);
  if (purge.longestUs > 10_000) process.exitCode = 1;
} finally {
  await redis.stop();
}
