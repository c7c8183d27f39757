/**
 * Warm-up command: prefill hot keys before a traffic spike, within the origin's budget.
 *
 *   node src/cli/warm.ts --family product|review|promo
 *        (--top 100 | --ids B0...,B0... | --file ids.txt)   (sources may be combined)
 *        [--rate 50] [--concurrency 16] [--env-file .local/env.json]
 *        [--redis host:port] [--origin-url URL] [--namespace mc] [--tenant default]
 *        [--locales en-US,ja-JP] [--attempts 3] [--json] [--log-level warn]
 *
 * Shows a progress bar on a terminal (plain progress lines otherwise), then a summary.
 * Exit codes: 0 every key written (or refused by a newer fence/version, or absent at the
 * origin), 2 some keys failed, 1 bad usage or a fatal error, 130 interrupted (SIGINT/SIGTERM:
 * in-flight keys finish, the summary is printed).
 */
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { pino } from 'pino';
import { createRedisConnection } from '../adapters/redis/redis-connection.ts';
import { createKeyBuilder } from '../core/key-builder.ts';
import { readLocalStack } from '../local/env-file.ts';
import type { LocalStackDescription } from '../local/env-file.ts';
import { createRedisHotKeySource } from '../adapters/redis/hot-key-ranking.ts';
import { mergeHotKeys } from '../refresh/hot-keys.ts';
import { createOriginFetcher } from '../refresh/origin-fetcher.ts';
import { DEFAULT_KEY_RETRY } from '../refresh/retry-policy.ts';
import { parseIdList, resolveWarmOptions } from '../refresh/warm-options.ts';
import type { RawWarmOptions } from '../refresh/warm-options.ts';
import { ID_RULE, runWarmUp } from '../refresh/warm-up.ts';
import { onStopSignal, runMain } from './run-main.ts';
import type { WarmProgress, WarmUpSummary } from '../refresh/warm-up.ts';

