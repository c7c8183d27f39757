/**
 * `WorkerMetrics` as CloudWatch embedded metric format (EMF) lines: what ECS ships from
 * stdout to CloudWatch Logs, which extracts the metrics. Values accumulate in memory and
 * are flushed every `flushIntervalMs` as a few JSON lines:
 *
 * - per family, dimension set [Service, Family]: the lag of each stage (arrays of values),
 *   EventsProcessed, KeysDeleted;
 * - per worker, dimension set [Service]: rejects, dead letters, retries, Redis errors, WAIT
 *   shortfalls, failover replays, refresh keys, clamped lag samples (zeros included, so
 *   the alarms always have data), with per-reason breakdowns as plain (non-metric) members.
 *
 * Lag values follow the specification: a metric target is a number or an array of at most
 * 100 numbers. Up to `maxLagValuesPerFlush` samples are written as they were recorded
 * (across several documents of 100); beyond that, that many evenly spaced quantiles of the
 * interval's HDR histogram stand for the samples (the last one is the exact maximum), so
 * CloudWatch percentiles stay right while SampleCount is capped (EventsProcessed counts).
 */
import type { Histogram, JsHistogram } from 'hdr-histogram-js';
import type { FamilyName } from '../core/invalidation-plan.ts';
import { CLOUDWATCH_NAMESPACE, DIMENSION_FAMILY, DIMENSION_SERVICE, METRICS } from '../core/metric-names.ts';
import type { MetricName } from '../core/metric-names.ts';
import type {
  DegradedAckReason,
  EventTimeline,
  ReplicationObservation,
  RetryKind,
  WorkerMetrics,
} from './worker-metrics.ts';
import { stageLags } from './lag-stages.ts';
import type { LagStage } from './lag-stages.ts';
import { clampLag, newLagHistogram } from './lag-stats.ts';

/** The EMF metric of each lag stage. */
export const EMF_LAG_METRICS: Readonly<Record<LagStage, MetricName>> = {
  origin_to_delete: METRICS.lagDeleteMs,
  origin_to_broadcast: METRICS.lagBroadcastMs,
  publish_to_delete: METRICS.lagFromPublishMs,
  sent_to_delete: METRICS.lagFromSentMs,
  receive_to_delete: METRICS.lagFromReceiveMs,
};

/** Values per metric array, from the specification. */
export const EMF_MAX_VALUES_PER_ARRAY = 100;

/** Where lines go: `process.stdout` or anything with `write`. */
export interface LineSink {
  write(chunk: string): unknown;
}

export interface EmfEmitterOptions {
  readonly out: LineSink;
  /** Value of the `Service` dimension (the stack passes WORKER_METRICS_SERVICE). */
  readonly service: string;
  /** Default 10 000 ms. 0 disables the timer (call `flush()` yourself). */
  readonly flushIntervalMs?: number;
  /** Lag samples per metric per flush written individually. Default 300 (3 documents). */
  readonly maxLagValuesPerFlush?: number;
  /** Clock, ms since epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Called when writing fails (metrics must never break the worker). */
  readonly onError?: (err: unknown) => void;
}

interface FamilyAccumulator {
  events: number;
  keys: number;
  readonly lag: Map<LagStage, Histogram>;
}

type ServiceCounter =
  | 'rejected'
  | 'deadLettered'
  | 'retries'
  | 'redisErrors'
  | 'waitShortfalls'
  | 'failoverReplays'
  | 'replayEscalations'
  | 'degradedAcks'
  | 'durabilityDegraded'
  | 'refreshKeys'
  | 'refreshFailures'
  | 'lagSamplesClamped';
const SERVICE_COUNTERS: readonly ServiceCounter[] = [
  'rejected',
  'deadLettered',
  'retries',
  'redisErrors',
  'waitShortfalls',
  'failoverReplays',
  'replayEscalations',
  'degradedAcks',
  'durabilityDegraded',
  'refreshKeys',
  'refreshFailures',
  'lagSamplesClamped',
];

type EmfDocument = Record<string, unknown>;

/** Writes the worker's metrics as EMF lines. */
export class EmfEmitter implements WorkerMetrics {
  readonly #out: LineSink;
  readonly #service: string;
  readonly #maxLagValues: number;
  readonly #now: () => number;
  readonly #onError: (err: unknown) => void;
  readonly #timer: NodeJS.Timeout | undefined;
  #families = new Map<string, FamilyAccumulator>();
  #counters = zeroCounters();
  #reasons = new Map<string, Map<string, number>>();
  #lastRefresh = { written: 0, failed: 0 };
  #closed = false;

