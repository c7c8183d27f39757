/**
 * Names of the fleet's CloudWatch metrics (embedded metric format). The worker's EMF
 * exporter and the CDK dashboard/alarms both import these, so a rename cannot silently
 * orphan an alarm. The Prometheus series are named in src/metrics/prometheus-names.ts.
 */
export const CLOUDWATCH_NAMESPACE = 'CacheInvalidation';

/** Dimensions are few and fixed: the key family (and the service, set by the stack). */
export const DIMENSION_FAMILY = 'Family';
export const DIMENSION_SERVICE = 'Service';

export const METRICS = {
  /** Origin time → delete confirmed in Redis, milliseconds. Alarmed on p99. */
  lagDeleteMs: 'InvalidationLagMs',
  /** Origin time → L1 broadcast published, milliseconds. */
  lagBroadcastMs: 'BroadcastLagMs',
  /** SNS publish time → delete confirmed, milliseconds. */
  lagFromPublishMs: 'PublishToDeleteLagMs',
  /** SQS sent time → delete confirmed, milliseconds. */
  lagFromSentMs: 'SentToDeleteLagMs',
  /** Worker received the batch → delete confirmed, milliseconds (the worker's own share). */
  lagFromReceiveMs: 'ReceiveToDeleteLagMs',
  /** Lag samples clamped because of clock skew (negative) or absurd values (over an hour). */
  lagSamplesClamped: 'LagSamplesClamped',
  eventsProcessed: 'EventsProcessed',
  keysDeleted: 'KeysDeleted',
  rejected: 'MessagesRejected',
  deadLettered: 'MessagesDeadLettered',
  retries: 'Retries',
  redisErrors: 'RedisErrors',
  waitShortfalls: 'WaitShortfalls',
  failoverReplays: 'FailoverReplays',
  /** Families purged because a failover replay could not be complete. Alarmed on > 0. */
  replayEscalations: 'ReplayEscalations',
  /** Critical messages acked without a replica's confirmation. */
  degradedAcks: 'DegradedAcks',
  /** Replication samples in a degraded state (lagging or no replica). Alarmed on > 0. */
  durabilityDegraded: 'DurabilityDegradedSamples',
  refreshKeys: 'RefreshKeysWritten',
  refreshFailures: 'RefreshKeyFailures',
  /** The consistency auditor's checks (entity x window), per interval. */
  auditChecks: 'AuditChecks',
  /** Checks that found a value older than its event, confirmed by a re-check. Alarmed on > 0. */
  auditInconsistencies: 'AuditInconsistencies',
} as const;
export type MetricName = (typeof METRICS)[keyof typeof METRICS];
