/**
 * Names of the Prometheus series the worker exposes on `/metrics`. Milliseconds (not the
 * Prometheus base unit, seconds) to match the CloudWatch metrics and the SLOs, which are all
 * in ms; every such name ends in `_ms`. The dashboard reads these names back.
 */
export const PROM = {
  eventsProcessed: 'invalidation_events_processed_total',
  keysDeleted: 'invalidation_keys_deleted_total',
  rejected: 'invalidation_messages_rejected_total',
  deadLettered: 'invalidation_messages_dead_lettered_total',
  retries: 'invalidation_retries_total',
  redisErrors: 'invalidation_redis_errors_total',
  waitShortfalls: 'invalidation_wait_shortfalls_total',
  failoverReplays: 'invalidation_failover_replays_total',
  failoverReplayedEffects: 'invalidation_failover_replayed_effects_total',
  replayEscalations: 'invalidation_replay_escalations_total',
  replayRingBytes: 'invalidation_replay_ring_bytes',
  replayRingEffects: 'invalidation_replay_ring_effects',
  /** 1 for the current replication state, 0 for the others (label `state`). */
  replicationState: 'invalidation_replication_state',
  replicationReplicas: 'invalidation_replication_replicas',
  replicationLag: 'invalidation_replication_lag_ms',
  /** 1 while critical deletes cannot be confirmed on a replica (lagging or no replica). */
  durabilityDegraded: 'invalidation_durability_degraded',
  heldAcks: 'invalidation_held_acks',
  heldAcksConfirmed: 'invalidation_held_acks_confirmed_total',
  degradedAcks: 'invalidation_degraded_acks_total',
  refreshKeysWritten: 'invalidation_refresh_keys_written_total',
  refreshKeysFailed: 'invalidation_refresh_keys_failed_total',
  refreshKeysPlanned: 'invalidation_refresh_keys_planned',
  refreshProgress: 'invalidation_refresh_progress_ratio',
  queueDepth: 'invalidation_queue_depth',
  queueOldestAge: 'invalidation_queue_oldest_message_age_ms',
  /** HDR percentiles over the rolling window, label `quantile` (a summary-like gauge). */
  lag: 'invalidation_lag_ms',
  /** Samples since start (with the `lag` gauge, reads like a summary's `_count`). */
  lagCount: 'invalidation_lag_ms_count',
  /** Largest lag in the rolling window. */
  lagMax: 'invalidation_lag_ms_max',
  /** Bucketed lag: aggregatable across the fleet with `histogram_quantile`. */
  lagHistogram: 'invalidation_lag_distribution_ms',
  lagClamped: 'invalidation_lag_samples_clamped_total',
  /** Samples clamped before `lagHistogram` recorded them (its `_sum` stays meaningful). */
  lagDistributionClamped: 'invalidation_lag_distribution_clamped_total',
  /** Admin calls refused (no token, wrong token), label `reason`, `route`. */
  adminRefused: 'admin_requests_refused_total',
  /** Audited administrative actions (purge, pause, resume...), label `action`, `result`. */
  adminActions: 'admin_actions_total',
  /** 1 while the kill switch pauses this worker's consumption of `queue`. */
  consumptionPaused: 'invalidation_consumption_paused',
  /** Shadow mode: batches compared with the candidate contract, label `result` (same, different, error). */
  shadowBatches: 'invalidation_shadow_batches_total',
  /** Shadow mode: keys only one plan deletes, labels `family` and `side` (candidate_only, live_only). */
  shadowKeys: 'invalidation_shadow_keys_total',
  /** Shadow mode: messages the two contracts decide differently, labels `live` and `candidate`. */
  shadowDecisions: 'invalidation_shadow_decisions_differing_total',
  readHits: 'cache_read_hits_total',
  readMisses: 'cache_read_misses_total',
  missPenalty: 'cache_miss_penalty_ms',
  originCalls: 'cache_origin_calls_total',
  /** Read side (src/client/): stale values served, label `reason` (revalidate, soft-timeout). */
  staleServed: 'cache_stale_served_total',
  /** Age of the stale (and fail-safe) values served. */
  staleAge: 'cache_stale_age_ms',
  failSafeServed: 'cache_fail_safe_served_total',
  /** Waits on another holder's fill lease, label `outcome` (notified, timeout). */
  leaseWaits: 'cache_lease_waits_total',
  coalescedReads: 'cache_coalesced_reads_total',
  /** 1 for the current state of each family's origin breaker, 0 for the others. */
  breakerState: 'cache_origin_breaker_state',
  l1Flushes: 'cache_l1_flushes_total',
  l1Entries: 'cache_l1_entries',
  l1Bytes: 'cache_l1_bytes',
  /** Decision 0022: per queue, now - origin time of the last pipeline canary handled (ms). */
  pipelineWatermarkAge: 'pipeline_watermark_age_ms',
  /** Decision 0022: canaries published, labels `topic`, `outcome` (ok, failed). */
  canariesPublished: 'pipeline_canaries_published_total',
  /** Decision 0022: 1 while the pipeline guard trusts the family's caches. */
  pipelineTrusted: 'cache_pipeline_trusted',
  /** Decision 0024: workers that fell silent without leaving (presumed dead holding messages). */
  workersPresumedDead: 'cache_pipeline_workers_presumed_dead_total',
  unverifiedRefetches: 'cache_unverified_refetches_total',
  /** Label `reason` (budget-exhausted, origin-failed). */
  unverifiedServed: 'cache_unverified_served_total',
  /** Label `outcome` (served-stale, failed, refresh-skipped). */
  budgetExhausted: 'cache_origin_budget_exhausted_total',
  /** The consistency auditor (src/auditor/): label `window` is `1s`, `10s`, `60s`... */
  auditEventsSampled: 'consistency_audit_events_sampled_total',
  auditEventsSkipped: 'consistency_audit_events_skipped_total',
  auditChecks: 'consistency_audit_checks_total',
  auditInconsistentChecks: 'consistency_audit_inconsistent_checks_total',
  auditChecksMissed: 'consistency_audit_checks_missed_total',
  auditFindings: 'consistency_audit_inconsistencies_found_total',
  auditFlagsCleared: 'consistency_audit_flags_cleared_total',
  auditTierErrors: 'consistency_audit_tier_errors_total',
  auditOriginReads: 'consistency_audit_origin_reads_total',
  auditRatio: 'consistency_audit_ratio',
  auditNines: 'consistency_audit_nines',
} as const;

/** Buckets of `invalidation_lag_distribution_ms`; include every SLO threshold (500 … 5000). */
export const LAG_BUCKETS_MS = [
  5, 10, 25, 50, 100, 250, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 10_000, 30_000, 60_000,
];
/** Buckets of `cache_miss_penalty_ms`. */
export const MISS_PENALTY_BUCKETS_MS = [1, 5, 10, 25, 50, 100, 200, 400, 800, 1_600, 5_000];
/** Buckets of `cache_stale_age_ms` (up to the longest contract TTL, 1 h). */
export const STALE_AGE_BUCKETS_MS = [1_000, 10_000, 30_000, 60_000, 120_000, 300_000, 900_000, 3_600_000];
