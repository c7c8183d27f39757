/**
 * `WorkerMetrics` (and `ReadSideMetrics`) on prom-client, with a registry of its own so
 * tests and several instances never share global state. Lag is exported twice: HDR
 * percentiles over a rolling window (exact, per worker) and a bucketed histogram (coarse,
 * but aggregatable across the fleet in PromQL).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FamilyName } from '../core/invalidation-plan.ts';
import type {
  DegradedAckReason,
  EventTimeline,
  ReplicationObservation,
  RetryKind,
  WorkerMetrics,
} from './worker-metrics.ts';

const REPLICATION_STATES = ['healthy', 'lagging', 'no-replica', 'unknown'] as const;
import { LagHistograms } from './lag-histograms.ts';
import { stageLags } from './lag-stages.ts';
import { QUANTILES, clampLag } from './lag-stats.ts';
import type { LagStats } from './lag-stats.ts';
import { LAG_BUCKETS_MS, MISS_PENALTY_BUCKETS_MS, PROM, STALE_AGE_BUCKETS_MS } from './prometheus-names.ts';
import type { ReadSideMetrics, ReadTier, StaleReason } from '../client/read-side-metrics.ts';

const BREAKER_STATES = ['closed', 'open', 'half-open', 'isolated'] as const;

/**
 * Samples clamped before they entered `invalidation_lag_distribution_ms`, per family, stage
 * and reason. Its own series because the HDR clamp counter counts whatever records into a
 * shared `LagHistograms`, and because this one says which family's `_sum` was bounded.
 */

export interface PrometheusMetricsOptions {
  /** Lag histograms to record into (shared with `/lag.json`). Default: a new one. */
  readonly lag?: LagHistograms;
  /** Window of the `invalidation_lag_ms` quantiles. Default 60 s. */
  readonly summaryWindowSeconds?: number;
  /** Labels added to every series (e.g. `{ service: 'cif-dev' }`). */
  readonly defaultLabels?: Record<string, string>;
  /** Also export prom-client's process metrics (event loop lag, heap, GC). Default false. */
  readonly processMetrics?: boolean;
}

type Snapshot = { family: string; stage: string; window: LagStats; totalCount: number }[];

/** Prometheus exporter of the worker's (and a read-side client's) metrics. */
export class PrometheusMetrics implements WorkerMetrics, ReadSideMetrics {
  readonly registry = new Registry();
  readonly lag: LagHistograms;
  readonly summaryWindowSeconds: number;

  readonly #events: Counter<'family'>;
  readonly #keys: Counter<'family'>;
  readonly #rejected: Counter<'queue' | 'reason'>;
  readonly #deadLettered: Counter<'queue' | 'reason'>;
  readonly #retries: Counter<'queue' | 'kind'>;
  readonly #redisErrors: Counter<'kind'>;
  readonly #waitShortfalls: Counter;
  readonly #failoverReplays: Counter;
  readonly #failoverEffects: Counter;
  readonly #replayEscalations: Counter<'family'>;
  readonly #ringBytes: Gauge;
  readonly #ringEffects: Gauge;
  readonly #replicationState: Gauge<'state'>;
  readonly #replicationReplicas: Gauge;
  readonly #replicationLag: Gauge;
  readonly #durabilityDegraded: Gauge;
  readonly #heldAcks: Gauge;
  readonly #heldAcksConfirmed: Counter<'queue'>;
  readonly #degradedAcks: Counter<'queue' | 'reason'>;
  readonly #refreshWritten: Counter;
  readonly #refreshFailed: Counter;
  readonly #refreshPlanned: Gauge;
  readonly #refreshProgress: Gauge;
  readonly #queueDepth: Gauge<'queue'>;
  readonly #queueAge: Gauge<'queue'>;
  readonly #lagBuckets: Histogram<'family' | 'stage'>;
  readonly #clamped: Counter<'stage' | 'reason'>;
  readonly #bucketsClamped: Counter<'family' | 'stage' | 'reason'>;
  readonly #hits: Counter<'family' | 'tier'>;
  readonly #staleServed: Counter<'family' | 'reason'>;
  readonly #staleAge: Histogram<'family'>;
  readonly #failSafe: Counter<'family'>;
  readonly #leaseWaits: Counter<'family' | 'outcome'>;
  readonly #coalesced: Counter<'family'>;
  readonly #breakerState: Gauge<'family' | 'state'>;
  readonly #l1Flushes: Counter<'reason'>;
  readonly #l1Entries: Gauge;
  readonly #l1Bytes: Gauge;
  readonly #misses: Counter<'family'>;
  readonly #missPenalty: Histogram<'family'>;
  readonly #originCalls: Counter<'family'>;
  #lastRefresh = { written: 0, failed: 0 };
  #snapshot: { atMs: number; data: Snapshot } | undefined;