/** Progress on a terminal (a bar) or in a log (a line per second and per quarter). */
function progressReporter(
  out: NodeJS.WriteStream,
  total: number,
): {
  update(p: WarmProgress): void;
  stop(): void;
} {
  if (out.isTTY) {
    const bar = new SingleBar(
      {
        stream: out,
        format:
          'warm {bar} {percentage}% | {value}/{total} keys | written {written} failed {failed} | {rate} req/s | eta {eta_formatted}',
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    const started = performance.now();
    bar.start(total, 0, { written: 0, failed: 0, rate: '0.0' });
    return {
      update: (p) =>
        bar.update(p.settled, {
          written: p.written,
          failed: p.failed,
          rate: ((p.originCalls * 1000) / Math.max(1, performance.now() - started)).toFixed(1),
        }),
      stop: () => bar.stop(),
    };
  }
  let lastAt = 0;
  let lastQuarter = 0;
  return {
    update: (p) => {
      const now = performance.now();
      const quarter = total === 0 ? 4 : Math.floor((p.settled * 4) / total);
      if (now - lastAt < 1_000 && quarter === lastQuarter) return;
      lastAt = now;
      lastQuarter = quarter;
      const pct = total === 0 ? 100 : Math.floor((p.settled * 100) / total);
      out.write(`progress ${p.settled}/${total} (${pct}%) written=${p.written} failed=${p.failed}\n`);
    },
    stop: () => undefined,
  };
}

function formatSummary(s: WarmUpSummary, interrupted: boolean): string {
  const lines = [
    `warm-up summary${interrupted ? ' (interrupted)' : ''}`,
    `  family        ${s.family}`,
    `  keys          ${s.keys}`,
    `  written       ${s.written} (${s.valuesWritten} values)`,
    `  refused       ${s.refused}`,
    `  missing       ${s.missing}`,
    `  failed        ${s.failed}`,
    ...(s.notAttempted > 0 ? [`  not attempted ${s.notAttempted}`] : []),
    `  duration      ${(s.durationMs / 1000).toFixed(2)} s`,
    `  origin        ${s.originCalls} calls, ${s.originRequestsPerSecond.toFixed(1)} req/s (budget ${s.budget.ratePerSecond} req/s, concurrency ${s.budget.concurrency})`,
    ...s.failures.slice(0, 10).map((f) => `  failed key    ${f.id} ${f.code}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Parses `argv`, runs the warm-up, prints the summary; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('warm')
    .description('Prefill cache keys from the origin, within its budget, through the fence')
    .addOption(
      new Option('--family <family>', 'key family')
        .choices(['product', 'review', 'promo'])
        .makeOptionMandatory(),
    )
    .option('--top <n>', 'the n hottest ids of the family (from the hotness sorted set)')
    .option('--ids <list>', 'comma-separated ids (ASINs, or store sections for promo)')
    .option('--file <path>', 'file of ids, one per line (# comments)')
    .option('--rate <n>', 'origin calls per second at most (default 50)')
    .option('--concurrency <n>', 'origin calls in flight at most (default 16)')
    .option('--attempts <n>', 'attempts per key (default 3)')
    .option('--env-file <path>', 'local stack description (.local/env.json): Redis and origin URL')
    .option('--redis <host:port>', 'Redis (standalone); overrides the env file')
    .option('--origin-url <url>', 'origin base URL; overrides the env file')
    .option('--namespace <ns>', 'key namespace (default mc)')
    .option('--tenant <tenant>', 'tenant (default "default")')
    .option('--locales <list>', 'locale variants to write (default en-US,ja-JP)')
    .option('--json', 'print the summary as JSON')
    .addOption(new Option('--log-level <level>', 'log level (stderr)').default('warn'))
    .exitOverride()
    .parse(argv);
  const raw = program.opts<RawWarmOptions & { file?: string; envFile?: string; logLevel: string }>();

  const problems: string[] = [];
  const fileIds =
    raw.file === undefined
      ? []
      : await readFile(raw.file, 'utf8').then(parseIdList, (e: unknown) => {
          problems.push(`cannot read --file ${raw.file}: ${e instanceof Error ? e.message : String(e)}`);
          return [];
        });
  let stack: LocalStackDescription | undefined;
  if (raw.envFile !== undefined) {
    try {
      stack = readLocalStack(raw.envFile);
    } catch (e) {
      problems.push(`--env-file: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const resolved = resolveWarmOptions(raw, fileIds, stack);
  if (!resolved.ok || problems.length > 0) {
    process.stderr.write(
      `warm: invalid options:\n  ${[...problems, ...(resolved.ok ? [] : resolved.errors)].join('\n  ')}\n`,
    );
    return 1;
  }
  const s = resolved.settings;
  const logger = pino({ level: raw.logLevel, base: { component: 'warm' } }, pino.destination(2));
  const connection = createRedisConnection({
    ...s.redis,
    tuning: { ...s.redis.tuning, connectionName: 'warm-up' },
  });
  const interrupt = new AbortController();
  const releaseSignals = onStopSignal(() => interrupt.abort());
  try {
    const keys = createKeyBuilder({ namespace: s.namespace, locales: s.locales });
    const hot =
      s.top > 0 ? await createRedisHotKeySource(connection.client, keys).top(s.family, s.tenant, s.top) : [];
    const merged = mergeHotKeys(hot, s.ids, ID_RULE[s.family]);
    if (merged.invalid > 0)
      logger.warn({ invalid: merged.invalid }, 'invalid ids in the hotness set were skipped');
    if (s.top > 0 && hot.length < s.top)
      process.stdout.write(`note: the hotness set holds ${hot.length} of the ${s.top} requested ids\n`);
    const reporter = progressReporter(process.stdout, merged.ids.length);
    const summary = await runWarmUp({
      redis: connection.client,
      keys,
      family: s.family,
      tenant: s.tenant,
      ids: merged.ids,
      fetchOrigin: createOriginFetcher(s.originUrl),
      budget: s.budget,
      retry: { ...DEFAULT_KEY_RETRY, maxAttempts: s.maxAttempts },
      logger,
      signal: interrupt.signal,
      onProgress: (p) => reporter.update(p),
    });
    reporter.stop();
    process.stdout.write(
      s.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary, interrupt.signal.aborted),
    );
    if (interrupt.signal.aborted) return 130;
    return summary.failed > 0 ? 2 : 0;
  } finally {
    releaseSignals();
    await connection.close();
    logger.flush();
  }
}

if (import.meta.main) runMain(main);
