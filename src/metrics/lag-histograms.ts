/**
 * HDR histograms of invalidation lag per key family × stage (and per family × tenant for the
 * primary stage): cumulative totals since start, plus a rolling window made of a ring of
 * short slices (default 5 s). A window query merges the slices it covers, so "p99 over the
 * last 60 s" is exact to the histogram's precision instead of an average of averages. A
 * query of N seconds covers at least N seconds (N to N + one slice): the newest slice is
 * partial, so covering less would empty a short window at every slice boundary.
 */
import type { Histogram } from 'hdr-histogram-js';
import type { EventTimeline } from './worker-metrics.ts';
import { LAG_STAGES, PRIMARY_STAGE, stageLags } from './lag-stages.ts';
import type { LagStage, StageLag } from './lag-stages.ts';
import { EMPTY_STATS, clampLag, newLagHistogram, statsOf } from './lag-stats.ts';
import type { LagClampReason, LagStats } from './lag-stats.ts';

export interface LagHistogramsOptions {
  /** Clock, ms since epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Length of one window slice. Default 5 000 ms. */
  readonly sliceMs?: number;
  /** Longest window that can be asked for (slices kept). Default 60 000 ms. */
  readonly maxWindowMs?: number;
  /** Tenants tracked per family before the rest are folded into `_other`. Default 100. */
  readonly maxTenantsPerFamily?: number;
}

/** Why samples were clamped, per stage (one count per {@link LagClampReason}). */
export interface ClampCounts extends Record<LagClampReason, number> {
  /** Negative lag (the origin's clock ahead of ours): recorded as 0. */
  negative: number;
  /** Lag above `MAX_TRACKABLE_LAG_MS` (lag-stats.ts): recorded as that maximum. */
  tooLarge: number;
  /** Not a finite number (a missing timestamp): dropped. */
  invalid: number;
}

export const OTHER_TENANTS = '_other';

interface Slice {
  readonly epoch: number;
  readonly byKey: Map<string, Histogram>;
  readonly byTenant: Map<string, Histogram>;
}

const SEP = '\u0000';
const keyOf = (a: string, b: string): string => `${a}${SEP}${b}`;
/** `keyOf(family, stage)`, built once per pair (it is looked up several times per event). */
const seriesKeys = new Map<string, Record<LagStage, string>>();
const seriesKey = (family: string, stage: LagStage): string => {
  let keys = seriesKeys.get(family);
  if (keys === undefined) {
    keys = Object.fromEntries(LAG_STAGES.map((s) => [s, keyOf(family, s)])) as Record<LagStage, string>;
    seriesKeys.set(family, keys);
  }
  return keys[stage];
};
const splitKey = (key: string): [string, string] => {
  const i = key.indexOf(SEP);
  return [key.slice(0, i), key.slice(i + 1)];
};

/** Lag histograms of one worker. */
export class LagHistograms {
  readonly sliceMs: number;
  readonly maxWindowMs: number;
  readonly #now: () => number;
  readonly #slicesKept: number;
  readonly #maxTenants: number;
  readonly #total = new Map<string, Histogram>();
  readonly #tenantsSeen = new Map<string, Set<string>>();
  readonly #clamped = new Map<LagStage, ClampCounts>();
  #slices: Slice[] = [];
  readonly #listeners: ((stage: LagStage, reason: keyof ClampCounts) => void)[] = [];

  constructor(options: LagHistogramsOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.sliceMs = options.sliceMs ?? 5_000;
    this.maxWindowMs = options.maxWindowMs ?? 60_000;
    if (!(this.sliceMs > 0) || !(this.maxWindowMs >= this.sliceMs)) {
      throw new RangeError('sliceMs must be positive and maxWindowMs at least one slice');
    }
    // The full slices of the longest window, plus the partial one being filled.
    this.#slicesKept = Math.ceil(this.maxWindowMs / this.sliceMs) + 1;
    this.#maxTenants = options.maxTenantsPerFamily ?? 100;
  }

  /** Calls `listener` whenever a sample is clamped (the exporters count them). */
  onClamp(listener: (stage: LagStage, reason: keyof ClampCounts) => void): void {
    this.#listeners.push(listener);
  }

  /** Records every stage of one applied event. */
  recordTimeline(t: EventTimeline): void {
    this.recordLags(t.family, stageLags(t), t.tenant);
  }

  /** Records the stage lags of one event (`stageLags`), all in the same window slice. */
  recordLags(family: string, lags: readonly StageLag[], tenant?: string): void {
    const slice = this.#currentSlice();
    for (const { stage, lagMs } of lags) this.#recordIn(slice, family, stage, lagMs, tenant);
  }

  /** Records one sample; `tenant` is tracked for the primary stage only. */
  record(family: string, stage: LagStage, lagMs: number, tenant?: string): void {
    this.#recordIn(this.#currentSlice(), family, stage, lagMs, tenant);
  }

