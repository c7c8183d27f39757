import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { REDIS_AUTH_SECRET_FIELD, RedisReplicationGroup } from './cache/redis-replication-group.ts';
import type { EnvironmentConfig } from './config/environment-config.ts';
import { AuditorService } from './fleet/auditor-service.ts';
import { WorkerFleet } from './fleet/worker-fleet.ts';
import { InvalidationMessaging } from './messaging/invalidation-messaging.ts';
import type { ConsumerName } from './messaging/messaging-topology.ts';
import { FleetNetwork } from './network/fleet-network.ts';
import { FleetObservability } from './observability/fleet-observability.ts';
import { RefreshSchedule } from './schedule/refresh-schedule.ts';

/** Props of {@link InvalidationFleetStack}. */
export interface InvalidationFleetStackProps extends StackProps {
  /** The validated per-environment configuration (see resolveEnvironmentConfig). */
  readonly config: EnvironmentConfig;
  /** Override the worker image (tests). Default: built from the repository's Dockerfile. */
  readonly workerImage?: ecs.ContainerImage;
}

/**
 * The whole fleet in AWS. It only composes the constructs: network, messaging (the same
 * construct the local stack deploys to LocalStack), cache, fleet, schedule, observability,
 * and prints what the Orchestrator and the publishers need as outputs.
 */
export class InvalidationFleetStack extends Stack {
  public readonly network: FleetNetwork;
  public readonly messaging: InvalidationMessaging;
  public readonly cache: RedisReplicationGroup;
  public readonly fleet: WorkerFleet;
  public readonly schedule: RefreshSchedule;
  /** The consistency auditor's service, with `-c auditor=true`. */
  public readonly auditor?: AuditorService;
  public readonly observability: FleetObservability;

