/**
 * Origin load as the origin sees it: calls per endpoint, per key (bounded), and the peak
 * number of calls that started within any sliding one-second window. The peak is what a
 * client's rate limit must keep under its budget, so it is measured here, not trusted from
 * the client. A load series (calls per 100 ms bucket, last 10 minutes) shows a stampede's
 * shape over time.
 */
import { perEndpoint } from './origin-endpoints.ts';
import type { OriginEndpoint, PerEndpoint } from './origin-endpoints.ts';

/** Width of the sliding window of `maxPerSecond`. */
export const RATE_WINDOW_MS = 1000;
/** Default bound on distinct keys counted (a 5,000-key refresh run fits with room). */
export const DEFAULT_MAX_TRACKED_KEYS = 100_000;
/** Width of one bucket of the load series (`GET /_sim/load`). */
export const LOAD_BUCKET_MS = 100;
/** Buckets kept in the load series: the last 10 minutes. */
export const LOAD_BUCKETS_KEPT = 6_000;

/** What `GET /_sim/load` returns: calls that started in each bucket, by wall-clock bucket start. */
export interface LoadSeries {
  readonly bucketMs: number;
  /** Non-empty buckets, oldest first: `t` is the bucket's start (ms since epoch). */
  readonly buckets: readonly { readonly t: number; readonly calls: PerEndpoint<number> }[];
}

/** What `GET /_sim/stats` returns. */
export interface StatsSnapshot {
  readonly calls: PerEndpoint<number>;
  readonly maxPerSecond: PerEndpoint<number>;
  readonly perKey?: Readonly<Record<string, number>>;
  /** True when distinct keys exceeded the bound and later keys were not counted per key. */
  readonly perKeyTruncated?: boolean;
  /** Start of the measurement (ISO-8601), i.e. creation or last reset. */
  readonly since: string;
}

/** Options of a CallStats. */
export interface CallStatsOptions {
  readonly maxTrackedKeys?: number;
  /** Monotonic clock in ms, for the window (injectable for tests). */
  readonly monotonicNow?: () => number;
  /** Wall clock in ms, for `since`. */
  readonly wallNow?: () => number;
}

/** Counters of origin calls. */
export class CallStats {
  readonly #maxTrackedKeys: number;
  readonly #monotonicNow: () => number;
  readonly #wallNow: () => number;
  #calls = perEndpoint(() => 0);
  #maxPerSecond = perEndpoint(() => 0);
  // Start times inside the current window, oldest first; a head index avoids O(n) shifts.
  #windows: PerEndpoint<{ starts: number[]; head: number }> = perEndpoint(() => ({ starts: [], head: 0 }));
  #perKey = new Map<string, number>();
  // Wall-clock bucket index -> calls started in it (insertion order is time order).
  #load = new Map<number, PerEndpoint<number>>();
  #truncated = false;
  #since: number;

  constructor(options: CallStatsOptions = {}) {
    this.#maxTrackedKeys = options.maxTrackedKeys ?? DEFAULT_MAX_TRACKED_KEYS;
    this.#monotonicNow = options.monotonicNow ?? (() => performance.now());
    this.#wallNow = options.wallNow ?? Date.now;
    this.#since = this.#wallNow();
  }

  /** Records that a call of `endpoint` for `key` started now. */
  record(endpoint: OriginEndpoint, key: string): void {
    this.#calls[endpoint]++;
    const now = this.#monotonicNow();
    const window = this.#windows[endpoint];
    // The window is (now - 1 s, now]: a call exactly one second older no longer counts.
    while (window.head < window.starts.length && (window.starts[window.head] ?? now) <= now - RATE_WINDOW_MS)
      window.head++;
    if (window.head > 1024 && window.head * 2 > window.starts.length) {
      window.starts = window.starts.slice(window.head);
      window.head = 0;
    }
    window.starts.push(now);
    // Every window's count peaks at a start inside it, so checking at each start finds the max.
    this.#maxPerSecond[endpoint] = Math.max(this.#maxPerSecond[endpoint], window.starts.length - window.head);

    const bucket = Math.floor(this.#wallNow() / LOAD_BUCKET_MS);
    let counts = this.#load.get(bucket);
    if (counts === undefined) {
      counts = perEndpoint(() => 0);
      this.#load.set(bucket, counts);
      for (const old of this.#load.keys()) {
        if (old > bucket - LOAD_BUCKETS_KEPT) break;
        this.#load.delete(old);
      }
    }
    counts[endpoint]++;

    const perKeyName = `${endpoint}:${key}`;
    const seen = this.#perKey.get(perKeyName);
    if (seen !== undefined) this.#perKey.set(perKeyName, seen + 1);
    else if (this.#perKey.size < this.#maxTrackedKeys) this.#perKey.set(perKeyName, 1);
    else this.#truncated = true;
  }

  /** The counters; per-key counts only when asked (they can be large). */
  snapshot(includeKeys = false): StatsSnapshot {
    const base = {
      calls: { ...this.#calls },
      maxPerSecond: { ...this.#maxPerSecond },
      since: new Date(this.#since).toISOString(),
    };
    if (!includeKeys) return base;
    return { ...base, perKey: Object.fromEntries(this.#perKey), perKeyTruncated: this.#truncated };
  }

  /** Calls per bucket of the last 10 minutes (or since the last reset). */
  load(): LoadSeries {
    return {
      bucketMs: LOAD_BUCKET_MS,
      buckets: [...this.#load].map(([b, calls]) => ({ t: b * LOAD_BUCKET_MS, calls: { ...calls } })),
    };
  }

  /** Clears every counter and starts a new measurement. */
  reset(): void {
    this.#calls = perEndpoint(() => 0);
    this.#maxPerSecond = perEndpoint(() => 0);
    this.#windows = perEndpoint(() => ({ starts: [], head: 0 }));
    this.#perKey = new Map();
    this.#load = new Map();
    this.#truncated = false;
    this.#since = this.#wallNow();
  }
}
