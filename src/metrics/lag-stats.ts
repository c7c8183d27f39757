/**
 * Percentile summaries of HDR histograms, and the histogram settings shared by the worker
 * (recording) and the dashboard and `lag` command (merging histograms across workers).
 */
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

/** Lags above this are clamped (and counted): an hour-old "lag" is a clock or a bug. */
export const MAX_TRACKABLE_LAG_MS = 3_600_000;

/** Why a lag sample was clamped: see {@link clampLag}. */
export type LagClampReason = 'negative' | 'tooLarge' | 'invalid';

/**
 * The one clamp of a lag sample, shared by every exporter so they agree: negative (the
 * origin's clock ahead of ours) becomes 0, above {@link MAX_TRACKABLE_LAG_MS} becomes that
 * maximum, a non-number (a missing timestamp) is dropped (`value` undefined). Rounded to ms.
 */
export function clampLag(lagMs: number): { value: number | undefined; reason?: LagClampReason } {
  if (!Number.isFinite(lagMs)) return { value: undefined, reason: 'invalid' };
  if (lagMs < 0) return { value: 0, reason: 'negative' };
  if (lagMs > MAX_TRACKABLE_LAG_MS) return { value: MAX_TRACKABLE_LAG_MS, reason: 'tooLarge' };
  return { value: Math.round(lagMs) };
}
/** Three significant digits: any recorded value is within 0.1% of the true one. */
export const SIGNIFICANT_DIGITS = 3;

/** Percentiles of one histogram, in milliseconds; all zero when `count` is 0. */
export interface LagStats {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** The quantiles exported everywhere (Prometheus `quantile` label, lag.json, the CLI). */
export const QUANTILES = [
  { key: 'p50', quantile: 0.5 },
  { key: 'p90', quantile: 0.9 },
  { key: 'p99', quantile: 0.99 },
  { key: 'p999', quantile: 0.999 },
] as const;

export const EMPTY_STATS: LagStats = Object.freeze({
  count: 0,
  min: 0,
  mean: 0,
  p50: 0,
  p90: 0,
  p99: 0,
  p999: 0,
  max: 0,
});

/**
 * A pure-JS histogram (no WebAssembly: nothing to `destroy()`, no async init). Packed
 * histograms stay small when sparse, which is the usual case for short window slices.
 */
export function newLagHistogram(packed: boolean): Histogram {
  return hdr.build({
    bitBucketSize: packed ? 'packed' : 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_TRACKABLE_LAG_MS,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    autoResize: false,
    useWebAssembly: false,
  });
}

/** Percentile summary of `h`. */
export function statsOf(h: Histogram): LagStats {
  if (h.totalCount === 0) return EMPTY_STATS;
  return {
    count: h.totalCount,
    min: h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : minValue(h),
    mean: round3(h.mean),
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}

// minNonZeroValue ignores recorded zeros; percentile 0 gives the true lowest value.
function minValue(h: Histogram): number {
  return h.getValueAtPercentile(0);
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/** The histogram as compressed base64 (HdrHistogram's interchange format). */
export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Adds every encoded histogram into one; undecodable entries are skipped and counted. */
export function mergeEncoded(encoded: readonly string[]): { histogram: Histogram; failed: number } {
  const total = newLagHistogram(false);
  let failed = 0;
  for (const e of encoded) {
    try {
      total.add(hdr.decodeFromCompressedBase64(e, 32, false));
    } catch {
      failed += 1;
    }
  }
  return { histogram: total, failed };
}
