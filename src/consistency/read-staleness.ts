/**
 * Staleness over reads: each read the demo Orchestrator made (its JSONL trace,
 * src/orchestrator-sim/read-trace.ts) judged against the origin's version history
 * (src/origin-sim/version-history.ts, `GET /_sim/history`). Pure: no I/O, no clock.
 *
 * A read that returned version v is judged at its start, `t - ms` (it may legitimately
 * return whatever was true when it began), moved earlier by the clock-skew tolerance (a
 * reader whose clock runs ahead of the origin's must not look late). If a newer version had
 * become true by then, the read is stale, by how long ago v stopped being true:
 *
 *   staleness = (start - clockSkewMs) - (time the first version newer than v became true)
 *
 * It counts as stale **beyond the lag window** only when staleness > lagWindowMs (a read
 * exactly at the window's edge is within it). A version newer than the truth at that moment
 * is "ahead" (the reader's clock is behind the origin's by more than the tolerance, or the
 * history lost an entity), never stale. A read older than every version the bounded history
 * kept is stale since at least the oldest kept change: a lower bound, so never over-reported.
 */

/** One read, as a line of the read trace (t: when it completed, ms: how long it took). */
export interface ReadRecord {
  readonly t: number;
  readonly family: string;
  readonly id: string;
  /** The version returned; null/absent for an unversioned answer. */
  readonly v?: number | null;
  readonly ms?: number;
  /** Reader process (for examples). */
  readonly p?: number;
  readonly src?: string;
  /** Set when the read failed. */
  readonly err?: string;
  /** User of the read (when the trace has one). */
  readonly u?: string;
}

/** The history as `GET /_sim/history` returns it. */
export interface HistoryInput {
  readonly entities: readonly {
    readonly family: string;
    readonly id: string;
    readonly versions: readonly { readonly v: number; readonly at: number }[];
    readonly truncated?: boolean;
  }[];
}

export interface StalenessOptions {
  /** The fleet's promise: how long after a change an old value may still be served. */
  readonly lagWindowMs: number;
  /** Tolerated clock skew between the readers and the origin (default 0). */
  readonly clockSkewMs?: number;
  /** Examples of reads stale beyond the window kept per family (default 10). */
  readonly examples?: number;
}

/** Upper edges (ms) of the staleness distribution's buckets; the last bucket is open. */
export const STALENESS_BUCKETS_MS = [10, 100, 1_000, 10_000, 60_000, 300_000] as const;

export interface StaleExample {
  readonly t: number;
  readonly id: string;
  readonly v: number;
  /** The version true at the read's (skew-adjusted) start. */
  readonly truth: number;
  readonly stalenessMs: number;
  /** How long the read took (its start is `t - ms`), when the trace had it. */
  readonly ms?: number;
  readonly p?: number;
  readonly src?: string;
}

export interface FamilyStaleness {
  readonly family: string;
  /** Every read of the family in the input. */
  readonly reads: number;
  /** Failed reads and reads without a version: not judged. */
  readonly errors: number;
  readonly unversioned: number;
  /** Reads judged: fresh + stale + ahead. */
  readonly judged: number;
  readonly fresh: number;
  /** Older than the truth, by any amount. */
  readonly stale: number;
  /** Older than the truth by more than the lag window. */
  readonly staleBeyondWindow: number;
  /** staleBeyondWindow / judged (0 when nothing was judged). */
  readonly fractionBeyondWindow: number;
  /** Newer than the truth at the read's start (clock skew beyond the tolerance). */
  readonly ahead: number;
  /** Staleness of the stale reads: counts per bucket of STALENESS_BUCKETS_MS (+ the open one). */
  readonly distribution: readonly { readonly leMs: number | null; readonly count: number }[];
  readonly stalenessMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly examples: readonly StaleExample[];
}

export interface StalenessReport {
  readonly lagWindowMs: number;
  readonly clockSkewMs: number;
  readonly families: readonly FamilyStaleness[];
  /** Sums over the families. */
  readonly total: { readonly judged: number; readonly stale: number; readonly staleBeyondWindow: number };
}

interface Timeline {
  readonly vs: Float64Array;
  readonly ats: Float64Array;
}

/** Index of the last point with key <= x in an ascending array, or -1. */
function lastAtOrBefore(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? Infinity) <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function timelines(history: HistoryInput): Map<string, Timeline> {
  const out = new Map<string, Timeline>();
  for (const e of history.entities) {
    const points = [...e.versions].sort((a, b) => a.v - b.v);
    // Versions grow with time at the origin; keep `at` monotone so one search answers both.
    let maxAt = -Infinity;
    const vs = new Float64Array(points.length);
    const ats = new Float64Array(points.length);
    points.forEach((p, i) => {
      maxAt = Math.max(maxAt, p.at);
      vs[i] = p.v;
      ats[i] = maxAt;
    });
    out.set(`${e.family}\u0000${e.id}`, { vs, ats });
  }
  return out;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx] ?? 0;
}

