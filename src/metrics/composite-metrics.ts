/**
 * Fan-out of the metrics ports to several exporters (Prometheus and EMF), and the factory
 * the worker uses to build its metrics. A failing exporter is reported and skipped: metrics
 * must never fail an invalidation.
 */
import { hostname } from 'node:os';
import type { FamilyName } from '../core/invalidation-plan.ts';
import type {
  DegradedAckReason,
  EventTimeline,
  ReplicationObservation,
  RetryKind,
  WorkerMetrics,
} from './worker-metrics.ts';
import { EmfEmitter } from './emf-emitter.ts';
import type { LineSink } from './emf-emitter.ts';
import { PrometheusMetrics } from './prometheus-metrics.ts';
import type { ReadSideMetrics } from '../client/read-side-metrics.ts';

/** An exporter: the worker port, and the read-side methods when it has them. */
export type MetricsSink = WorkerMetrics & Partial<ReadSideMetrics>;

/** Calls every sink in turn; an exception in one is passed to `onError` and the rest still run. */
export class CompositeMetrics implements WorkerMetrics, ReadSideMetrics {
  readonly #sinks: readonly MetricsSink[];
  readonly #onError: (err: unknown, method: string) => void;

  constructor(
    sinks: readonly MetricsSink[],
    onError: (err: unknown, method: string) => void = () => undefined,
  ) {
    this.#sinks = sinks;
    this.#onError = onError;
  }

  #each(method: string, call: (sink: MetricsSink) => void): void {
    for (const sink of this.#sinks) {
      try {
        call(sink);
      } catch (err) {
        this.#onError(err, method);
      }
    }
  }

  eventApplied(timeline: EventTimeline): void {
    this.#each('eventApplied', (s) => s.eventApplied(timeline));
  }
  keysDeleted(family: FamilyName, count: number): void {
    this.#each('keysDeleted', (s) => s.keysDeleted(family, count));
  }
  rejected(queue: string, code: string): void {
    this.#each('rejected', (s) => s.rejected(queue, code));
  }
  deadLettered(queue: string, code: string): void {
    this.#each('deadLettered', (s) => s.deadLettered(queue, code));
  }
  retried(queue: string, kind: RetryKind, count: number): void {
    this.#each('retried', (s) => s.retried(queue, kind, count));
  }
  redisError(kind: string): void {
    this.#each('redisError', (s) => s.redisError(kind));
  }
  waitShortfall(): void {
    this.#each('waitShortfall', (s) => s.waitShortfall());
  }
  failoverReplayed(effects: number): void {
    this.#each('failoverReplayed', (s) => s.failoverReplayed(effects));
  }
  replayEscalated(families: readonly FamilyName[]): void {
    this.#each('replayEscalated', (s) => s.replayEscalated(families));
  }
  replayRing(observation: { bytes: number; effects: number }): void {
    this.#each('replayRing', (s) => s.replayRing(observation));
  }
  replicationObserved(observation: ReplicationObservation): void {
    this.#each('replicationObserved', (s) => s.replicationObserved(observation));
  }
  heldAcks(count: number): void {
    this.#each('heldAcks', (s) => s.heldAcks(count));
  }
  heldAcksConfirmed(queue: string, count: number): void {
    this.#each('heldAcksConfirmed', (s) => s.heldAcksConfirmed(queue, count));
  }
  degradedAcks(queue: string, reason: DegradedAckReason, count: number): void {
    this.#each('degradedAcks', (s) => s.degradedAcks(queue, reason, count));
  }
  queueObserved(queue: string, observation: { depth?: number; oldestAgeMs?: number }): void {
    this.#each('queueObserved', (s) => s.queueObserved(queue, observation));
  }
  refreshProgress(progress: { written: number; failed: number; total: number }): void {
    this.#each('refreshProgress', (s) => s.refreshProgress(progress));
  }
  readSideHit(family: FamilyName): void {
    this.#each('readSideHit', (s) => s.readSideHit?.(family));
  }
  readSideMiss(family: FamilyName, missPenaltyMs: number): void {
    this.#each('readSideMiss', (s) => s.readSideMiss?.(family, missPenaltyMs));
  }
  originCall(family: FamilyName): void {
    this.#each('originCall', (s) => s.originCall?.(family));
  }
}

export interface FleetMetricsOptions {
  /** `Service` dimension of the EMF metrics (WORKER_METRICS_SERVICE). */
  readonly service: string;
  /** Where EMF lines go; omit to export Prometheus only (local runs). */
  readonly emfOut?: LineSink;
  readonly emfFlushIntervalMs?: number;
  /** Identifies this worker in `/lag.json`. Default `hostname:pid`. */
  readonly instance?: string;
  readonly processMetrics?: boolean;
  readonly onError?: (err: unknown, method: string) => void;
}

/** The worker's metrics: Prometheus (always) and EMF (when `emfOut` is given). */
export interface FleetMetrics {
  /** What the worker calls. */
  readonly metrics: CompositeMetrics;
  /** What `registerMetricsRoutes` serves. */
  readonly prometheus: PrometheusMetrics;
  readonly emf: EmfEmitter | undefined;
  readonly instance: string;
  /** Flushes the EMF emitter a last time; idempotent. */
  close(): void;
}

/** Builds the worker's metrics from its configuration. */
export function createFleetMetrics(options: FleetMetricsOptions): FleetMetrics {
  const prometheus = new PrometheusMetrics({ processMetrics: options.processMetrics ?? false });
  const emf =
    options.emfOut === undefined
      ? undefined
      : new EmfEmitter({
          out: options.emfOut,
          service: options.service,
          ...(options.emfFlushIntervalMs === undefined
            ? {}
            : { flushIntervalMs: options.emfFlushIntervalMs }),
          ...(options.onError === undefined ? {} : { onError: (e: unknown) => options.onError?.(e, 'emf') }),
        });
  const metrics = new CompositeMetrics(emf === undefined ? [prometheus] : [prometheus, emf], options.onError);
  return {
    metrics,
    prometheus,
    emf,
    instance: options.instance ?? `${hostname()}:${process.pid}`,
    close: () => emf?.close(),
  };
}
