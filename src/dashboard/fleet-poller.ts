/**
 * Polls every worker's `/lag.json` and `/metrics` (and the queues) once per tick and turns
 * them into one fleet-wide point: lag percentiles from merged HDR histograms, rates from
 * counter increases (a worker restart resets its counters; that is not a negative rate).
 */
import { adminHeadersIfAny } from '../admin/admin-token.ts';
import { isLagReport, mergeLagReports, primaryByFamily } from '../metrics/lag-report.ts';
import type { LagReport } from '../metrics/lag-report.ts';
import { PROM } from '../metrics/prometheus-names.ts';
import { parsePrometheusText, sumBy } from '../metrics/prometheus-text.ts';
import type { Sample } from '../metrics/prometheus-text.ts';
import type { QueueDepthReader, QueueDepths } from './queue-depths.ts';

export interface LagPoint {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

/** One tick of the fleet, as charted. */
export interface DashboardPoint {
  readonly t: number;
  readonly targets: readonly { readonly url: string; readonly up: boolean }[];
  /** Origin → delete percentiles per family over the lag window (absent: no samples). */
  readonly lag: Record<string, LagPoint>;
  /** Events applied per second, per family. */
  readonly throughput: Record<string, number>;
  /** Per second: redis errors, rejected, dead-lettered, retried messages. */
  readonly errors: { redis: number; rejected: number; deadLettered: number; retries: number };
  readonly queueDepth: Record<string, number>;
  readonly dlqDepth: Record<string, number>;
  /** Oldest message age per queue, seconds (as the workers last saw it). */
  readonly queueAgeS: Record<string, number>;
  /** Read-side hit ratio per family (0..1) over the rate window; absent without reads. */
  readonly hitRatio: Record<string, number>;
  /** Origin calls per second per family, as the read-side clients count them. */
  readonly originLoad: Record<string, number>;
  /** The read-side processes polled (the demo Orchestrator's admin ports). */
  readonly readers: readonly { readonly url: string; readonly up: boolean }[];
  /**
   * The consistency auditors' figures since they started, per `<family> <window>` (e.g.
   * `promo 1s`): checks, inconsistent checks, ratio and nines (docs/auditor.md). Absent
   * without auditors.
   */
  readonly consistency?: Record<string, ConsistencyPoint>;
  readonly auditors?: readonly { readonly url: string; readonly up: boolean }[];
  /**
   * Durability of critical deletes (decision 0008): workers whose replication is degraded,
   * acks held for a replica, degraded acks per second, the largest replay ring (MiB).
   */
  readonly durability: {
    degradedWorkers: number;
    heldAcks: number;
    degradedAcks: number;
    replayRingMiB: number;
  };
  /** The kill switch (`admin pause`): per queue, how many workers it pauses now. */
  readonly paused: Record<string, number>;
}

/** One family and window of the consistency auditors. */
export interface ConsistencyPoint {
  readonly checked: number;
  readonly inconsistent: number;
  readonly ratio: number;
  /** -log10(inconsistent / checked); log10(checked) while none was inconsistent (a lower bound). */
  readonly nines: number;
  readonly lowerBound: boolean;
}

export interface FleetPollerOptions {
  readonly targets: readonly string[];
  /** Read-side processes (cache clients) whose `/metrics` are polled too. Default none. */
  readonly readers?: readonly string[];
  /** Consistency auditors whose `/metrics` are polled. Default none. */
  readonly auditors?: readonly string[];
  readonly lagWindowSeconds: number;
  /** Seconds of counter history rates are computed over. Default 5. */
  readonly rateWindowSeconds?: number;
  readonly queues?: QueueDepthReader | undefined;
  readonly fetchTimeoutMs?: number;
  readonly now?: () => number;
}

/** Counter totals that only go up, summed over workers. */
class MonotonicTotals {
  readonly #last = new Map<string, number>();
  readonly #total = new Map<string, number>();

  /** Adds the increase of `target`'s `key` since last time (all of it after a reset). */
  observe(target: string, key: string, value: number): void {
    const id = `${target} ${key}`;
    const prev = this.#last.get(id);
    const inc = prev === undefined ? value : value >= prev ? value - prev : value;
    this.#last.set(id, value);
    this.#total.set(key, (this.#total.get(key) ?? 0) + inc);
  }