interface Acc {
  reads: number;
  errors: number;
  unversioned: number;
  fresh: number;
  stale: number;
  beyond: number;
  ahead: number;
  buckets: number[];
  staleness: number[];
  examples: StaleExample[];
}

/** Judges every read against the history; see the module header for the rule. */
export function checkReadStaleness(
  reads: Iterable<ReadRecord>,
  history: HistoryInput,
  options: StalenessOptions,
): StalenessReport {
  const { lagWindowMs } = options;
  const skew = options.clockSkewMs ?? 0;
  const maxExamples = options.examples ?? 10;
  if (!(Number.isFinite(lagWindowMs) && lagWindowMs >= 0)) throw new RangeError('lagWindowMs must be >= 0');
  if (!(Number.isFinite(skew) && skew >= 0)) throw new RangeError('clockSkewMs must be >= 0');
  const lines = timelines(history);
  const accs = new Map<string, Acc>();
  const accOf = (family: string): Acc => {
    let a = accs.get(family);
    if (a === undefined) {
      a = {
        reads: 0,
        errors: 0,
        unversioned: 0,
        fresh: 0,
        stale: 0,
        beyond: 0,
        ahead: 0,
        buckets: new Array<number>(STALENESS_BUCKETS_MS.length + 1).fill(0),
        staleness: [],
        examples: [],
      };
      accs.set(family, a);
    }
    return a;
  };

  for (const r of reads) {
    const a = accOf(r.family);
    a.reads++;
    if (r.err !== undefined) {
      a.errors++;
      continue;
    }
    if (typeof r.v !== 'number') {
      a.unversioned++;
      continue;
    }
    const at = r.t - (r.ms ?? 0) - skew;
    const line = lines.get(`${r.family}\u0000${r.id}`);
    // No recorded change: version 1 has been the truth since forever.
    const truthIdx = line === undefined ? -1 : lastAtOrBefore(line.ats, at);
    const truth = line === undefined ? 1 : truthIdx < 0 ? (line.vs[0] ?? 1) - 1 : (line.vs[truthIdx] ?? 1);
    if (r.v === truth) {
      a.fresh++;
      continue;
    }
    if (r.v > truth) {
      a.ahead++;
      continue;
    }
    // Stale: the first kept version newer than v became true at `since` (<= at).
    let since = 0;
    if (line !== undefined) {
      const idx = lastAtOrBefore(line.vs, r.v);
      since = line.ats[Math.min(idx + 1, line.ats.length - 1)] ?? 0;
    }
    const staleness = at - since;
    a.stale++;
    a.staleness.push(staleness);
    const b = STALENESS_BUCKETS_MS.findIndex((le) => staleness <= le);
    a.buckets[b < 0 ? STALENESS_BUCKETS_MS.length : b]!++;
    if (staleness > lagWindowMs) {
      a.beyond++;
      if (a.examples.length < maxExamples)
        a.examples.push({
          t: r.t,
          id: r.id,
          v: r.v,
          truth,
          stalenessMs: Math.round(staleness),
          ...(r.ms === undefined ? {} : { ms: r.ms }),
          ...(r.p === undefined ? {} : { p: r.p }),
          ...(r.src === undefined ? {} : { src: r.src }),
        });
    }
  }

  const families = [...accs.entries()]
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([family, a]): FamilyStaleness => {
      const judged = a.fresh + a.stale + a.ahead;
      const sorted = Float64Array.from(a.staleness).sort();
      return {
        family,
        reads: a.reads,
        errors: a.errors,
        unversioned: a.unversioned,
        judged,
        fresh: a.fresh,
        stale: a.stale,
        staleBeyondWindow: a.beyond,
        fractionBeyondWindow: judged === 0 ? 0 : a.beyond / judged,
        ahead: a.ahead,
        distribution: a.buckets.map((count, i) => ({ leMs: STALENESS_BUCKETS_MS[i] ?? null, count })),
        stalenessMs: {
          p50: percentile(sorted, 0.5),
          p99: percentile(sorted, 0.99),
          max: sorted.length === 0 ? 0 : (sorted[sorted.length - 1] ?? 0),
        },
        examples: a.examples,
      };
    });
  return {
    lagWindowMs,
    clockSkewMs: skew,
    families,
    total: {
      judged: families.reduce((n, f) => n + f.judged, 0),
      stale: families.reduce((n, f) => n + f.stale, 0),
      staleBeyondWindow: families.reduce((n, f) => n + f.staleBeyondWindow, 0),
    },
  };
}
