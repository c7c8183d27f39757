import type { Duration } from 'aws-cdk-lib';
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { addFleetAlarms } from './fleet-alarms.ts';
import { addFleetDashboard } from './fleet-dashboard.ts';

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
 * The fleet's observability: one KMS-encrypted, TLS-only alarm topic, the alarms that notify
 * it (fleet-alarms.ts: lag p99 over the SLO per family, any DLQ not empty, oldest message
 * age, worker Redis errors, durability degraded, replay escalations, cache memory) and the
 * CloudWatch dashboard (fleet-dashboard.ts). Alarms and dashboard are created in this
 * construct's scope, so their logical ids are those of a single construct.
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

    const alarms = addFleetAlarms(this, props, action);
    this.lagAlarms = alarms.lagAlarms;
    this.deadLetterAlarms = alarms.deadLetterAlarms;
    this.oldestMessageAlarms = alarms.oldestMessageAlarms;
    this.redisErrorAlarm = alarms.redisErrorAlarm;
    this.durabilityDegradedAlarm = alarms.durabilityDegradedAlarm;
    this.replayEscalationAlarm = alarms.replayEscalationAlarm;
    this.cacheMemoryAlarms = alarms.cacheMemoryAlarms;
    this.alarms = alarms.all;

    const { dashboard, dashboardUrl } = addFleetDashboard(this, props, alarms.all);
    this.dashboard = dashboard;
    this.dashboardUrl = dashboardUrl;
  }
}
