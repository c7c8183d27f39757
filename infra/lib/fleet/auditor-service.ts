/**
 * The consistency auditor as an ECS service (docs/auditor.md): one Fargate task of the
 * worker's image running `src/cli/auditor.ts`, beside the workers in their cluster and
 * security group (egress to Redis and HTTPS only, no ingress). Its role reads and deletes its
 * own queue and decrypts it, nothing else; it reaches Redis as the workers do (TLS, the AUTH
 * token from Secrets Manager) and writes `AuditChecks`/`AuditInconsistencies` as EMF, which
 * the stack alarms on. It never calls the origin (`--origin-rate 0`): promotion sections are
 * then judged by store time.
 */
import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ConsumerQueue } from '../messaging/invalidation-messaging.ts';
import { WORKER_ENV } from './worker-environment.ts';
import type { FleetRedisEndpoint, WorkerFleet } from './worker-fleet.ts';

/** Props of {@link AuditorService}. */
export interface AuditorServiceProps {
  /** The workers' fleet: its cluster, security group and admin token are shared. */
  readonly fleet: WorkerFleet;
  /** Private subnets of the task (the workers'). */
  readonly subnets: ec2.SubnetSelection;
  /** The auditor's queue (`auditorQueue` of the messaging construct). */
  readonly queue: ConsumerQueue;
  readonly messagingKey: kms.IKey;
  readonly redis: FleetRedisEndpoint;
  /** The image (the worker's). */
  readonly image: ecs.ContainerImage;
  /** The `Service` dimension of its EMF (the alarms select on it). */
  readonly metricsService: string;
  /** Fraction of events audited. Default 1. */
  readonly sampleRate?: number;
  /** Retention of its log group. Default two weeks. */
  readonly logRetention?: logs.RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The auditor's admin port inside its task (health check only: no one is admitted). */
export const AUDITOR_ADMIN_PORT = 9470;

/** One auditor task, always running. */
export class AuditorService extends Construct {
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly service: ecs.FargateService;
  public readonly taskRole: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AuditorServiceProps) {
    super(scope, id);
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'consistency auditor: read and delete its own queue, nothing else',
    });
    this.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ConsumeAuditorQueue',
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
        resources: [props.queue.queue.queueArn],
      }),
    );
    this.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'MessagingKey',
        actions: ['kms:Decrypt'],
        resources: [props.messagingKey.keyArn],
      }),
    );
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: 256,
      memoryLimitMiB: 512,
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
    this.taskDefinition.addContainer('auditor', {
      image: props.image,
      essential: true,
      readonlyRootFilesystem: true,
      command: [
        'node',
        'src/cli/auditor.ts',
        '--admin-port',
        String(AUDITOR_ADMIN_PORT),
        '--origin-rate',
        '0',
        '--sample-rate',
        String(props.sampleRate ?? 1),
        '--emf-service',
        props.metricsService,
      ],
      environment: {
        AUDITOR_QUEUE_URL: props.queue.queue.queueUrl,
        [WORKER_ENV.redisMode]: 'standalone',
        [WORKER_ENV.redisAddresses]: `${props.redis.host}:${props.redis.port}`,
        [WORKER_ENV.redisTls]: 'true',
        [WORKER_ENV.awsRegion]: Stack.of(this).region,
      },
      secrets: {
        [WORKER_ENV.redisPassword]: ecs.Secret.fromSecretsManager(
          props.redis.authSecret,
          props.redis.authSecretField,
        ),
        [WORKER_ENV.adminToken]: ecs.Secret.fromSecretsManager(props.fleet.adminTokenSecret),
      },
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'auditor',
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      stopTimeout: Duration.seconds(30),
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${AUDITOR_ADMIN_PORT}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The plain environment holds only non-secret identifiers (the queue URL, Redis host and port, region, ' +
        'flags); the Redis AUTH token and the admin token are injected from Secrets Manager through `secrets`',
    });
    Validations.of(this.taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions (it must be granted on *); every other ' +
        'action of the execution role is scoped to the image repository, the log group and the two secrets',
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.fleet.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: 1,
      assignPublicIp: false,
      vpcSubnets: props.subnets,
      securityGroups: [props.fleet.securityGroup],
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      enableExecuteCommand: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
  }
}
