/**
 * The `/lag.json` contract between a worker and its readers (the live dashboard and the
 * `lag` command). Each series carries its window histogram (HdrHistogram compressed base64)
 * so readers merge workers exactly: percentiles of a fleet are not averages of percentiles.
 */
import { PRIMARY_STAGE } from './lag-stages.ts';
import type { LagStage } from './lag-stages.ts';
import type { ClampCounts, LagHistograms } from './lag-histograms.ts';
import { encodeHistogram, mergeEncoded, statsOf } from './lag-stats.ts';
import type { LagStats } from './lag-stats.ts';

export interface LagSeriesReport {
  readonly family: string;
  readonly stage: LagStage;
  /** Percentiles over the window. */
  readonly window: LagStats;
  /** Percentiles since the worker started. */
  readonly total: LagStats;
  /** The window histogram, HdrHistogram compressed base64 (empty string when no samples). */
  readonly hdr: string;
}

export interface TenantLagReport {
  readonly family: string;
  readonly tenant: string;
  /** Primary-stage (origin → delete) percentiles over the window. */
  readonly window: LagStats;
}

export interface LagReport {
  readonly version: 1;
  /** Which worker answered (host:pid unless configured). */
  readonly source: string;
  readonly generatedAtMs: number;
  /** The window asked for, in seconds. */
  readonly windowSeconds: number;
  /** The window actually covered (whole slices), in seconds. */
  readonly coveredSeconds: number;
  readonly series: readonly LagSeriesReport[];
  readonly tenants: readonly TenantLagReport[];
  readonly clamped: readonly { readonly stage: LagStage; readonly counts: ClampCounts }[];
}

/** Builds the report of one worker over the last `windowSeconds`. */
export function buildLagReport(
  lag: LagHistograms,
  windowSeconds: number,
  source: string,
  now: number = Date.now(),
): LagReport {
  const windowMs = windowSeconds * 1000;
  return {
    version: 1,
    source,
    generatedAtMs: now,
    windowSeconds,
    coveredSeconds: lag.effectiveWindowMs(windowMs) / 1000,
    series: lag.series().map(({ family, stage }) => {
      const h = lag.windowHistogram(family, stage, windowMs);
      return {
        family,
        stage,
        window: statsOf(h),
        total: lag.totalStats(family, stage),
        hdr: h.totalCount > 0 ? encodeHistogram(h) : '',
      };
    }),
    tenants: lag
      .tenantWindowStats(windowMs)
      .map(({ family, tenant, stats }) => ({ family, tenant, window: stats })),
    clamped: lag.clamped(),
  };
}

/** One family × stage merged across workers. */
export interface MergedLagSeries {
  readonly family: string;
  readonly stage: LagStage;
  readonly window: LagStats;
  /** Samples since start, summed over workers. */
  readonly totalCount: number;
  /** Workers that reported this series. */
  readonly sources: number;
}

/** Merges the reports of several workers, series by series (histograms added). */
export function mergeLagReports(reports: readonly LagReport[]): MergedLagSeries[] {
  const groups = new Map<string, { family: string; stage: LagStage; items: LagSeriesReport[] }>();
  for (const r of reports) {
    for (const s of r.series) {
      const key = `${s.family}/${s.stage}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = { family: s.family, stage: s.stage, items: [] };
        groups.set(key, g);
      }
      g.items.push(s);
    }
  }
  return [...groups.values()].map(({ family, stage, items }) => {
    const { histogram } = mergeEncoded(items.map((i) => i.hdr).filter((h) => h !== ''));
    return {
      family,
      stage,
      window: statsOf(histogram),
      totalCount: items.reduce((n, i) => n + i.total.count, 0),
      sources: items.length,
    };
  });
}

/** The primary-stage series of a merged set, by family. */
export function primaryByFamily(merged: readonly MergedLagSeries[]): Map<string, MergedLagSeries> {
  return new Map(merged.filter((m) => m.stage === PRIMARY_STAGE).map((m) => [m.family, m]));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Checks the shape of a parsed `/lag.json` body (enough to trust it in readers). */
export function isLagReport(value: unknown): value is LagReport {
  return (
    isRecord(value) &&
    value.version === 1 &&
    typeof value.generatedAtMs === 'number' &&
    Array.isArray(value.series) &&
    value.series.every(
      (s) =>
        isRecord(s) &&
        typeof s.family === 'string' &&
        typeof s.stage === 'string' &&
        typeof s.hdr === 'string',
    )
  );
}
