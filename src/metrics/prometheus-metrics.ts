/**
 * `WorkerMetrics` (and `ReadSideMetrics`) on prom-client, with a registry of its own so
 * tests and several instances never share global state. The series are declared in one
 * table (prometheus-series.ts); this class maps the ports' calls onto them. Lag is exported twice: HDR
 * percentiles over a rolling window (exact, per worker) and a bucketed histogram (coarse,
 * but aggregatable across the fleet in PromQL).
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { FamilyName } from '../core/invalidation-plan.ts';
import type {
  DegradedAckReason,
  EventTimeline,
  ReplicationObservation,
  RetryKind,
  WorkerMetrics,
} from './worker-metrics.ts';

import { LagHistograms } from './lag-histograms.ts';
import { stageLags } from './lag-stages.ts';
import { QUANTILES, clampLag } from './lag-stats.ts';
import type { LagStats } from './lag-stats.ts';
import { PROM } from './prometheus-names.ts';
import { buildSeries, type SeriesSet } from './prometheus-series.ts';
import type { ReadSideMetrics, ReadTier, StaleReason } from '../client/read-side-metrics.ts';
import type { AdminMetrics } from '../admin/admin-metrics.ts';
import type { RefusalReason } from '../worker/admin-server.ts';
import type { ShadowMetrics, ShadowObservation } from '../worker/shadow-evaluator.ts';

const BREAKER_STATES = ['closed', 'open', 'half-open', 'isolated'] as const;
const REPLICATION_STATES = ['healthy', 'lagging', 'no-replica', 'unknown'] as const;

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
export class PrometheusMetrics implements WorkerMetrics, ReadSideMetrics, AdminMetrics, ShadowMetrics {
  readonly registry = new Registry();
  readonly lag: LagHistograms;
  readonly summaryWindowSeconds: number;

  /** Every series of the table in prometheus-series.ts. */
  readonly #m: SeriesSet;
  #lastRefresh = { written: 0, failed: 0 };
  #snapshot: { atMs: number; data: Snapshot } | undefined;

  constructor(options: PrometheusMetricsOptions = {}) {
    this.lag = options.lag ?? new LagHistograms();
    this.summaryWindowSeconds = options.summaryWindowSeconds ?? 60;
    if (options.defaultLabels !== undefined) this.registry.setDefaultLabels(options.defaultLabels);
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.#m = buildSeries(this.registry);
    const clamped = this.#m.clamped;
    this.lag.onClamp((stage, reason) => clamped.inc({ stage, reason: snake(reason) }));

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
  }

  eventApplied(timeline: EventTimeline): void {
    this.#m.events.inc({ family: timeline.family });
    const lags = stageLags(timeline);
    this.lag.recordLags(timeline.family, lags, timeline.tenant);
    this.#snapshot = undefined;
    for (const { stage, lagMs } of lags) {
      // The same clamp as /lag.json and CloudWatch: one year-old event must not own `_sum`.
      const { value, reason } = clampLag(lagMs);
      if (reason !== undefined)
        this.#m.bucketsClamped.inc({ family: timeline.family, stage, reason: snake(reason) });
      if (value !== undefined) this.#m.lagBuckets.observe({ family: timeline.family, stage }, value);
    }
  }
  keysDeleted(family: FamilyName, count: number): void {
    if (count > 0) this.#m.keys.inc({ family }, count);
  }
  adminRefused(reason: RefusalReason, route: string): void {
    this.#m.adminRefused.inc({ reason, route });
  }
  adminAction(action: string, result: string): void {
    this.#m.adminActions.inc({ action, result });
  }
  consumptionPaused(queue: string, paused: boolean): void {
    this.#m.consumptionPaused.set({ queue }, paused ? 1 : 0);
  }
  shadowCompared(observation: ShadowObservation): void {
    this.#m.shadowBatches.inc({ result: observation.result });
    for (const k of observation.keys) this.#m.shadowKeys.inc({ family: k.family, side: k.side }, k.count);
    for (const d of observation.decisions)
      this.#m.shadowDecisions.inc({ live: d.live, candidate: d.candidate });
  }
  rejected(queue: string, code: string): void {
    this.#m.rejected.inc({ queue, reason: code });
  }
  deadLettered(queue: string, code: string): void {
    this.#m.deadLettered.inc({ queue, reason: code });
  }
  retried(queue: string, kind: RetryKind, count: number): void {
    if (count > 0) this.#m.retries.inc({ queue, kind }, count);
  }
  redisError(kind: string): void {
    this.#m.redisErrors.inc({ kind });
  }
  waitShortfall(): void {
    this.#m.waitShortfalls.inc();
  }
  replayEscalated(families: readonly FamilyName[]): void {
    for (const family of families) this.#m.replayEscalations.inc({ family });
  }
  replayRing(observation: { bytes: number; effects: number }): void {
    this.#m.ringBytes.set(observation.bytes);
    this.#m.ringEffects.set(observation.effects);
  }
  replicationObserved(observation: ReplicationObservation): void {
    for (const state of REPLICATION_STATES)
      this.#m.replicationState.set({ state }, state === observation.state ? 1 : 0);
    this.#m.replicationReplicas.set(observation.replicas);
    this.#m.replicationLag.set(observation.lagMs);
    this.#m.durabilityDegraded.set(
      observation.state === 'lagging' || observation.state === 'no-replica' ? 1 : 0,
    );
  }
  heldAcks(count: number): void {
    this.#m.heldAcks.set(count);
  }
  heldAcksConfirmed(queue: string, count: number): void {
    this.#m.heldAcksConfirmed.inc({ queue }, count);
  }
  degradedAcks(queue: string, reason: DegradedAckReason, count: number): void {
    this.#m.degradedAcks.inc({ queue, reason }, count);
  }
  failoverReplayed(effects: number): void {
    this.#m.failoverReplays.inc();
    if (effects > 0) this.#m.failoverEffects.inc(effects);
  }
  queueObserved(queue: string, observation: { depth?: number; oldestAgeMs?: number }): void {
    if (observation.depth !== undefined) this.#m.queueDepth.set({ queue }, observation.depth);
    if (observation.oldestAgeMs !== undefined) this.#m.queueAge.set({ queue }, observation.oldestAgeMs);
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
    if (dw > 0) this.#m.refreshWritten.inc(dw);
    if (df > 0) this.#m.refreshFailed.inc(df);
    this.#lastRefresh = { written: progress.written, failed: progress.failed };
    this.#m.refreshPlanned.set(progress.total);
    this.#m.refreshProgress.set(
      progress.total > 0 ? (progress.written + progress.failed) / progress.total : 0,
    );
  }

  readSideHit(family: FamilyName, tier?: ReadTier): void {
    this.#m.hits.inc(tier === undefined ? { family } : { family, tier });
  }
  readSideMiss(family: FamilyName, missPenaltyMs: number): void {
    this.#m.misses.inc({ family });
    if (Number.isFinite(missPenaltyMs)) this.#m.missPenalty.observe({ family }, Math.max(0, missPenaltyMs));
  }
  originCall(family: FamilyName): void {
    this.#m.originCalls.inc({ family });
  }
  staleServed(family: FamilyName, ageMs: number, reason: StaleReason): void {
    this.#m.staleServed.inc({ family, reason });
    if (Number.isFinite(ageMs)) this.#m.staleAge.observe({ family }, Math.max(0, ageMs));
  }
  failSafeServed(family: FamilyName, ageMs: number): void {
    this.#m.failSafe.inc({ family });
    if (Number.isFinite(ageMs)) this.#m.staleAge.observe({ family }, Math.max(0, ageMs));
  }
  leaseWait(family: FamilyName, outcome: 'notified' | 'timeout'): void {
    this.#m.leaseWaits.inc({ family, outcome });
  }
  coalescedRead(family: FamilyName): void {
    this.#m.coalesced.inc({ family });
  }
  breakerState(family: FamilyName, state: (typeof BREAKER_STATES)[number]): void {
    for (const s of BREAKER_STATES) this.#m.breakerState.set({ family, state: s }, s === state ? 1 : 0);
  }
  l1Flush(reason: string): void {
    this.#m.l1Flushes.inc({ reason });
  }
  l1Size(entries: number, bytes: number): void {
    this.#m.l1Entries.set(entries);
    this.#m.l1Bytes.set(bytes);
  }
  pipelineWatermark(queue: string, ageMs: number): void {
    if (Number.isFinite(ageMs)) this.#m.pipelineWatermarkAge.set({ queue }, ageMs);
  }
  canaryPublished(topic: string, outcome: 'ok' | 'failed'): void {
    this.#m.canariesPublished.inc({ topic, outcome });
  }
  pipelineTrusted(family: FamilyName, trusted: boolean): void {
    this.#m.pipelineTrusted.set({ family }, trusted ? 1 : 0);
  }
  workerPresumedDead(): void {
    this.#m.workersPresumedDead.inc();
  }
  unverifiedRefetch(family: FamilyName): void {
    this.#m.unverifiedRefetches.inc({ family });
  }
  unverifiedServed(family: FamilyName, reason: 'budget-exhausted' | 'origin-failed'): void {
    this.#m.unverifiedServed.inc({ family, reason });
  }
  budgetExhausted(family: FamilyName, outcome: 'served-stale' | 'failed' | 'refresh-skipped'): void {
    this.#m.budgetExhausted.inc({ family, outcome });
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
