/**
 * The fleet's alarms: lag p99 over the SLO per family, any DLQ not empty, oldest message age
 * per queue, worker Redis errors, durability degraded (5 periods), replay escalations, audit
 * inconsistencies (the consistency auditor), cache memory per node. Each notifies `action` on ALARM and on OK. They are created in the
 * observability construct's own scope, so their logical ids do not depend on this file.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { METRICS } from '../../../src/core/metric-names.ts';
import { FleetMetrics, cacheNodeMetric } from './fleet-metrics.ts';
import type { FleetObservabilityProps } from './fleet-observability.ts';

/** The alarms created by {@link addFleetAlarms}, by kind. */
export interface FleetAlarms {
  /** Lag p99 alarms by family. */
  readonly lagAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** DLQ-not-empty alarms by DLQ name. */
  readonly deadLetterAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Oldest-message-age alarms by queue name. */
  readonly oldestMessageAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  readonly redisErrorAlarm: cloudwatch.Alarm;
  /** Replication lagging or absent for five periods (critical deletes not confirmed on a replica). */
  readonly durabilityDegradedAlarm: cloudwatch.Alarm;
  /** A failover replay had to purge whole families (its ring was incomplete). */
  readonly replayEscalationAlarm: cloudwatch.Alarm;
  /** The consistency auditor confirmed a cached value older than its invalidation event. */
  readonly auditInconsistencyAlarm: cloudwatch.Alarm;
  /** Memory alarms by cache node id. */
  readonly cacheMemoryAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Every alarm above. */
  readonly all: readonly cloudwatch.Alarm[];
}

/** Creates the fleet's alarms in `scope`, each notifying `action`. */
export function addFleetAlarms(
  scope: Construct,
  props: FleetObservabilityProps,
  action: cloudwatch.IAlarmAction,
): FleetAlarms {
  const period = props.slo.period ?? Duration.minutes(1);
  const evaluationPeriods = props.slo.evaluationPeriods ?? 3;
  const m = new FleetMetrics(props.metricsService);
  const families = Object.keys(props.slo.lagP99Ms);
  const all: cloudwatch.Alarm[] = [];
  const track = (alarm: cloudwatch.Alarm): cloudwatch.Alarm => {
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    all.push(alarm);
    return alarm;
  };

  const lagAlarms: Record<string, cloudwatch.Alarm> = {};
  for (const family of families) {
    const threshold = props.slo.lagP99Ms[family] ?? 0;
    lagAlarms[family] = track(
      new cloudwatch.Alarm(scope, `LagP99${pascal(family)}`, {
        alarmName: `${props.namePrefix}-lag-p99-${family}`,
        alarmDescription: `p99 of origin→delete invalidation lag of ${family} keys above the ${threshold} ms SLO`,
        metric: m.family(METRICS.lagDeleteMs, family, 'p99', period),
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods,
        datapointsToAlarm: evaluationPeriods,
        // No events, no lag samples: quiet is not a breach (the age alarms catch a stall).
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  const deadLetterAlarms: Record<string, cloudwatch.Alarm> = {};
  for (const [name, dlq] of Object.entries(props.deadLetterQueues)) {
    deadLetterAlarms[name] = track(
      new cloudwatch.Alarm(scope, `DlqNotEmpty${pascal(name)}`, {
        alarmName: `${props.namePrefix}-dlq-not-empty-${kebab(name)}`,
        alarmDescription: `The ${name} dead-letter queue holds messages: inspect their reason attribute, fix, redrive`,
        metric: dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  const oldestMessageAlarms: Record<string, cloudwatch.Alarm> = {};
  for (const [name, queue] of Object.entries(props.queues)) {
    oldestMessageAlarms[name] = track(
      new cloudwatch.Alarm(scope, `OldestMessage${pascal(name)}`, {
        alarmName: `${props.namePrefix}-oldest-message-${kebab(name)}`,
        alarmDescription: `The oldest message of the ${name} queue is older than ${props.slo.oldestMessageAgeSeconds} s: the fleet is stalled or behind`,
        metric: queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period }),
        threshold: props.slo.oldestMessageAgeSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods,
        datapointsToAlarm: evaluationPeriods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /** An alarm on the Sum of a whole-worker EMF counter above `threshold` for `periods`. */
  const workerCountAlarm = (
    id: string,
    suffix: string,
    description: string,
    metric: (typeof METRICS)[keyof typeof METRICS],
    threshold: number,
    periods: number,
  ): cloudwatch.Alarm =>
    track(
      new cloudwatch.Alarm(scope, id, {
        alarmName: `${props.namePrefix}-${suffix}`,
        alarmDescription: description,
        metric: m.total(metric, 'Sum', period),
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        ...(periods > 1 ? { datapointsToAlarm: periods } : {}),
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

  const redisErrors = props.slo.redisErrorsPerPeriod ?? 0;
  const redisErrorAlarm = workerCountAlarm(
    'WorkerRedisErrors',
    'worker-redis-errors',
    `The workers reported more than ${redisErrors} Redis errors per period`,
    METRICS.redisErrors,
    redisErrors,
    1,
  );
  // Critical deletes applied but not confirmed on a replica (decision 0008). Expected for
  // minutes after a failover, while the replacement replica syncs: worth knowing, so it
  // alarms after five periods, not on a one-minute blip.
  const durabilityDegradedAlarm = workerCountAlarm(
    'DurabilityDegraded',
    'durability-degraded',
    'Replication lagging or no replica attached for 5 periods: promotion deletes are applied on the primary but not confirmed on a replica (held or acked degraded). Expected after a failover until the replacement replica has synced.',
    METRICS.durabilityDegraded,
    0,
    5,
  );
  const replayEscalationAlarm = workerCountAlarm(
    'ReplayEscalations',
    'replay-escalations',
    'A failover replay found its ring incomplete and purged whole key families: expect a burst of cache misses; raise WORKER_REPLAY_MAX_BYTES',
    METRICS.replayEscalations,
    0,
    1,
  );

  // The consistency auditor (src/auditor/) writes AuditInconsistencies; without an auditor
  // there is no data, which is not a breach.
  const auditInconsistencyAlarm = workerCountAlarm(
    'AuditInconsistencies',
    'audit-inconsistencies',
    'The consistency auditor found a cached value older than its invalidation event, confirmed by a re-check: see its findings (docs/auditor.md)',
    METRICS.auditInconsistencies,
    0,
    1,
  );

  const cacheMemoryAlarms: Record<string, cloudwatch.Alarm> = {};
  for (const nodeId of props.cache?.nodeIds ?? []) {
    const percent = props.cache?.memoryAlarmPercent ?? 80;
    cacheMemoryAlarms[nodeId] = track(
      new cloudwatch.Alarm(scope, `CacheMemory${pascal(nodeId.slice(-3))}`, {
        alarmName: `${props.namePrefix}-cache-memory-${nodeId.slice(-3)}`,
        alarmDescription: `Cache node ${nodeId} uses over ${percent}% of its memory: volatile-lru evicts cache entries and fences (safe: a missing fence refuses fills), and past that, writes fail`,
        metric: cacheNodeMetric('DatabaseMemoryUsagePercentage', nodeId, 'Maximum', Duration.minutes(5)),
        threshold: percent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      }),
    );
  }

  return {
    lagAlarms,
    deadLetterAlarms,
    oldestMessageAlarms,
    redisErrorAlarm,
    durabilityDegradedAlarm,
    replayEscalationAlarm,
    auditInconsistencyAlarm,
    cacheMemoryAlarms,
    all,
  };
}

function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}