  snapshot(): Map<string, number> {
    return new Map(this.#total);
  }
}

const COUNTERS: readonly { name: string; label?: string; prefix: string }[] = [
  { name: PROM.eventsProcessed, label: 'family', prefix: 'events' },
  { name: PROM.redisErrors, prefix: 'redis' },
  { name: PROM.rejected, prefix: 'rejected' },
  { name: PROM.deadLettered, prefix: 'deadLettered' },
  { name: PROM.retries, prefix: 'retries' },
  { name: PROM.readHits, label: 'family', prefix: 'hits' },
  { name: PROM.readMisses, label: 'family', prefix: 'misses' },
  { name: PROM.originCalls, label: 'family', prefix: 'origin' },
  { name: PROM.degradedAcks, prefix: 'degradedAcks' },
];

/** Polls the fleet; `tick()` returns the next point. */
export class FleetPoller {
  readonly #o: FleetPollerOptions;
  readonly #now: () => number;
  readonly #totals = new MonotonicTotals();
  readonly #history: { t: number; totals: Map<string, number> }[] = [];
  #queueDepths: QueueDepths | undefined;
  #queueReadAt = 0;

  constructor(options: FleetPollerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  async tick(): Promise<DashboardPoint> {
    const timeout = this.#o.fetchTimeoutMs ?? 800;
    const [results, readerResults, auditorResults, queues] = await Promise.all([
      Promise.all(this.#o.targets.map((url) => this.#pollTarget(url, timeout))),
      Promise.all((this.#o.readers ?? []).map((url) => this.#pollReader(url, timeout))),
      Promise.all((this.#o.auditors ?? []).map((url) => this.#pollReader(url, timeout))),
      this.#readQueues(),
    ]);
    const t = this.#now();
    const reports = results.flatMap((r) => (r.report === undefined ? [] : [r.report]));
    const lag: Record<string, LagPoint> = {};
    for (const [family, m] of primaryByFamily(mergeLagReports(reports))) {
      if (m.window.count === 0) continue;
      const { p50, p90, p99, max, count } = m.window;
      lag[family] = { p50, p90, p99, max, count };
    }

    for (const r of [...results, ...readerResults]) {
      if (r.samples === undefined) continue;
      for (const c of COUNTERS) {
        for (const [key, v] of sumBy(r.samples, c.name, c.label))
          this.#totals.observe(r.url, `${c.prefix}/${key}`, v);
      }
    }
    const totals = this.#totals.snapshot();
    this.#history.push({ t, totals });
    const windowMs = (this.#o.rateWindowSeconds ?? 5) * 1000;
    while (this.#history.length > 2 && (this.#history[1]?.t ?? t) <= t - windowMs) this.#history.shift();
    const base = this.#history[0];
    const dt = base === undefined ? 0 : (t - base.t) / 1000;
    const delta = (key: string): number => (totals.get(key) ?? 0) - (base?.totals.get(key) ?? 0);
    const rate = (key: string): number => (dt > 0 ? delta(key) / dt : 0);
    const sumRate = (prefix: string): number =>
      [...totals.keys()].filter((k) => k.startsWith(`${prefix}/`)).reduce((s, k) => s + rate(k), 0);

    const throughput: Record<string, number> = {};
    const hitRatio: Record<string, number> = {};
    const originLoad: Record<string, number> = {};
    for (const key of totals.keys()) {
      const [prefix, family = ''] = key.split('/');
      if (prefix === 'events') throughput[family] = round2(rate(key));
      if (prefix === 'origin') originLoad[family] = round2(rate(key));
      if (prefix === 'hits') {
        const hits = delta(key);
        const reads = hits + delta(`misses/${family}`);
        if (reads > 0) hitRatio[family] = round2(hits / reads);
      }
    }

    const queueAgeS: Record<string, number> = {};
    const workerDepth: Record<string, number> = {};
    const durability = {
      degradedWorkers: 0,
      heldAcks: 0,
      degradedAcks: round2(sumRate('degradedAcks')),
      replayRingMiB: 0,
    };
    const paused: Record<string, number> = {};
    for (const r of results) {
      for (const s of r.samples ?? []) {
        if (s.name === PROM.consumptionPaused && s.value > 0 && s.labels.queue !== undefined)
          paused[s.labels.queue] = (paused[s.labels.queue] ?? 0) + 1;
        if (s.name === PROM.durabilityDegraded && s.value > 0) durability.degradedWorkers += 1;
        else if (s.name === PROM.heldAcks) durability.heldAcks += s.value;
        else if (s.name === PROM.replayRingBytes)
          durability.replayRingMiB = Math.max(durability.replayRingMiB, round2(s.value / 1_048_576));
      }
      for (const [queue, ms] of sumBy(r.samples ?? [], PROM.queueOldestAge, 'queue')) {
        queueAgeS[queue] = Math.max(queueAgeS[queue] ?? 0, round2(ms / 1000));
      }
      for (const s of r.samples ?? []) {
        if (s.name === PROM.queueDepth && s.labels.queue !== undefined) {
          workerDepth[s.labels.queue] = Math.max(workerDepth[s.labels.queue] ?? 0, s.value);
        }
      }
    }

    return {
      t,
      targets: results.map((r) => ({ url: r.url, up: r.up })),
      lag,
      throughput,
      errors: {
        redis: round2(sumRate('redis')),
        rejected: round2(sumRate('rejected')),
        deadLettered: round2(sumRate('deadLettered')),
        retries: round2(sumRate('retries')),
      },
      queueDepth: queues?.depth ?? workerDepth,
      dlqDepth: queues?.dlq ?? {},
      queueAgeS,
      hitRatio,
      originLoad,
      readers: readerResults.map((r) => ({ url: r.url, up: r.up })),
      durability,
      paused,
      ...(auditorResults.length === 0
        ? {}
        : {
            consistency: consistencyOf(auditorResults.flatMap((r) => r.samples ?? [])),
            auditors: auditorResults.map((r) => ({ url: r.url, up: r.up })),
          }),
    };
  }

  async #pollTarget(
    url: string,
    timeoutMs: number,
  ): Promise<{ url: string; up: boolean; report?: LagReport; samples?: Sample[] }> {
    try {
      const [lagRes, metricsRes] = await Promise.all([
        fetch(`${url}/lag.json?window=${this.#o.lagWindowSeconds}`, {
          headers: adminHeadersIfAny(),
          signal: AbortSignal.timeout(timeoutMs),
        }),
        fetch(`${url}/metrics`, { headers: adminHeadersIfAny(), signal: AbortSignal.timeout(timeoutMs) }),
      ]);
      const body: unknown = lagRes.ok ? await lagRes.json() : undefined;
      const text = metricsRes.ok ? await metricsRes.text() : undefined;
      return {
        url,
        up: lagRes.ok && metricsRes.ok,
        ...(isLagReport(body) ? { report: body } : {}),
        ...(text === undefined ? {} : { samples: parsePrometheusText(text) }),
      };
    } catch {
      return { url, up: false };
    }
  }

  /** A read-side process: only `/metrics` (it has no lag). */
  async #pollReader(
    url: string,
    timeoutMs: number,
  ): Promise<{ url: string; up: boolean; samples?: Sample[] }> {
    try {
      const res = await fetch(`${url}/metrics`, {
        headers: adminHeadersIfAny(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) return { url, up: false };
      return { url, up: true, samples: parsePrometheusText(await res.text()) };
    } catch {
      return { url, up: false };
    }
  }

  /** Queue attributes every 2 s at most (SQS is slower than the workers). */
  async #readQueues(): Promise<QueueDepths | undefined> {
    const reader = this.#o.queues;
    if (reader === undefined) return undefined;
    const now = this.#now();
    if (this.#queueDepths === undefined || now - this.#queueReadAt >= 2_000) {
      this.#queueReadAt = now;
      this.#queueDepths = await reader.read();
    }
    return this.#queueDepths;
  }
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/** Checks and inconsistent checks summed over the auditors, per `<family> <window>`. */
function consistencyOf(samples: readonly Sample[]): Record<string, ConsistencyPoint> {
  const counts = new Map<string, { checked: number; inconsistent: number }>();
  for (const s of samples) {
    const isChecks = s.name === PROM.auditChecks;
    if (!isChecks && s.name !== PROM.auditInconsistentChecks) continue;
    const key = `${s.labels.family ?? '?'} ${s.labels.window ?? '?'}`;
    const c = counts.get(key) ?? { checked: 0, inconsistent: 0 };
    if (isChecks) c.checked += s.value;
    else c.inconsistent += s.value;
    counts.set(key, c);
  }
  const out: Record<string, ConsistencyPoint> = {};
  for (const [key, { checked, inconsistent }] of counts) {
    if (checked <= 0) continue;
    out[key] = {
      checked,
      inconsistent,
      ratio: 1 - inconsistent / checked,
      nines: round2(inconsistent > 0 ? -Math.log10(inconsistent / checked) : Math.log10(checked)),
      lowerBound: inconsistent === 0,
    };
  }
  return out;
}