  constructor(scope: Construct, id: string, props: InvalidationFleetStackProps) {
    super(scope, id, props);
    const c = props.config;
    const removalPolicy = c.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const retention = c.logRetentionDays as logs.RetentionDays;

    this.network = new FleetNetwork(this, 'Network', {
      ...(c.vpcId && { vpc: ec2.Vpc.fromLookup(this, 'ExistingVpc', { vpcId: c.vpcId }) }),
      natGateways: c.natGateways,
      flowLogRetention: retention,
      logRemovalPolicy: removalPolicy,
    });

    this.messaging = new InvalidationMessaging(this, 'Messaging', {
      namePrefix: c.namePrefix,
      maxReceiveCount: c.maxReceiveCount,
      visibilityTimeout: Duration.seconds(c.visibilityTimeoutSeconds),
      keyRemovalPolicy: removalPolicy,
      auditorQueue: c.auditor,
    });

    this.cache = new RedisReplicationGroup(this, 'Cache', {
      vpc: this.network.vpc,
      subnets: this.network.dataSubnets,
      namePrefix: c.namePrefix,
      nodeType: c.cacheNodeType,
      engineVersion: c.redisEngineVersion,
      port: c.redisPort,
      replicas: 1,
      snapshotRetentionDays: c.snapshotRetentionDays,
      logRetention: retention,
      removalPolicy,
    });

    this.fleet = new WorkerFleet(this, 'Fleet', {
      vpc: this.network.vpc,
      subnets: this.network.workloadSubnets,
      namePrefix: c.namePrefix,
      queues: this.messaging.queues,
      messagingKey: this.messaging.key,
      topics: this.messaging.topics,
      redis: {
        host: this.cache.primaryEndpointAddress,
        port: this.cache.port,
        authSecret: this.cache.authSecret,
        authSecretField: REDIS_AUTH_SECRET_FIELD,
        securityGroup: this.cache.securityGroup,
      },
      ...(props.workerImage && { image: props.workerImage }),
      cpu: c.taskCpu,
      memoryLimitMiB: c.taskMemoryMiB,
      minTasks: c.minTasks,
      maxTasks: c.maxTasks,
      backlogPerTaskTarget: c.backlogPerTaskTarget,
      stopTimeout: Duration.seconds(c.stopTimeoutSeconds),
      drainDeadline: Duration.seconds(c.drainDeadlineSeconds),
      receiveVisibilityTimeout: Duration.seconds(c.receiveVisibilityTimeoutSeconds),
      heartbeatInterval: Duration.seconds(c.heartbeatIntervalSeconds),
      reviewsOriginUrl: c.reviewsOriginUrl,
      metricsService: c.namePrefix,
      logRetention: retention,
      logRemovalPolicy: removalPolicy,
    });

    const auditorQueue = this.messaging.auditorQueue;
    if (auditorQueue !== undefined) {
      this.auditor = new AuditorService(this, 'Auditor', {
        fleet: this.fleet,
        subnets: this.network.workloadSubnets,
        queue: auditorQueue,
        messagingKey: this.messaging.key,
        redis: {
          host: this.cache.primaryEndpointAddress,
          port: this.cache.port,
          authSecret: this.cache.authSecret,
          authSecretField: REDIS_AUTH_SECRET_FIELD,
          securityGroup: this.cache.securityGroup,
        },
        image: this.fleet.image,
        metricsService: c.namePrefix,
        logRetention: retention,
        logRemovalPolicy: removalPolicy,
      });
    }

    this.schedule = new RefreshSchedule(this, 'Schedule', {
      queue: this.messaging.queues.reviewRefresh.queue,
      queueKey: this.messaging.key,
      namePrefix: c.namePrefix,
    });

    const queues = Object.entries(this.messaging.queues) as [
      ConsumerName,
      (typeof this.messaging.queues)[ConsumerName],
    ][];
    this.observability = new FleetObservability(this, 'Observability', {
      namePrefix: c.namePrefix,
      metricsService: c.namePrefix,
      slo: {
        lagP99Ms: c.slo.lagP99Ms,
        oldestMessageAgeSeconds: c.slo.oldestMessageAgeSeconds,
        redisErrorsPerPeriod: c.slo.redisErrorsPerPeriod,
        period: Duration.seconds(c.slo.alarmPeriodSeconds),
        evaluationPeriods: c.slo.evaluationPeriods,
      },
      queues: Object.fromEntries(queues.map(([name, q]) => [name, q.queue])),
      deadLetterQueues: {
        ...Object.fromEntries(queues.map(([name, q]) => [name, q.deadLetterQueue])),
        refreshSchedule: this.schedule.deadLetterQueue,
      },
      cache: { nodeIds: this.cache.nodeIds },
      backlogPerTask: this.fleet.backlogPerTask,
      ...(c.alarmEmail && { alarmEmail: c.alarmEmail }),
      keyRemovalPolicy: removalPolicy,
    });

    this.addOutputs(queues);
  }

  private addOutputs(queues: readonly [ConsumerName, InvalidationMessaging['queues'][ConsumerName]][]): void {
    const out = (id: string, value: string, description: string): void => {
      new CfnOutput(this, id, { value, description });
    };
    out(
      'RedisEndpoint',
      this.cache.primaryEndpointAddress,
      'Primary endpoint of the replication group (follows failover; TLS)',
    );
    out('RedisPort', String(this.cache.port), 'Port of the replication group');
    out(
      'RedisAuthSecretArn',
      this.cache.authSecret.secretArn,
      `Secrets Manager secret; the AUTH token is its "${REDIS_AUTH_SECRET_FIELD}" field`,
    );
    out(
      'MessagingKeyArn',
      this.messaging.key.keyArn,
      'KMS key of the topics and queues: publishers need kms:GenerateDataKey and kms:Decrypt on it',
    );
    for (const [name, topic] of Object.entries(this.messaging.topics)) {
      out(`${name}TopicArn`, topic.topicArn, `SNS topic of ${name} events`);
    }
    for (const [name, q] of queues) {
      out(`${name}QueueUrl`, q.queue.queueUrl, `Consumer queue ${name}`);
      out(`${name}DlqUrl`, q.deadLetterQueue.queueUrl, `Dead-letter queue of ${name}`);
    }
    out('AlarmTopicArn', this.observability.alarmTopic.topicArn, 'SNS topic every alarm notifies');
    out('DashboardUrl', this.observability.dashboardUrl, 'CloudWatch dashboard of the fleet');
    out('ClusterName', this.fleet.cluster.clusterName, 'ECS cluster of the workers');
    out('ServiceName', this.fleet.service.serviceName, 'ECS service of the workers');
  }
}
