import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS } from '../../../src/core/metric-names.ts';
import { FleetMetrics } from './fleet-metrics.ts';

/** SLO thresholds the alarms enforce. */
export interface FleetSlo {
  /** p99 of origin→delete lag (ms) per key family; one alarm per entry. */
  readonly lagP99Ms: Readonly<Record<string, number>>;
  /** Oldest-message age (seconds) above which a consumer queue alarms. */
  readonly oldestMessageAgeSeconds: number;
  /** Redis errors per period above which the fleet alarms. Default 0. */
  readonly redisErrorsPerPeriod?: number;
  /** Alarm period. Default 1 minute. */
  readonly period?: Duration;
  /** Breaching periods before the lag and age alarms fire. Default 3. */
  readonly evaluationPeriods?: number;
}

/** The cache nodes to chart and alarm on. */
export interface ObservedCache {
  /** Member node ids (the `CacheClusterId` dimension), primary and replica. */
  readonly nodeIds: readonly string[];
  /** Alarm when a node's memory use exceeds this percentage. Default 80. */
  readonly memoryAlarmPercent?: number;
}

/** Props of {@link FleetObservability}. */
export interface FleetObservabilityProps {
  /** Prefix of physical names (dashboard, alarms). */
  readonly namePrefix: string;
  /** The `Service` dimension the workers publish their metrics with. */
  readonly metricsService: string;
  readonly slo: FleetSlo;
  /** Consumer queues by name: charted, and alarmed on their oldest message age. */
  readonly queues: Readonly<Record<string, sqs.IQueue>>;
  /** Dead-letter queues by name: charted, and alarmed as soon as one is not empty. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** The cache, when there is one to watch. */
  readonly cache?: ObservedCache;
  /** The fleet's scaling metric, charted next to the queues when given. */
  readonly backlogPerTask?: cloudwatch.IMetric;
  /** Subscribe this address to the alarm topic. Default: no subscription. */
  readonly alarmEmail?: string;
  /** Removal policy of the alarm topic's key. Default RETAIN. */
  readonly keyRemovalPolicy?: RemovalPolicy;
}

/**
 * The fleet's CloudWatch dashboard (invalidation lag p50/p99 per family, throughput, errors,
 * DLQ depth, oldest message age, ElastiCache replication lag and CPU) and its alarms (lag
 * p99 over the SLO per family, any DLQ not empty, oldest message age, worker Redis errors,
 * cache memory), all notifying one KMS-encrypted, TLS-only alarm topic.
 */
export class FleetObservability extends Construct {
  public readonly alarmTopic: sns.Topic;
  public readonly alarmTopicKey: kms.Key;
  public readonly dashboard: cloudwatch.Dashboard;
  /** Lag p99 alarms by family. */
  public readonly lagAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** DLQ-not-empty alarms by DLQ name. */
  public readonly deadLetterAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Oldest-message-age alarms by queue name. */
  public readonly oldestMessageAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  public readonly redisErrorAlarm: cloudwatch.Alarm;
  /** Replication lagging or absent for five periods (critical deletes not confirmed on a replica). */
  public readonly durabilityDegradedAlarm: cloudwatch.Alarm;
  /** A failover replay had to purge whole families (its ring was incomplete). */
  public readonly replayEscalationAlarm: cloudwatch.Alarm;
  /** Memory alarms by cache node id. */
  public readonly cacheMemoryAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Every alarm created here. */
  public readonly alarms: readonly cloudwatch.Alarm[];
  /** Console URL of the dashboard. */
  public readonly dashboardUrl: string;

