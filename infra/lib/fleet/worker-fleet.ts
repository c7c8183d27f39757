import { fileURLToPath } from 'node:url';
import { Duration, IgnoreMode, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ConsumerQueue } from '../messaging/invalidation-messaging.ts';
import { CONSUMER_QUEUES, type ConsumerName, type TopicName } from '../messaging/messaging-topology.ts';
import { DEFAULT_TASK_MEMORY_MIB, workerHeapOptions } from '../../../src/config/worker-heap.ts';
import { BacklogPerTask } from './backlog-per-task.ts';
import { DEFAULT_ADMIN_PORT, QUEUE_URL_ENV, TOPIC_ARN_ENV, WORKER_ENV } from './worker-environment.ts';

/** The repository root: the Docker build context of the worker image. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The SQS actions a worker needs on its own consumer queues, and nothing more. */
export const CONSUMER_QUEUE_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueAttributes',
] as const;
/** The worker publishes the pipeline canary to the topics of its own queues (decision 0022). */
export const CANARY_TOPIC_ACTIONS = ['sns:Publish'] as const;
/** The worker dead-letters poison itself (with a reason attribute). */
export const DEAD_LETTER_QUEUE_ACTIONS = ['sqs:SendMessage'] as const;
/** Decrypt received messages; encrypt what it sends to a DLQ. */
export const MESSAGING_KEY_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'] as const;

/** How the workers reach Redis. */
export interface FleetRedisEndpoint {
  readonly host: string;
  readonly port: number;
  /** Secret holding the AUTH token, and its JSON field. */
  readonly authSecret: secretsmanager.ISecret;
  readonly authSecretField: string;
  /** The cache's security group: the fleet is granted ingress to it on `port` only. */
  readonly securityGroup: ec2.ISecurityGroup;
}