  #recordIn(slice: Slice, family: string, stage: LagStage, lagMs: number, tenant: string | undefined): void {
    const value = this.#clamp(stage, lagMs);
    if (value === undefined) return;
    const key = seriesKey(family, stage);
    histogramIn(this.#total, key, false).recordValue(value);
    // Family x stage slices are plain (54 KB each, at most 13 slices x 4 families x 5 stages =
    // 14 MB): a packed histogram records 5-6 times slower, and this runs five times per
    // event. The per-tenant slices, up to 100 tenants per family, stay packed.
    histogramIn(slice.byKey, key, false).recordValue(value);
    if (tenant !== undefined && stage === PRIMARY_STAGE) {
      histogramIn(slice.byTenant, keyOf(family, this.#tenantBucket(family, tenant)), true).recordValue(value);
    }
  }

  /** Families and stages that have at least one sample since start, in stage order. */
  series(): { family: string; stage: LagStage }[] {
    const out: { family: string; stage: LagStage }[] = [];
    for (const key of this.#total.keys()) {
      const [family, stage] = splitKey(key);
      out.push({ family, stage: stage as LagStage });
    }
    return out.sort(
      (a, b) => a.family.localeCompare(b.family) || LAG_STAGES.indexOf(a.stage) - LAG_STAGES.indexOf(b.stage),
    );
  }

  /** Percentiles since start. */
  totalStats(family: string, stage: LagStage): LagStats {
    const h = this.#total.get(keyOf(family, stage));
    return h === undefined ? EMPTY_STATS : statsOf(h);
  }

  /** A fresh histogram of the last `windowMs` (capped at `maxWindowMs`). */
  windowHistogram(family: string, stage: LagStage, windowMs = this.maxWindowMs): Histogram {
    return this.#merge(this.#windowSlices(windowMs), (s) => s.byKey.get(keyOf(family, stage)));
  }

  /** Percentiles of the last `windowMs`. */
  windowStats(family: string, stage: LagStage, windowMs = this.maxWindowMs): LagStats {
    return statsOf(this.windowHistogram(family, stage, windowMs));
  }

  /** Primary-stage percentiles per tenant over the last `windowMs`. */
  tenantWindowStats(windowMs = this.maxWindowMs): { family: string; tenant: string; stats: LagStats }[] {
    const slices = this.#windowSlices(windowMs);
    const keys = new Set<string>();
    for (const s of slices) for (const k of s.byTenant.keys()) keys.add(k);
    return [...keys].sort().map((k) => {
      const [family, tenant] = splitKey(k);
      return { family, tenant, stats: statsOf(this.#merge(slices, (s) => s.byTenant.get(k))) };
    });
  }

  /** Clamped samples per stage since start. */
  clamped(): { stage: LagStage; counts: ClampCounts }[] {
    return [...this.#clamped].map(([stage, counts]) => ({ stage, counts: { ...counts } }));
  }

  /** The window actually covered by a `windowMs` query now: whole slices back to `windowMs` ago. */
  effectiveWindowMs(windowMs: number): number {
    const now = this.#now();
    return now - this.#oldestEpoch(windowMs, now) * this.sliceMs;
  }

  /** The epoch of the slice holding the instant `windowMs` (capped) before `now`. */
  #oldestEpoch(windowMs: number, now: number): number {
    const capped = Math.min(Math.max(windowMs, 1), this.maxWindowMs);
    return Math.floor((now - capped) / this.sliceMs);
  }

  #windowSlices(windowMs: number): Slice[] {
    this.#rotate();
    const oldest = this.#oldestEpoch(windowMs, this.#now());
    return this.#slices.filter((s) => s.epoch >= oldest);
  }

  #merge(slices: readonly Slice[], pick: (s: Slice) => Histogram | undefined): Histogram {
    const merged = newLagHistogram(false);
    for (const s of slices) {
      const h = pick(s);
      if (h !== undefined && h.totalCount > 0) merged.add(h);
    }
    return merged;
  }

  #currentSlice(): Slice {
    this.#rotate();
    const epoch = Math.floor(this.#now() / this.sliceMs);
    const last = this.#slices.at(-1);
    if (last?.epoch === epoch) return last;
    const slice: Slice = { epoch, byKey: new Map(), byTenant: new Map() };
    this.#slices.push(slice);
    return slice;
  }

  /** Drops slices that fell out of the longest window (a clock going back keeps them). */
  #rotate(): void {
    const oldest = Math.floor(this.#now() / this.sliceMs) - this.#slicesKept + 1;
    if (this.#slices.length > 0 && (this.#slices[0]?.epoch ?? oldest) < oldest) {
      this.#slices = this.#slices.filter((s) => s.epoch >= oldest);
    }
  }

  #clamp(stage: LagStage, lagMs: number): number | undefined {
    const { value, reason } = clampLag(lagMs);
    if (reason !== undefined) {
      let counts = this.#clamped.get(stage);
      if (counts === undefined) {
        counts = { negative: 0, tooLarge: 0, invalid: 0 };
        this.#clamped.set(stage, counts);
      }
      counts[reason] += 1;
      for (const l of this.#listeners) l(stage, reason);
    }
    return value;
  }

  #tenantBucket(family: string, tenant: string): string {
    let seen = this.#tenantsSeen.get(family);
    if (seen === undefined) {
      seen = new Set();
      this.#tenantsSeen.set(family, seen);
    }
    if (seen.has(tenant)) return tenant;
    if (seen.size >= this.#maxTenants) return OTHER_TENANTS;
    seen.add(tenant);
    return tenant;
  }
}

function histogramIn(map: Map<string, Histogram>, key: string, packed: boolean): Histogram {
  let h = map.get(key);
  if (h === undefined) {
    h = newLagHistogram(packed);
    map.set(key, h);
  }
  return h;
}