  constructor(scope: Construct, id: string, props: FleetObservabilityProps) {
    super(scope, id);
    const period = props.slo.period ?? Duration.minutes(1);
    const evaluationPeriods = props.slo.evaluationPeriods ?? 3;
    const m = new FleetMetrics(props.metricsService);
    const families = Object.keys(props.slo.lagP99Ms);
    const region = Stack.of(this).region;

    this.alarmTopicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: `Encrypts the ${props.namePrefix} alarm topic`,
      enableKeyRotation: true,
      removalPolicy: props.keyRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // CloudWatch publishes to the encrypted topic: it needs the key, for this account only.
    this.alarmTopicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      topicName: `${props.namePrefix}-alarms`,
      displayName: `${props.namePrefix} invalidation fleet alarms`,
      masterKey: this.alarmTopicKey,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subs.EmailSubscription(props.alarmEmail));
    const action = new cwActions.SnsAction(this.alarmTopic);
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
        new cloudwatch.Alarm(this, `LagP99${pascal(family)}`, {
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
    this.lagAlarms = lagAlarms;

    const deadLetterAlarms: Record<string, cloudwatch.Alarm> = {};
    for (const [name, dlq] of Object.entries(props.deadLetterQueues)) {
      deadLetterAlarms[name] = track(
        new cloudwatch.Alarm(this, `DlqNotEmpty${pascal(name)}`, {
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
    this.deadLetterAlarms = deadLetterAlarms;

    const oldestMessageAlarms: Record<string, cloudwatch.Alarm> = {};
    for (const [name, queue] of Object.entries(props.queues)) {
      oldestMessageAlarms[name] = track(
        new cloudwatch.Alarm(this, `OldestMessage${pascal(name)}`, {
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
    this.oldestMessageAlarms = oldestMessageAlarms;

    const redisErrors = props.slo.redisErrorsPerPeriod ?? 0;
    this.redisErrorAlarm = track(
      new cloudwatch.Alarm(this, 'WorkerRedisErrors', {
        alarmName: `${props.namePrefix}-worker-redis-errors`,
        alarmDescription: `The workers reported more than ${redisErrors} Redis errors per period`,
        metric: m.total(METRICS.redisErrors, 'Sum', period),
        threshold: redisErrors,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    // Critical deletes applied but not confirmed on a replica (decision 0008). Expected for
    // minutes after a failover, while the replacement replica syncs: worth knowing, so it
    // alarms after five periods, not on a one-minute blip.
    this.durabilityDegradedAlarm = track(
      new cloudwatch.Alarm(this, 'DurabilityDegraded', {
        alarmName: `${props.namePrefix}-durability-degraded`,
        alarmDescription:
          'Replication lagging or no replica attached for 5 periods: promotion deletes are applied on the primary but not confirmed on a replica (held or acked degraded). Expected after a failover until the replacement replica has synced.',
        metric: m.total(METRICS.durabilityDegraded, 'Sum', period),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    this.replayEscalationAlarm = track(
      new cloudwatch.Alarm(this, 'ReplayEscalations', {
        alarmName: `${props.namePrefix}-replay-escalations`,
        alarmDescription:
          'A failover replay found its ring incomplete and purged whole key families: expect a burst of cache misses; raise WORKER_REPLAY_MAX_BYTES',
        metric: m.total(METRICS.replayEscalations, 'Sum', period),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    const cacheMemoryAlarms: Record<string, cloudwatch.Alarm> = {};
    for (const nodeId of props.cache?.nodeIds ?? []) {
      const percent = props.cache?.memoryAlarmPercent ?? 80;
      cacheMemoryAlarms[nodeId] = track(
        new cloudwatch.Alarm(this, `CacheMemory${pascal(nodeId.slice(-3))}`, {
          alarmName: `${props.namePrefix}-cache-memory-${nodeId.slice(-3)}`,
          alarmDescription: `Cache node ${nodeId} uses over ${percent}% of its memory: volatile-lru evicts cache entries and fences (safe: a missing fence refuses fills), and past that, writes fail`,
          metric: cacheMetric('DatabaseMemoryUsagePercentage', nodeId, 'Maximum', Duration.minutes(5)),
          threshold: percent,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 3,
          treatMissingData: cloudwatch.TreatMissingData.MISSING,
        }),
      );
    }
    this.cacheMemoryAlarms = cacheMemoryAlarms;
    this.alarms = all;

    const dashboardName = `${props.namePrefix}-invalidation`;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# ${props.namePrefix} cache invalidation\nLag is origin time → delete confirmed in Redis (\`${METRICS.lagDeleteMs}\`). Red lines are the p99 SLOs.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      ...families.map(
        (family) =>
          new cloudwatch.GraphWidget({
            title: `Lag ${family} (ms)`,
            width: 6,
            left: (['p50', 'p99'] as const).map((stat) =>
              m.family(METRICS.lagDeleteMs, family, stat, period).with({ label: stat }),
            ),
            leftAnnotations: [
              { value: props.slo.lagP99Ms[family] ?? 0, label: 'p99 SLO', color: cloudwatch.Color.RED },
            ],
            leftYAxis: { min: 0 },
          }),
      ),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Events processed per minute',
        width: 8,
        left: families.map((f) => m.family(METRICS.eventsProcessed, f, 'Sum', period).with({ label: f })),
        leftYAxis: { min: 0 },
      }),
      new cloudwatch.GraphWidget({
        title: 'Keys deleted per minute',
        width: 8,
        left: families.map((f) => m.family(METRICS.keysDeleted, f, 'Sum', period).with({ label: f })),
        leftYAxis: { min: 0 },
      }),
      new cloudwatch.GraphWidget({
        title: 'Worker errors and rejects',
        width: 8,
        left: [
          METRICS.redisErrors,
          METRICS.rejected,
          METRICS.deadLettered,
          METRICS.retries,
          METRICS.waitShortfalls,
          METRICS.failoverReplays,
        ].map((name) => m.total(name, 'Sum', period).with({ label: name })),
        leftYAxis: { min: 0 },
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Durability of promotion deletes',
        width: 24,
        left: [METRICS.durabilityDegraded, METRICS.degradedAcks, METRICS.replayEscalations].map((name) =>
          m.total(name, 'Sum', period).with({ label: name }),
        ),
        leftYAxis: { min: 0 },
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'DLQ depth',
        width: 8,
        left: Object.entries(props.deadLetterQueues).map(([name, q]) =>
          q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period, label: name }),
        ),
        leftYAxis: { min: 0 },
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest message age (s)',
        width: 8,
        left: Object.entries(props.queues).map(([name, q]) =>
          q.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period, label: name }),
        ),
        leftAnnotations: [
          { value: props.slo.oldestMessageAgeSeconds, label: 'alarm', color: cloudwatch.Color.RED },
        ],
        leftYAxis: { min: 0 },
      }),
      new cloudwatch.GraphWidget({
        title: 'Backlog',
        width: 8,
        left: Object.entries(props.queues).map(([name, q]) =>
          q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period, label: name }),
        ),
        ...(props.backlogPerTask && { right: [props.backlogPerTask] }),
        leftYAxis: { min: 0 },
      }),
    );
    if (props.cache && props.cache.nodeIds.length > 0) {
      const nodes = props.cache.nodeIds;
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'ElastiCache replication lag (s)',
          width: 8,
          left: nodes.map((n) => cacheMetric('ReplicationLag', n, 'Maximum').with({ label: n })),
          leftYAxis: { min: 0 },
        }),
        new cloudwatch.GraphWidget({
          title: 'ElastiCache engine CPU (%)',
          width: 8,
          left: nodes.map((n) => cacheMetric('EngineCPUUtilization', n, 'Maximum').with({ label: n })),
          leftYAxis: { min: 0, max: 100 },
        }),
        new cloudwatch.GraphWidget({
          title: 'ElastiCache memory (%)',
          width: 8,
          left: nodes.map((n) =>
            cacheMetric('DatabaseMemoryUsagePercentage', n, 'Maximum').with({ label: n }),
          ),
          leftYAxis: { min: 0, max: 100 },
        }),
      );
    }
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, height: 4, alarms: all }),
    );
    this.dashboardUrl = `https://console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${dashboardName}`;
  }
}

function cacheMetric(
  metricName: string,
  nodeId: string,
  statistic: string,
  period = Duration.minutes(1),
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/ElastiCache',
    metricName,
    dimensionsMap: { CacheClusterId: nodeId },
    statistic,
    period,
  });
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