  constructor(options: PrometheusMetricsOptions = {}) {
    this.lag = options.lag ?? new LagHistograms();
    this.summaryWindowSeconds = options.summaryWindowSeconds ?? 60;
    if (options.defaultLabels !== undefined) this.registry.setDefaultLabels(options.defaultLabels);
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];

    this.#events = new Counter({
      name: PROM.eventsProcessed,
      help: 'Events whose invalidation was confirmed',
      labelNames: ['family'],
      registers,
    });
    this.#keys = new Counter({
      name: PROM.keysDeleted,
      help: 'Cache keys deleted',
      labelNames: ['family'],
      registers,
    });
    this.#rejected = new Counter({
      name: PROM.rejected,
      help: 'Messages that failed validation, by error code',
      labelNames: ['queue', 'reason'],
      registers,
    });
    this.#deadLettered = new Counter({
      name: PROM.deadLettered,
      help: 'Messages sent to the dead-letter queue, by error code',
      labelNames: ['queue', 'reason'],
      registers,
    });
    this.#retries = new Counter({
      name: PROM.retries,
      help: 'Messages left to come back after a back-off, by cause',
      labelNames: ['queue', 'kind'],
      registers,
    });
    this.#redisErrors = new Counter({
      name: PROM.redisErrors,
      help: 'Redis command failures, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.#waitShortfalls = new Counter({
      name: PROM.waitShortfalls,
      help: 'WAIT calls that returned fewer replicas than required',
      registers,
    });
    this.#failoverReplays = new Counter({
      name: PROM.failoverReplays,
      help: 'Replays of recent effects after a Redis failover',
      registers,
    });
    this.#failoverEffects = new Counter({
      name: PROM.failoverReplayedEffects,
      help: 'Effects re-applied by failover replays',
      registers,
    });
    this.#replayEscalations = new Counter({
      name: PROM.replayEscalations,
      help: 'Families purged because the replay ring dropped effects a failover replay needed',
      labelNames: ['family'],
      registers,
    });
    this.#ringBytes = new Gauge({
      name: PROM.replayRingBytes,
      help: 'Estimated bytes held by the failover replay ring',
      registers,
    });
    this.#ringEffects = new Gauge({
      name: PROM.replayRingEffects,
      help: 'Effects held by the failover replay ring',
      registers,
    });
    this.#replicationState = new Gauge({
      name: PROM.replicationState,
      help: 'Replication as last sampled: 1 for the current state (healthy, lagging, no-replica, unknown)',
      labelNames: ['state'],
      registers,
    });
    this.#replicationReplicas = new Gauge({
      name: PROM.replicationReplicas,
      help: 'Online replicas of the worst primary',
      registers,
    });
    this.#replicationLag = new Gauge({
      name: PROM.replicationLag,
      help: 'Largest replica lag reported by the primaries (whole seconds, in ms)',
      registers,
    });
    this.#durabilityDegraded = new Gauge({
      name: PROM.durabilityDegraded,
      help: '1 while critical deletes cannot be confirmed on a replica (lagging or no replica)',
      registers,
    });
    this.#heldAcks = new Gauge({
      name: PROM.heldAcks,
      help: 'Applied critical messages whose ack waits for a replica',
      registers,
    });
    this.#heldAcksConfirmed = new Counter({
      name: PROM.heldAcksConfirmed,
      help: 'Held messages acked once a replica confirmed them',
      labelNames: ['queue'],
      registers,
    });
    this.#degradedAcks = new Counter({
      name: PROM.degradedAcks,
      help: 'Critical messages acked without replica confirmation, by reason',
      labelNames: ['queue', 'reason'],
      registers,
    });
    this.#refreshWritten = new Counter({
      name: PROM.refreshKeysWritten,
      help: 'Review refresh: keys written',
      registers,
    });
    this.#refreshFailed = new Counter({
      name: PROM.refreshKeysFailed,
      help: 'Review refresh: keys that failed',
      registers,
    });
    this.#refreshPlanned = new Gauge({
      name: PROM.refreshKeysPlanned,
      help: 'Review refresh: keys in the current run',
      registers,
    });
    this.#refreshProgress = new Gauge({
      name: PROM.refreshProgress,
      help: 'Review refresh: (written + failed) / planned of the current run',
      registers,
    });
    this.#queueDepth = new Gauge({
      name: PROM.queueDepth,
      help: 'Approximate messages waiting, per queue (last observation)',
      labelNames: ['queue'],
      registers,
    });
    this.#queueAge = new Gauge({
      name: PROM.queueOldestAge,
      help: 'Age of the oldest message seen, per queue, in ms (last observation)',
      labelNames: ['queue'],
      registers,
    });
    this.#lagBuckets = new Histogram({
      name: PROM.lagHistogram,
      help: 'Invalidation lag per family and stage, in ms (bucketed; aggregate across workers)',
      labelNames: ['family', 'stage'],
      buckets: LAG_BUCKETS_MS,
      registers,
    });
    this.#clamped = new Counter({
      name: PROM.lagClamped,
      help: 'Lag samples clamped: negative (clock skew), too_large (over an hour) or invalid',
      labelNames: ['stage', 'reason'],
      registers,
    });
    this.lag.onClamp((stage, reason) => this.#clamped.inc({ stage, reason: snake(reason) }));
    this.#bucketsClamped = new Counter({
      name: PROM.lagDistributionClamped,
      help: `Samples clamped before ${PROM.lagHistogram}: negative (recorded as 0), too_large (recorded as 1 h) or invalid (dropped)`,
      labelNames: ['family', 'stage', 'reason'],
      registers,
    });

    // Summary-like exports of the HDR window, computed at scrape time from one snapshot.
    const snapshot = (): Snapshot => this.#lagSnapshot();
    new Gauge({
      name: PROM.lag,
      help: `Invalidation lag percentiles (HDR) over the last ${this.summaryWindowSeconds} s, in ms`,
      labelNames: ['family', 'stage', 'quantile'],
      registers,
      collect() {
        this.reset();
        for (const s of snapshot()) {
          if (s.window.count === 0) continue;
          for (const { key, quantile } of QUANTILES) {
            this.set({ family: s.family, stage: s.stage, quantile: String(quantile) }, s.window[key]);
          }
        }
      },
    });
    new Gauge({
      name: PROM.lagCount,
      help: 'Lag samples recorded since start',
      labelNames: ['family', 'stage'],
      registers,
      collect() {
        this.reset();
        for (const s of snapshot()) this.set({ family: s.family, stage: s.stage }, s.totalCount);
      },
    });
    new Gauge({
      name: PROM.lagMax,
      help: `Largest invalidation lag over the last ${this.summaryWindowSeconds} s, in ms`,
      labelNames: ['family', 'stage'],
      registers,
      collect() {
        this.reset();
        for (const s of snapshot()) {
          if (s.window.count > 0) this.set({ family: s.family, stage: s.stage }, s.window.max);
        }
      },
    });

    this.#hits = new Counter({
      name: PROM.readHits,
      help: 'Cache reads served from cache, by tier (l1, l2)',
      labelNames: ['family', 'tier'],
      registers,
    });
    this.#misses = new Counter({
      name: PROM.readMisses,
      help: 'Cache reads that missed',
      labelNames: ['family'],
      registers,
    });
    this.#missPenalty = new Histogram({
      name: PROM.missPenalty,
      help: 'Latency added by a cache miss, in ms',
      labelNames: ['family'],
      buckets: MISS_PENALTY_BUCKETS_MS,
      registers,
    });
    this.#originCalls = new Counter({
      name: PROM.originCalls,
      help: 'Calls to the origin',
      labelNames: ['family'],
      registers,
    });
    const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> =>
      new Counter({ name, help, labelNames, registers });
    this.#staleServed = counter(PROM.staleServed, 'Stale values served', ['family', 'reason']);
    this.#staleAge = new Histogram({
      name: PROM.staleAge,
      help: 'Age of stale and fail-safe values served, in ms',
      labelNames: ['family'],
      buckets: STALE_AGE_BUCKETS_MS,
      registers,
    });
    this.#failSafe = counter(PROM.failSafeServed, 'Stale values served because the origin failed', [
      'family',
    ]);
    this.#leaseWaits = counter(PROM.leaseWaits, "Waits on another reader's fill lease", [
      'family',
      'outcome',
    ]);
    this.#coalesced = counter(PROM.coalescedReads, 'Reads that joined a local read in flight', ['family']);
    this.#breakerState = new Gauge({
      name: PROM.breakerState,
      help: "State of each family's origin breaker (1 = current)",
      labelNames: ['family', 'state'],
      registers,
    });
    this.#l1Flushes = counter(PROM.l1Flushes, 'L1 flushes by reason', ['reason']);
    this.#l1Entries = new Gauge({ name: PROM.l1Entries, help: 'L1 entries', registers });
    this.#l1Bytes = new Gauge({ name: PROM.l1Bytes, help: 'L1 size in bytes (approximate)', registers });
  }

  eventApplied(timeline: EventTimeline): void {
    this.#events.inc({ family: timeline.family });
    const lags = stageLags(timeline);
    this.lag.recordLags(timeline.family, lags, timeline.tenant);
    this.#snapshot = undefined;
    for (const { stage, lagMs } of lags) {
      // The same clamp as /lag.json and CloudWatch: one year-old event must not own `_sum`.
      const { value, reason } = clampLag(lagMs);
      if (reason !== undefined)
        this.#bucketsClamped.inc({ family: timeline.family, stage, reason: snake(reason) });
      if (value !== undefined) this.#lagBuckets.observe({ family: timeline.family, stage }, value);
    }
  }
  keysDeleted(family: FamilyName, count: number): void {
    if (count > 0) this.#keys.inc({ family }, count);
  }
  rejected(queue: string, code: string): void {
    this.#rejected.inc({ queue, reason: code });
  }
  deadLettered(queue: string, code: string): void {
    this.#deadLettered.inc({ queue, reason: code });
  }
  retried(queue: string, kind: RetryKind, count: number): void {
    if (count > 0) this.#retries.inc({ queue, kind }, count);
  }
  redisError(kind: string): void {
    this.#redisErrors.inc({ kind });
  }
  waitShortfall(): void {
    this.#waitShortfalls.inc();
  }
  replayEscalated(families: readonly FamilyName[]): void {
    for (const family of families) this.#replayEscalations.inc({ family });
  }
  replayRing(observation: { bytes: number; effects: number }): void {
    this.#ringBytes.set(observation.bytes);
    this.#ringEffects.set(observation.effects);
  }
  replicationObserved(observation: ReplicationObservation): void {
    for (const state of REPLICATION_STATES)
      this.#replicationState.set({ state }, state === observation.state ? 1 : 0);
    this.#replicationReplicas.set(observation.replicas);
    this.#replicationLag.set(observation.lagMs);
    this.#durabilityDegraded.set(
      observation.state === 'lagging' || observation.state === 'no-replica' ? 1 : 0,
    );
  }
  heldAcks(count: number): void {
    this.#heldAcks.set(count);
  }
  heldAcksConfirmed(queue: string, count: number): void {
    this.#heldAcksConfirmed.inc({ queue }, count);
  }
  degradedAcks(queue: string, reason: DegradedAckReason, count: number): void {
    this.#degradedAcks.inc({ queue, reason }, count);
  }
  failoverReplayed(effects: number): void {
    this.#failoverReplays.inc();
    if (effects > 0) this.#failoverEffects.inc(effects);
  }
  queueObserved(queue: string, observation: { depth?: number; oldestAgeMs?: number }): void {
    if (observation.depth !== undefined) this.#queueDepth.set({ queue }, observation.depth);
    if (observation.oldestAgeMs !== undefined) this.#queueAge.set({ queue }, observation.oldestAgeMs);
  }
  /**
   * `written`/`failed` are the current run's running totals: counters advance by the
   * difference; a smaller value than last time starts a new run.
   */
  refreshProgress(progress: { written: number; failed: number; total: number }): void {
    const dw =
      progress.written >= this.#lastRefresh.written
        ? progress.written - this.#lastRefresh.written
        : progress.written;
    const df =
      progress.failed >= this.#lastRefresh.failed
        ? progress.failed - this.#lastRefresh.failed
        : progress.failed;
    if (dw > 0) this.#refreshWritten.inc(dw);
    if (df > 0) this.#refreshFailed.inc(df);
    this.#lastRefresh = { written: progress.written, failed: progress.failed };
    this.#refreshPlanned.set(progress.total);
    this.#refreshProgress.set(progress.total > 0 ? (progress.written + progress.failed) / progress.total : 0);
  }

  readSideHit(family: FamilyName, tier?: ReadTier): void {
    this.#hits.inc(tier === undefined ? { family } : { family, tier });
  }
  readSideMiss(family: FamilyName, missPenaltyMs: number): void {
    this.#misses.inc({ family });
    if (Number.isFinite(missPenaltyMs)) this.#missPenalty.observe({ family }, Math.max(0, missPenaltyMs));
  }
  originCall(family: FamilyName): void {
    this.#originCalls.inc({ family });
  }
  staleServed(family: FamilyName, ageMs: number, reason: StaleReason): void {
    this.#staleServed.inc({ family, reason });
    if (Number.isFinite(ageMs)) this.#staleAge.observe({ family }, Math.max(0, ageMs));
  }
  failSafeServed(family: FamilyName, ageMs: number): void {
    this.#failSafe.inc({ family });
    if (Number.isFinite(ageMs)) this.#staleAge.observe({ family }, Math.max(0, ageMs));
  }
  leaseWait(family: FamilyName, outcome: 'notified' | 'timeout'): void {
    this.#leaseWaits.inc({ family, outcome });
  }
  coalescedRead(family: FamilyName): void {
    this.#coalesced.inc({ family });
  }
  breakerState(family: FamilyName, state: (typeof BREAKER_STATES)[number]): void {
    for (const s of BREAKER_STATES) this.#breakerState.set({ family, state: s }, s === state ? 1 : 0);
  }
  l1Flush(reason: string): void {
    this.#l1Flushes.inc({ reason });
  }
  l1Size(entries: number, bytes: number): void {
    this.#l1Entries.set(entries);
    this.#l1Bytes.set(bytes);
  }

  /** The Prometheus text exposition. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  // The three lag gauges of one scrape share a snapshot; a new sample invalidates it.
  #lagSnapshot(): Snapshot {
    const now = Date.now();
    if (this.#snapshot !== undefined && now - this.#snapshot.atMs < 250) return this.#snapshot.data;
    const data = this.lag.series().map(({ family, stage }) => ({
      family,
      stage,
      window: this.lag.windowStats(family, stage, this.summaryWindowSeconds * 1000),
      totalCount: this.lag.totalStats(family, stage).count,
    }));
    this.#snapshot = { atMs: now, data };
    return data;
  }
}

const snake = (reason: string): string => reason.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
