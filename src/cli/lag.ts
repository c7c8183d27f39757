/**
 * `lag`: invalidation-lag percentiles per family over a window, from a running fleet.
 *   node src/cli/lag.ts --window 60 [--targets http://127.0.0.1:9464,...] [--stage all] [--json]
 * Reads each worker's /lag.json and merges their HDR histograms (exact fleet percentiles).
 * Default targets: `.local/fleet.json` (`{ "targets": [...] }` or `{ "workers": [{ "adminUrl" }] }`),
 * else the two local workers.
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { adminHeaders } from '../admin/admin-token.ts';
import { DEFAULT_TARGETS, parseTargets } from '../dashboard/dashboard-options.ts';
import { isLagReport, mergeLagReports } from '../metrics/lag-report.ts';
import type { LagReport, MergedLagSeries } from '../metrics/lag-report.ts';
import { LAG_STAGES, PRIMARY_STAGE, isLagStage } from '../metrics/lag-stages.ts';
import { runMain } from './run-main.ts';

export const FLEET_FILE = '.local/fleet.json';

/** Targets named by the fleet file, if it exists and names any. */
export async function targetsFromFleetFile(path = FLEET_FILE): Promise<string[] | undefined> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const j = json as { targets?: unknown; workers?: unknown };
  const urls: unknown[] = Array.isArray(j.targets)
    ? j.targets
    : Array.isArray(j.workers)
      ? j.workers.map((w: unknown) =>
          typeof w === 'object' && w !== null ? (w as { adminUrl?: unknown }).adminUrl : undefined,
        )
      : [];
  const found = urls.filter((u): u is string => typeof u === 'string' && u !== '');
  return found.length > 0 ? found : undefined;
}

/** Fetches `/lag.json` of every target; unreachable targets are listed in `failed`. */
export async function fetchLagReports(
  targets: readonly string[],
  windowSeconds: number,
  timeoutMs = 3_000,
): Promise<{ reports: LagReport[]; failed: { url: string; error: string }[] }> {
  const reports: LagReport[] = [];
  const failed: { url: string; error: string }[] = [];
  await Promise.all(
    targets.map(async (url) => {
      try {
        const res = await fetch(`${url}/lag.json?window=${windowSeconds}`, {
          headers: adminHeaders(),
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body: unknown = await res.json();
        if (!isLagReport(body)) throw new Error('not a lag report');
        reports.push(body);
      } catch (err) {
        failed.push({ url, error: err instanceof Error ? err.message : String(err) });
      }
    }),
  );
  return { reports, failed };
}

const fmt = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(1)}s` : `${v}ms`);

/** A fixed-width table of the merged series (one row per family × stage). */
export function formatLagTable(series: readonly MergedLagSeries[], windowSeconds: number): string {
  const header = ['family', 'stage', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max', 'workers'];
  const rows = series.map((s) => [
    s.family,
    s.stage,
    String(s.window.count),
    fmt(s.window.p50),
    fmt(s.window.p90),
    fmt(s.window.p99),
    fmt(s.window.p999),
    fmt(s.window.max),
    String(s.sources),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const out = [
    `Invalidation lag over the last ${windowSeconds} s`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
  ];
  if (rows.length === 0) out.push('(no events in the window)');
  for (const r of rows) out.push(line(r));
  return out.join('\n');
}

/** Sorts by family, then pipeline stage order; keeps `stage` only (or all with 'all'). */
export function selectSeries(series: readonly MergedLagSeries[], stage: string): MergedLagSeries[] {
  return series
    .filter((s) => stage === 'all' || s.stage === stage)
    .sort(
      (a, b) => a.family.localeCompare(b.family) || LAG_STAGES.indexOf(a.stage) - LAG_STAGES.indexOf(b.stage),
    );
}

/** Runs the command; resolves with the exit code. */
export async function main(argv: readonly string[], out: (s: string) => void = console.log): Promise<number> {
  const program = new Command('lag')
    .description('Invalidation-lag percentiles per key family over a window, from a running fleet')
    .option('--window <seconds>', 'window in seconds (1-60)', '60')
    .option('--targets <urls>', 'comma-separated worker admin URLs')
    .option('--stage <stage>', `one of ${LAG_STAGES.join(', ')} or all`, PRIMARY_STAGE)
    .option('--json', 'print JSON instead of a table')
    .parse(argv);
  const opts = program.opts<{ window: string; targets?: string; stage: string; json?: boolean }>();
  const errors: string[] = [];
  const windowSeconds = Number(opts.window);
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > 60) {
    errors.push('--window must be an integer from 1 to 60');
  }
  if (opts.stage !== 'all' && !isLagStage(opts.stage))
    errors.push(`--stage must be one of ${LAG_STAGES.join(', ')}, all`);
  const targets =
    opts.targets !== undefined
      ? parseTargets(opts.targets, errors)
      : ((await targetsFromFleetFile()) ?? DEFAULT_TARGETS);
  if (errors.length > 0) program.error(`invalid options:\n  ${errors.join('\n  ')}`);

  const { reports, failed } = await fetchLagReports(targets, windowSeconds);
  const series = selectSeries(mergeLagReports(reports), opts.stage);
  if (opts.json === true) {
    out(JSON.stringify({ windowSeconds, targets, failed, series }, null, 2));
  } else {
    out(formatLagTable(series, windowSeconds));
    for (const f of failed) out(`! ${f.url}: ${f.error}`);
  }
  return reports.length === 0 ? 1 : 0;
}

if (import.meta.main) runMain(main);
