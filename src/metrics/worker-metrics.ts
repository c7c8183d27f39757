/**
 * What the worker reports, as a port: the batch pipeline calls these methods and knows
 * nothing of Prometheus, HDR histograms or CloudWatch. The rest of `src/metrics/` implements
 * it. The refresh reports through its own narrow port (src/refresh/refresh-progress.ts),
 * which a WorkerMetrics satisfies.
 */
import type { FamilyName } from '../core/invalidation-plan.ts';

/** Timestamps of one applied event, ms since epoch (absent when unknown). */
export interface EventTimeline {
  readonly family: FamilyName;
  readonly tenant: string;
  readonly queue: string;
  /** When the change happened at the origin (the event's `occurredAt`). */
  readonly originAtMs: number;
  /** When SNS accepted the publish (SNS envelope `Timestamp`), if known. */
  readonly snsPublishedAtMs?: number | undefined;
  /** When SQS accepted the message (`SentTimestamp`), if known. */
  readonly sqsSentAtMs?: number | undefined;
  /** When this worker received the batch. */
  readonly receivedAtMs: number;
  /** When Redis confirmed every delete of the batch (after WAIT for critical families). */
  readonly deleteConfirmedAtMs: number;
  /** When the L1 broadcast was published (Redis server time), if there was one. */
  readonly broadcastAtMs?: number | undefined;
}

export type RetryKind = 'redis-error' | 'wait-shortfall' | 'deadline-exceeded' | 'dead-letter-failed';

/** Why critical deletes were acked without a replica's confirmation (held-acks.ts). */
export type DegradedAckReason = 'no-replica' | 'hold-expired' | 'hold-full';

/** Replication as sampled by the worker (replication-health.ts). */
export interface ReplicationObservation {
  readonly state: 'healthy' | 'lagging' | 'no-replica' | 'unknown';
  readonly replicas: number;
  readonly lagMs: number;
}

export interface WorkerMetrics {
  /** One event's effects are confirmed: record its lag at every stage. */
  eventApplied(timeline: EventTimeline): void;
  keysDeleted(family: FamilyName, count: number): void;
  /** A message failed validation (it is then dead-lettered). */
  rejected(queue: string, code: string): void;
  deadLettered(queue: string, code: string): void;
  /** Messages left to come back after a back-off. */
  retried(queue: string, kind: RetryKind, count: number): void;
  redisError(kind: string): void;
  waitShortfall(): void;
  failoverReplayed(effects: number): void;
  /** A replay found the ring incomplete and purged these families. */
  replayEscalated(families: readonly FamilyName[]): void;
  /** What the replay ring holds now. */
  replayRing(observation: { bytes: number; effects: number }): void;
  /** A replication sample (healthy, lagging, no-replica, unknown). */
  replicationObserved(observation: ReplicationObservation): void;
  /** Messages whose ack currently waits for a replica. */
  heldAcks(count: number): void;
  /** Held messages acked once a replica confirmed them. */
  heldAcksConfirmed(queue: string, count: number): void;
  /** Critical messages acked without a replica's confirmation (durability degraded). */
  degradedAcks(queue: string, reason: DegradedAckReason, count: number): void;
  /** Queue depth and the age of the oldest message seen, per queue. */
  queueObserved(queue: string, observation: { depth?: number; oldestAgeMs?: number }): void;
  /** Review refresh progress. */
  refreshProgress(progress: { written: number; failed: number; total: number }): void;
  /** Decision 0022: a pipeline canary was handled; `ageMs` = now - its origin time. Not an invalidation. */
  pipelineWatermark?(queue: string, ageMs: number): void;
  /** Decision 0022: a pipeline canary published to SNS (or not). */
  canaryPublished?(topic: string, outcome: 'ok' | 'failed'): void;
}

/** A WorkerMetrics that drops everything (tests and tools that do not export metrics). */
export const NO_METRICS: WorkerMetrics = {
  eventApplied: () => undefined,
  keysDeleted: () => undefined,
  rejected: () => undefined,
  deadLettered: () => undefined,
  retried: () => undefined,
  redisError: () => undefined,
  waitShortfall: () => undefined,
  failoverReplayed: () => undefined,
  replayEscalated: () => undefined,
  replayRing: () => undefined,
  replicationObserved: () => undefined,
  heldAcks: () => undefined,
  heldAcksConfirmed: () => undefined,
  degradedAcks: () => undefined,
  queueObserved: () => undefined,
  refreshProgress: () => undefined,
};