  constructor(options: EmfEmitterOptions) {
    this.#out = options.out;
    this.#service = options.service;
    this.#maxLagValues = Math.max(1, options.maxLagValuesPerFlush ?? 300);
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => undefined);
    const every = options.flushIntervalMs ?? 10_000;
    if (every > 0) {
      this.#timer = setInterval(() => this.flush(), every);
      this.#timer.unref();
    }
  }

  eventApplied(timeline: EventTimeline): void {
    const acc = this.#family(timeline.family);
    acc.events += 1;
    for (const { stage, lagMs } of stageLags(timeline)) {
      // The one clamp of lag-stats.ts, as /lag.json and Prometheus use it.
      const clamped = clampLag(lagMs);
      if (clamped.reason !== undefined) this.#counters.lagSamplesClamped += 1;
      if (clamped.value === undefined) continue;
      let h = acc.lag.get(stage);
      if (h === undefined) {
        // Plain, not packed: 20 histograms of 54 KB at most, and records 5-6 times faster.
        h = newLagHistogram(false);
        acc.lag.set(stage, h);
      }
      h.recordValue(clamped.value);
    }
  }
  keysDeleted(family: FamilyName, count: number): void {
    if (count > 0) this.#family(family).keys += count;
  }
  rejected(queue: string, code: string): void {
    this.#count('rejected', 1, `${queue}:${code}`);
  }
  deadLettered(queue: string, code: string): void {
    this.#count('deadLettered', 1, `${queue}:${code}`);
  }
  retried(queue: string, kind: RetryKind, count: number): void {
    this.#count('retries', count, `${queue}:${kind}`);
  }
  redisError(kind: string): void {
    this.#count('redisErrors', 1, kind);
  }
  waitShortfall(): void {
    this.#counters.waitShortfalls += 1;
  }
  failoverReplayed(_effects: number): void {
    this.#counters.failoverReplays += 1;
  }
  replayEscalated(families: readonly FamilyName[]): void {
    this.#counters.replayEscalations += families.length;
  }
  /** Not exported to CloudWatch: a per-task memory figure, seen on the local dashboard. */
  replayRing(_observation: { bytes: number; effects: number }): void {}
  replicationObserved(observation: ReplicationObservation): void {
    if (observation.state === 'lagging' || observation.state === 'no-replica')
      this.#counters.durabilityDegraded += 1;
  }
  /** Not exported to CloudWatch: DegradedAcks and DurabilityDegradedSamples carry the alarm. */
  heldAcks(_count: number): void {}
  heldAcksConfirmed(_queue: string, _count: number): void {}
  degradedAcks(_queue: string, _reason: DegradedAckReason, count: number): void {
    this.#counters.degradedAcks += count;
  }
  /** Not exported to CloudWatch: SQS publishes depth and oldest-message age itself. */
  queueObserved(_queue: string, _observation: { depth?: number; oldestAgeMs?: number }): void {}
  refreshProgress(progress: { written: number; failed: number; total: number }): void {
    const last = this.#lastRefresh;
    this.#counters.refreshKeys +=
      progress.written >= last.written ? progress.written - last.written : progress.written;
    this.#counters.refreshFailures +=
      progress.failed >= last.failed ? progress.failed - last.failed : progress.failed;
    this.#lastRefresh = { written: progress.written, failed: progress.failed };
  }

  /** Writes what accumulated since the last flush and starts a new interval. */
  flush(): void {
    const docs = this.drain();
    try {
      for (const d of docs) this.#out.write(`${JSON.stringify(d)}\n`);
    } catch (err) {
      this.#onError(err);
    }
  }

  /** The documents of the interval so far (and resets it); `flush()` writes them. */
  drain(): EmfDocument[] {
    const timestamp = Math.floor(this.#now());
    const docs: EmfDocument[] = [];
    for (const [family, acc] of [...this.#families].sort(([a], [b]) => a.localeCompare(b))) {
      docs.push(...this.#familyDocuments(timestamp, family, acc));
    }
    docs.push(this.#serviceDocument(timestamp));
    this.#families = new Map();
    this.#counters = zeroCounters();
    this.#reasons = new Map();
    return docs;
  }

  /** Stops the timer and writes a last flush; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.flush();
  }

  #familyDocuments(timestamp: number, family: string, acc: FamilyAccumulator): EmfDocument[] {
    const chunksByMetric: [MetricName, number[][]][] = [];
    for (const [stage, h] of acc.lag) {
      chunksByMetric.push([
        EMF_LAG_METRICS[stage],
        chunk(emfValues(h, this.#maxLagValues), EMF_MAX_VALUES_PER_ARRAY),
      ]);
    }
    const docCount = Math.max(1, ...chunksByMetric.map(([, c]) => c.length));
    const docs: EmfDocument[] = [];
    for (let i = 0; i < docCount; i += 1) {
      const members: Record<string, number | number[]> = {};
      const defs: MetricDefinition[] = [];
      if (i === 0) {
        members[METRICS.eventsProcessed] = acc.events;
        members[METRICS.keysDeleted] = acc.keys;
        defs.push(countDef(METRICS.eventsProcessed), countDef(METRICS.keysDeleted));
      }
      for (const [name, chunks] of chunksByMetric) {
        const values = chunks[i];
        if (values === undefined) continue;
        members[name] = values;
        defs.push({ Name: name, Unit: 'Milliseconds', StorageResolution: 1 });
      }
      docs.push({
        _aws: this.#metadata(timestamp, [DIMENSION_SERVICE, DIMENSION_FAMILY], defs),
        [DIMENSION_SERVICE]: this.#service,
        [DIMENSION_FAMILY]: family,
        ...members,
      });
    }
    return docs;
  }

  #serviceDocument(timestamp: number): EmfDocument {
    const members: Record<string, unknown> = {};
    for (const c of SERVICE_COUNTERS) members[METRICS[c]] = this.#counters[c];
    // Breakdowns travel as plain members: visible in Logs Insights, no extra metrics.
    for (const [counter, byReason] of this.#reasons)
      members[`${counter}ByReason`] = Object.fromEntries(byReason);
    return {
      _aws: this.#metadata(
        timestamp,
        [DIMENSION_SERVICE],
        SERVICE_COUNTERS.map((c) => countDef(METRICS[c])),
      ),
      [DIMENSION_SERVICE]: this.#service,
      ...members,
    };
  }

  #metadata(timestamp: number, dimensions: string[], metrics: MetricDefinition[]): Record<string, unknown> {
    return {
      Timestamp: timestamp,
      CloudWatchMetrics: [{ Namespace: CLOUDWATCH_NAMESPACE, Dimensions: [dimensions], Metrics: metrics }],
    };
  }

  #family(family: string): FamilyAccumulator {
    let acc = this.#families.get(family);
    if (acc === undefined) {
      acc = { events: 0, keys: 0, lag: new Map() };
      this.#families.set(family, acc);
    }
    return acc;
  }

  #count(counter: ServiceCounter, n: number, reason: string): void {
    if (n <= 0) return;
    this.#counters[counter] += n;
    let byReason = this.#reasons.get(counter);
    if (byReason === undefined) {
      byReason = new Map();
      this.#reasons.set(counter, byReason);
    }
    byReason.set(reason, (byReason.get(reason) ?? 0) + n);
  }
}

interface MetricDefinition {
  readonly Name: string;
  readonly Unit: 'Milliseconds' | 'Count';
  readonly StorageResolution: 1 | 60;
}

const countDef = (name: string): MetricDefinition => ({ Name: name, Unit: 'Count', StorageResolution: 1 });

function zeroCounters(): Record<ServiceCounter, number> {
  return Object.fromEntries(SERVICE_COUNTERS.map((c) => [c, 0])) as Record<ServiceCounter, number>;
}

/**
 * The values standing for `h`'s samples: each sample (at HDR precision) when there are at
 * most `max`, else `max` evenly spaced quantiles with the exact maximum last.
 */
export function emfValues(h: Histogram, max: number): number[] {
  const n = h.totalCount;
  if (n === 0) return [];
  if (n <= max) {
    const values: number[] = [];
    const it = (h as JsHistogram).recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      for (let i = 0; i < v.countAtValueIteratedTo; i += 1) values.push(v.valueIteratedTo);
    }
    return values;
  }
  const values: number[] = [];
  for (let i = 0; i < max - 1; i += 1) values.push(h.getValueAtPercentile((100 * (i + 0.5)) / max));
  values.push(h.maxValue);
  return values;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
