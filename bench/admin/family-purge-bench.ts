/**
 * Issue 14, Done when: a family purge over 100,000 keys never blocks Redis for more than
 * 10 ms at a time. On a private redis-server: writes N review values (+ their fences) in one
 * tenant, plus 10% in another tenant that must survive, then runs the purge the admin API
 * runs (Purger, family `review` in tenant `bench`: SCAN MATCH + UNLINK, family-purge.ts) with
 * SLOWLOG recording every command (slowlog-log-slower-than 0), and prints the longest
 * command, LATENCY LATEST, and the baseline: one `KEYS` of the same pattern on the same data
 * (what the purge must never do), so the ratio comes from one run on one machine.
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
  const longest = async (): Promise<{ us: number; command: string; commands: number }> => {
    const log = (await c.call('SLOWLOG', 'GET', '-1')) as [number, number, number, string[]][];
    let worst = { us: 0, command: '', commands: log.length };
    for (const [, , us, argv] of log)
      if (us > worst.us) worst = { us, command: argv.slice(0, 2).join(' '), commands: log.length };
    return worst;
  };

  // Baseline: one KEYS of the pattern (blocks for the whole keyspace walk).
  await c.config('SET', 'slowlog-log-slower-than', '0');
  await c.call('SLOWLOG', 'RESET');
  const matched = (await c.keys('bench:{bench:review:*}*')).length;
  const keysBaseline = await longest();

  await c.call('SLOWLOG', 'RESET');
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
  await c.config('SET', 'slowlog-log-slower-than', '10000');
  // LATENCY first: SLOWLOG GET of 100,000 entries is itself a slow command.
  const latency = (await c.call('LATENCY', 'LATEST')) as unknown[];
  const purge = await longest();
  const left =
    (await c.keys('bench:{bench:review:*')).length + (await c.keys('bench:{other:review:*')).length;

  console.log(`keys: ${total} (${matched} in the purged family+tenant, ${total - matched} elsewhere)`);
  console.log(
    `purge: ${outcome.keyCount} keys unlinked in ${tookMs.toFixed(0)} ms (SCAN COUNT ${scanCount}); ${left} keys left`,
  );
  console.log(
    `longest command during the purge: ${(purge.us / 1000).toFixed(3)} ms (${purge.command}), over ${purge.commands} commands`,
  );
  console.log(`LATENCY LATEST (events >= 1 ms, [event, at, latest ms, max ms]): ${JSON.stringify(latency)}`);
  console.log(`baseline KEYS of the same pattern: ${(keysBaseline.us / 1000).toFixed(3)} ms in one command`);
  console.log(`ratio longest purge command / KEYS: ${(purge.us / keysBaseline.us).toFixed(4)}`);
  if (left !== total - matched) throw new Error(`expected ${total - matched} keys left, found ${left}`);
  if (purge.us > 10_000) process.exitCode = 1;
} finally {
  await redis.stop();
}
