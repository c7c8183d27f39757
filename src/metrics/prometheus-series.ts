/**
 * Every Prometheus series the fleet and the read-side client expose, in ONE table: its kind,
 * name (prometheus-names.ts), help text, labels and buckets. `PrometheusMetrics` builds them
 * all from here, so adding a series is one row, and test/unit/metrics checks that
 * docs/metrics.md documents each row. The three HDR window gauges (`invalidation_lag_ms`,
 * `_count`, `_max`) are computed at scrape time and built beside this table.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LAG_BUCKETS_MS, MISS_PENALTY_BUCKETS_MS, PROM, STALE_AGE_BUCKETS_MS } from './prometheus-names.ts';

interface SeriesSpec {
  readonly kind: 'counter' | 'gauge' | 'histogram';
  readonly name: string;
  readonly help: string;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
}

const counter = <const L extends readonly string[]>(name: string, help: string, labels: L) =>
  ({ kind: 'counter', name, help, labels }) as const;
const gauge = <const L extends readonly string[]>(name: string, help: string, labels: L) =>
  ({ kind: 'gauge', name, help, labels }) as const;
const histogram = <const L extends readonly string[]>(
  name: string,
  help: string,
  labels: L,
  buckets: readonly number[],
) => ({ kind: 'histogram', name, help, labels, buckets }) as const;

export const SERIES = {
  // The worker: events and their outcome.
  events: counter(PROM.eventsProcessed, 'Events whose invalidation was confirmed', ['family']),
  keys: counter(PROM.keysDeleted, 'Cache keys deleted', ['family']),
  rejected: counter(PROM.rejected, 'Messages that failed validation, by error code', ['queue', 'reason']),
  deadLettered: counter(PROM.deadLettered, 'Messages sent to the dead-letter queue, by error code', [
    'queue',
    'reason',
  ]),
  retries: counter(
    PROM.retries,
    'Messages applied again in hand (redis-error, deadline-exceeded) or left to come back (dead-letter-failed)',
    ['queue', 'kind'],
  ),
  redisErrors: counter(PROM.redisErrors, 'Redis command failures, by kind', ['kind']),
  waitShortfalls: counter(PROM.waitShortfalls, 'WAIT calls that returned fewer replicas than required', []),
  // Durability and failover (decision 0008).
  failoverReplays: counter(PROM.failoverReplays, 'Replays of recent effects after a Redis failover', []),
  failoverEffects: counter(PROM.failoverReplayedEffects, 'Effects re-applied by failover replays', []),
  replayEscalations: counter(
    PROM.replayEscalations,
    'Families purged because the replay ring dropped effects a failover replay needed',
    ['family'],
  ),
  ringBytes: gauge(PROM.replayRingBytes, 'Estimated bytes held by the failover replay ring', []),
  ringEffects: gauge(PROM.replayRingEffects, 'Effects held by the failover replay ring', []),
  replicationState: gauge(
    PROM.replicationState,
    'Replication as last sampled: 1 for the current state (healthy, lagging, no-replica, unknown)',
    ['state'],
  ),
  replicationReplicas: gauge(PROM.replicationReplicas, 'Online replicas of the worst primary', []),
  replicationLag: gauge(
    PROM.replicationLag,
    'Largest replica lag reported by the primaries (whole seconds, in ms)',
    [],
  ),
  durabilityDegraded: gauge(
    PROM.durabilityDegraded,
    '1 while critical deletes cannot be confirmed on a replica (lagging or no replica)',
    [],
  ),
  heldAcks: gauge(PROM.heldAcks, 'Applied critical messages whose ack waits for a replica', []),
  heldAcksConfirmed: counter(PROM.heldAcksConfirmed, 'Held messages acked once a replica confirmed them', [
    'queue',
  ]),
  degradedAcks: counter(
    PROM.degradedAcks,
    'Critical messages acked without replica confirmation, by reason',
    ['queue', 'reason'],
  ),
  // The hourly refresh and the queues.
  refreshWritten: counter(PROM.refreshKeysWritten, 'Review refresh: keys written', []),
  refreshFailed: counter(PROM.refreshKeysFailed, 'Review refresh: keys that failed', []),
  refreshPlanned: gauge(PROM.refreshKeysPlanned, 'Review refresh: keys in the current run', []),
  refreshProgress: gauge(
    PROM.refreshProgress,
    'Review refresh: (written + failed) / planned of the current run',
    [],
  ),
  queueDepth: gauge(PROM.queueDepth, 'Approximate messages waiting, per queue (last observation)', ['queue']),
  queueAge: gauge(
    PROM.queueOldestAge,
    'Age of the oldest message seen, per queue, in ms (last observation)',
    ['queue'],
  ),
  // Lag, bucketed (aggregatable across workers), and its clamps.
  lagBuckets: histogram(
    PROM.lagHistogram,
    'Invalidation lag per family and stage, in ms (bucketed; aggregate across workers)',
    ['family', 'stage'],
    LAG_BUCKETS_MS,
  ),
  clamped: counter(
    PROM.lagClamped,
    'Lag samples clamped: negative (clock skew), too_large (over an hour) or invalid',
    ['stage', 'reason'],
  ),
  bucketsClamped: counter(
    PROM.lagDistributionClamped,
    `Samples clamped before ${PROM.lagHistogram}: negative (recorded as 0), too_large (recorded as 1 h) or invalid (dropped)`,
    ['family', 'stage', 'reason'],
  ),
  // The admin surface (src/admin/, decision 0015).
  adminRefused: counter(PROM.adminRefused, 'Admin calls refused: no bearer token (missing) or a wrong one', [
    'reason',
    'route',
  ]),
  adminActions: counter(PROM.adminActions, 'Audited administrative actions, by action and result', [
    'action',
    'result',
  ]),
  consumptionPaused: gauge(
    PROM.consumptionPaused,
    '1 while the kill switch (admin pause) stops this worker from receiving from the queue',
    ['queue'],
  ),
  // Shadow mode (src/worker/shadow-evaluator.ts, decision 0016).
  shadowBatches: counter(PROM.shadowBatches, 'Batches planned again with the shadow candidate, by result', [
    'result',
  ]),
  shadowKeys: counter(
    PROM.shadowKeys,
    'Keys only one plan deletes: candidate_only (the candidate adds), live_only (the candidate would leave)',
    ['family', 'side'],
  ),
  shadowDecisions: counter(
    PROM.shadowDecisions,
    'Messages the live and the candidate contract decide differently (apply, poison, ignore)',
    ['live', 'candidate'],
  ),
  // The read side (src/client/).
  hits: counter(PROM.readHits, 'Cache reads served from cache, by tier (l1, l2)', ['family', 'tier']),
  misses: counter(PROM.readMisses, 'Cache reads that missed', ['family']),
  missPenalty: histogram(
    PROM.missPenalty,
    'Latency added by a cache miss, in ms',
    ['family'],
    MISS_PENALTY_BUCKETS_MS,
  ),
  originCalls: counter(PROM.originCalls, 'Calls to the origin', ['family']),
  staleServed: counter(PROM.staleServed, 'Stale values served', ['family', 'reason']),
  staleAge: histogram(
    PROM.staleAge,
    'Age of stale and fail-safe values served, in ms',
    ['family'],
    STALE_AGE_BUCKETS_MS,
  ),
  failSafe: counter(PROM.failSafeServed, 'Stale values served because the origin failed', ['family']),
  leaseWaits: counter(PROM.leaseWaits, "Waits on another reader's fill lease", ['family', 'outcome']),
  coalesced: counter(PROM.coalescedReads, 'Reads that joined a local read in flight', ['family']),
  breakerState: gauge(PROM.breakerState, "State of each family's origin breaker (1 = current)", [
    'family',
    'state',
  ]),
  l1Flushes: counter(PROM.l1Flushes, 'L1 flushes by reason', ['reason']),
  l1Entries: gauge(PROM.l1Entries, 'L1 entries', []),
  l1Bytes: gauge(PROM.l1Bytes, 'L1 size in bytes (approximate)', []),
  // The pipeline watermark and the origin budget (decision 0022).
  pipelineWatermarkAge: gauge(
    PROM.pipelineWatermarkAge,
    'Now - origin time of the last pipeline canary handled, per queue, in ms (not an invalidation)',
    ['queue'],
  ),
  canariesPublished: counter(PROM.canariesPublished, 'Pipeline canaries published to SNS', [
    'topic',
    'outcome',
  ]),
  pipelineTrusted: gauge(PROM.pipelineTrusted, "1 while the pipeline guard trusts the family's caches", [
    'family',
  ]),
  workersPresumedDead: counter(
    PROM.workersPresumedDead,
    'Workers that fell silent without leaving, presumed dead holding messages (caches unproven meanwhile)',
    [],
  ),
  unverifiedRefetches: counter(
    PROM.unverifiedRefetches,
    'Cached values the pipeline guard could not verify, refetched',
    ['family'],
  ),
  unverifiedServed: counter(
    PROM.unverifiedServed,
    'Cached values the pipeline guard could not verify, served (no origin token, or the origin failed)',
    ['family', 'reason'],
  ),
  budgetExhausted: counter(PROM.budgetExhausted, 'Origin calls the fleet-wide origin budget refused', [
    'family',
    'outcome',
  ]),
  // The consistency auditor (src/auditor/, docs/auditor.md); only the auditor process sets them.
  auditEventsSampled: counter(PROM.auditEventsSampled, 'Invalidation events the auditor took in', ['family']),
  auditEventsSkipped: counter(
    PROM.auditEventsSkipped,
    'Events not audited: not-sampled, backlog, unparseable, not-invalidation',
    ['reason'],
  ),
  auditChecks: counter(PROM.auditChecks, 'Entity checks made at a window after the origin time', [
    'family',
    'window',
  ]),
  auditInconsistentChecks: counter(
    PROM.auditInconsistentChecks,
    'Checks that found a value older than the event, confirmed by a re-check',
    ['family', 'window'],
  ),
  auditChecksMissed: counter(
    PROM.auditChecksMissed,
    'Checks not made: the event arrived after its window (or the primary could not be read)',
    ['family', 'window'],
  ),
  auditFindings: counter(PROM.auditFindings, 'Stale values found and confirmed, per tier', [
    'family',
    'tier',
  ]),
  auditFlagsCleared: counter(
    PROM.auditFlagsCleared,
    'Stale-looking values the re-check found gone or fresh (a fill or delete in flight)',
    ['family', 'tier'],
  ),
  auditTierErrors: counter(PROM.auditTierErrors, 'Tier reads that failed', ['tier']),
  auditOriginReads: counter(
    PROM.auditOriginReads,
    'Origin version reads by outcome (ok, budget: refused by the rate limit, error)',
    ['outcome'],
  ),
  auditRatio: gauge(PROM.auditRatio, 'Consistency: 1 - inconsistent / checked, since start', [
    'family',
    'window',
  ]),
  auditNines: gauge(
    PROM.auditNines,
    'Consistency as nines, -log10(inconsistent / checked); log10(checked) while none was inconsistent',
    ['family', 'window'],
  ),
} as const satisfies Record<string, SeriesSpec>;

type LabelsOf<S> = S extends { readonly labels: readonly (infer L extends string)[] } ? L : never;
type Built<S> = S extends { readonly kind: 'counter' }
  ? Counter<LabelsOf<S>>
  : S extends { readonly kind: 'gauge' }
    ? Gauge<LabelsOf<S>>
    : Histogram<LabelsOf<S>>;
export type SeriesSet = { readonly [K in keyof typeof SERIES]: Built<(typeof SERIES)[K]> };

/** Builds every series of the table on `registry`. */
export function buildSeries(registry: Registry): SeriesSet {
  const registers = [registry];
  const built: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SERIES) as [string, SeriesSpec][]) {
    const common = { name: spec.name, help: spec.help, labelNames: [...spec.labels], registers };
    built[key] =
      spec.kind === 'counter'
        ? new Counter(common)
        : spec.kind === 'gauge'
          ? new Gauge(common)
          : new Histogram({ ...common, buckets: [...(spec.buckets ?? [])] });
  }
  return built as SeriesSet;
}