/** Props of {@link WorkerFleet}. */
export interface WorkerFleetProps {
  readonly vpc: ec2.IVpc;
  /** Private subnets of the tasks (no public IP is ever assigned). */
  readonly subnets: ec2.SubnetSelection;
  /** Prefix of physical names. */
  readonly namePrefix: string;
  /** The consumer queues (with their DLQs) the workers poll. */
  readonly queues: Readonly<Record<ConsumerName, ConsumerQueue>>;
  /** The KMS key of the queues. */
  readonly messagingKey: kms.IKey;
  /**
   * The topics feeding the queues: the workers publish their pipeline canary to each
   * (decision 0022; `WORKER_<QUEUE>_TOPIC_ARN`, `sns:Publish` on those topics only). Absent:
   * no canary, and readers running the pipeline guard never trust their caches.
   */
  readonly topics?: Readonly<Partial<Record<TopicName, { readonly topicArn: string }>>>;
  /** `WORKER_CANARY_INTERVAL_MS` (0 = off). Default 250 ms, the worker's default. */
  readonly canaryInterval?: Duration;
  /**
   * `WORKER_PRESENCE_INTERVAL_MS` (0 = off; decision 0024). Default 250 ms, the worker's default
   * and the cache client's `pipelineGuard.presence.intervalMs` default: a reader must be given
   * the same value.
   */
  readonly presenceInterval?: Duration;
  readonly redis: FleetRedisEndpoint;
  /** The worker image. Default: built from the repository's Dockerfile (linux/amd64). */
  readonly image?: ecs.ContainerImage;
  /** Fargate CPU units. Default 256. */
  readonly cpu?: number;
  /** Fargate memory (MiB). Default 512. */
  readonly memoryLimitMiB?: number;
  /** Bounds of the task count. Default 1..4. */
  readonly minTasks?: number;
  readonly maxTasks?: number;
  /** Target visible messages per running task of the scaling policy. Default 100. */
  readonly backlogPerTaskTarget?: number;
  /**
   * SIGTERM → SIGKILL. Must exceed the worker's drain deadline so a deploy or scale-in
   * never kills a batch mid-delete. Default 120 s (the Fargate maximum).
   */
  readonly stopTimeout?: Duration;
  /** How long SIGTERM drains batches in hand. Default: half the stop timeout. */
  readonly drainDeadline?: Duration;
  /**
   * Visibility timeout the worker asks for on receive, extended every `heartbeatInterval`
   * while a batch is in hand: how late a crashed task's in-flight events come back. Default 3 s
   * (decision 0021).
   */
  readonly receiveVisibilityTimeout?: Duration;
  /** How often the worker extends the visibility of what it holds. Default 1 s. */
  readonly heartbeatInterval?: Duration;
  /** Base URL of the Reviews origin (the hourly refresh). */
  readonly reviewsOriginUrl: string;
  /** Value of the `Service` dimension the workers publish metrics with. Default: namePrefix. */
  readonly metricsService?: string;
  /** The worker's admin port (health check, metrics, the admin API). Default 9464. */
  readonly adminPort?: number;
  /**
   * Who may reach the admin port (e.g. an operators' bastion's security group). Default: no
   * one; the container health check calls /healthz from inside the task. Every route but
   * /healthz and /readyz also needs the admin token (`adminTokenSecret`).
   */
  readonly adminClients?: readonly ec2.IConnectable[];
  /** TCP ports the tasks may open outside the VPC (AWS APIs, the origins). Default [443]. */
  readonly egressPorts?: readonly number[];
  /** Retention of the worker log group. Default two weeks. */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the log group. Default DESTROY. */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The worker fleet: an ECS cluster (Container Insights on) and a Fargate service in private
 * subnets, its task role limited to the fleet's own queues, scaling on backlog per task,
 * with a circuit breaker that rolls a failing deployment back.
 */
export class WorkerFleet extends Construct {
  public readonly cluster: ecs.Cluster;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly container: ecs.ContainerDefinition;
  /** The worker image (the consistency auditor's task runs it too). */
  public readonly image: ecs.ContainerImage;
  public readonly service: ecs.FargateService;
  /** The role the worker code runs as. */
  public readonly taskRole: iam.Role;
  /** The role ECS uses to pull the image, write logs and inject the Redis secret. */
  public readonly executionRole: iam.IRole;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;
  public readonly scalableTarget: appscaling.ScalableTarget;
  public readonly scalingPolicy: appscaling.CfnScalingPolicy;
  /** Visible messages across the fleet's queues per running task (what the fleet scales on). */
  public readonly backlogPerTask: cloudwatch.MathExpression;
  /** The admin API's bearer token (decision 0015), injected as `ADMIN_TOKEN`. */
  public readonly adminTokenSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: WorkerFleetProps) {
    super(scope, id);
    const adminPort = props.adminPort ?? DEFAULT_ADMIN_PORT;
    const minTasks = props.minTasks ?? 1;
    const maxTasks = props.maxTasks ?? 4;
    const queues = Object.entries(props.queues) as [ConsumerName, ConsumerQueue][];

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.namePrefix} workers: no ingress; egress to Redis and HTTPS only`,
      allowAllOutbound: false,
    });
    for (const client of props.adminClients ?? []) {
      this.securityGroup.connections.allowFrom(
        client,
        ec2.Port.tcp(adminPort),
        `${props.namePrefix} admin API`,
      );
    }
    for (const port of props.egressPorts ?? [443]) {
      this.securityGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(port),
        `HTTPS to AWS APIs and origins (${port})`,
      );
    }
    // Adds the egress here and the matching ingress on the cache's group.
    this.securityGroup.connections.allowTo(
      props.redis.securityGroup,
      ec2.Port.tcp(props.redis.port),
      `${props.namePrefix} workers to Redis`,
    );

    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `${props.namePrefix} worker: consume its own queues, dead-letter poison, nothing else`,
    });
    this.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ConsumeOwnQueues',
        actions: [...CONSUMER_QUEUE_ACTIONS],
        resources: queues.map(([, q]) => q.queue.queueArn),
      }),
    );
    this.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeadLetterPoison',
        actions: [...DEAD_LETTER_QUEUE_ACTIONS],
        resources: queues.map(([, q]) => q.deadLetterQueue.queueArn),
      }),
    );
    const canaryTopics = queues.flatMap(([name]) => {
      const topic = CONSUMER_QUEUES[name].topic;
      const t = topic === null ? undefined : props.topics?.[topic];
      return t === undefined ? [] : [{ name, arn: t.topicArn }];
    });
    if (canaryTopics.length > 0)
      this.taskRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'PublishPipelineCanary',
          actions: [...CANARY_TOPIC_ACTIONS],
          resources: canaryTopics.map((t) => t.arn),
        }),
      );
    this.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'MessagingKey',
        actions: [...MESSAGING_KEY_ACTIONS],
        resources: [props.messagingKey.keyArn],
      }),
    );

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu ?? 256,
      memoryLimitMiB: props.memoryLimitMiB ?? DEFAULT_TASK_MEMORY_MIB,
      taskRole: this.taskRole,
      runtimePlatform: {
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
      },
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.TWO_WEEKS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    const stopTimeout = props.stopTimeout ?? Duration.seconds(120);
    const environment: Record<string, string> = {
      [WORKER_ENV.redisMode]: 'standalone',
      [WORKER_ENV.redisAddresses]: `${props.redis.host}:${props.redis.port}`,
      [WORKER_ENV.redisTls]: 'true',
      [WORKER_ENV.adminPort]: String(adminPort),
      [WORKER_ENV.adminHost]: '0.0.0.0',
      // Drain well inside the stop timeout, so SIGKILL never lands on a batch being acked.
      [WORKER_ENV.drainDeadlineMs]: String(
        (props.drainDeadline ?? Duration.millis(stopTimeout.toMilliseconds() / 2)).toMilliseconds(),
      ),
      [WORKER_ENV.visibilityTimeoutS]: String(
        (props.receiveVisibilityTimeout ?? Duration.seconds(3)).toSeconds(),
      ),
      [WORKER_ENV.heartbeatIntervalS]: String((props.heartbeatInterval ?? Duration.seconds(1)).toSeconds()),
      [WORKER_ENV.originUrl]: props.reviewsOriginUrl,
      [WORKER_ENV.stopTimeoutMs]: String(stopTimeout.toMilliseconds()),
      [WORKER_ENV.awsRegion]: Stack.of(this).region,
      [WORKER_ENV.metricsService]: props.metricsService ?? props.namePrefix,
      [WORKER_ENV.emfEnabled]: 'true',
    };
    for (const [name, q] of queues) {
      environment[QUEUE_URL_ENV[name].url] = q.queue.queueUrl;
      environment[QUEUE_URL_ENV[name].dlqUrl] = q.deadLetterQueue.queueUrl;
    }
    for (const t of canaryTopics) {
      const variable = TOPIC_ARN_ENV[t.name as keyof typeof TOPIC_ARN_ENV];
      if (variable !== undefined) environment[variable] = t.arn;
    }
    environment[WORKER_ENV.canaryIntervalMs] = String(
      (props.canaryInterval ?? Duration.millis(250)).toMilliseconds(),
    );
    environment[WORKER_ENV.presenceIntervalMs] = String(
      (props.presenceInterval ?? Duration.millis(250)).toMilliseconds(),
    );

    this.adminTokenSecret = new secretsmanager.Secret(this, 'AdminToken', {
      description: `Bearer token of the ${props.namePrefix} workers' admin API (every route but /healthz, /readyz)`,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(this.adminTokenSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The admin token has no rotation Lambda: rotating is PutSecretValue then a rolling redeploy of the ' +
        'workers (tokens are read at start-up); runbook in docs/operations.md ("Admin API authentication")',
    });

    this.image =
      props.image ??
      ecs.ContainerImage.fromAsset(REPO_ROOT, {
        file: 'Dockerfile',
        platform: Platform.LINUX_AMD64,
        ignoreMode: IgnoreMode.DOCKER,
        // Also excluded by .dockerignore; repeated so the asset hash never depends on them.
        exclude: ['node_modules', '.git', '.local', 'cdk.out', 'test-results', 'coverage'],
      });
    this.container = this.taskDefinition.addContainer('worker', {
      image: this.image,
      essential: true,
      readonlyRootFilesystem: true,
      // The image's command with heap limits from the task's memory: V8 otherwise sizes its
      // heap for the host it sees (src/config/worker-heap.ts).
      command: [
        'node',
        ...workerHeapOptions(props.memoryLimitMiB ?? DEFAULT_TASK_MEMORY_MIB),
        'src/cli/worker.ts',
      ],
      environment,
      secrets: {
        [WORKER_ENV.redisPassword]: ecs.Secret.fromSecretsManager(
          props.redis.authSecret,
          props.redis.authSecretField,
        ),
        [WORKER_ENV.adminToken]: ecs.Secret.fromSecretsManager(this.adminTokenSecret),
      },
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'worker',
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      stopTimeout,
      healthCheck: {
        // node:24-slim has no curl; Node's fetch does the probe.
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${adminPort}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
    });
    this.executionRole = this.taskDefinition.obtainExecutionRole();
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The plain environment holds only non-secret identifiers (queue URLs, Redis host and port, region, ' +
        'flags); the secrets, the Redis AUTH token and the admin token, are injected from Secrets Manager through `secrets`',
    });
    Validations.of(this.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions (it must be granted on *); every other ' +
        'action of the execution role is scoped to the image repository, the log group and the two secrets',
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: minTasks,
      assignPublicIp: false,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      circuitBreaker: { enable: true, rollback: true },
      // Start the new tasks before stopping the old ones: queues never go unconsumed.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      enableExecuteCommand: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });

    const backlog = new BacklogPerTask(
      queues.map(([, q]) => q.queue.queueName),
      { clusterName: this.cluster.clusterName, serviceName: this.service.serviceName },
    );
    this.backlogPerTask = backlog.toMathExpression();

    this.scalableTarget = new appscaling.ScalableTarget(this, 'ScalableTarget', {
      serviceNamespace: appscaling.ServiceNamespace.ECS,
      scalableDimension: 'ecs:service:DesiredCount',
      resourceId: `service/${this.cluster.clusterName}/${this.service.serviceName}`,
      minCapacity: minTasks,
      maxCapacity: maxTasks,
      role: iam.Role.fromRoleArn(
        this,
        'ScalingRole',
        Stack.of(this).formatArn({
          region: '',
          service: 'iam',
          resource: 'role/aws-service-role/ecs.application-autoscaling.amazonaws.com',
          resourceName: 'AWSServiceRoleForApplicationAutoScaling_ECSService',
        }),
      ),
    });
    this.scalingPolicy = new appscaling.CfnScalingPolicy(this, 'BacklogPerTaskScaling', {
      policyName: `${props.namePrefix}-backlog-per-task`,
      policyType: 'TargetTrackingScaling',
      scalingTargetId: this.scalableTarget.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: props.backlogPerTaskTarget ?? 100,
        scaleOutCooldown: 60,
        // Scale in slowly: a stopping task drains for up to its stop timeout.
        scaleInCooldown: 300,
        customizedMetricSpecification: backlog.toCustomizedMetric(),
      },
    });
  }
}
