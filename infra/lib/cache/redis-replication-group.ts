import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** The JSON field of the auth secret that holds the token. */
export const REDIS_AUTH_SECRET_FIELD = 'token';

/**
 * Eviction policy of the cache, chosen on purpose (docs/decisions/0007-fences-never-reissued.md).
 * Every value key is written with a TTL, and so are fences and reco generations: every bump
 * and every fence a reader creates sets one (bounded memory). So `volatile-lru` CAN evict a
 * fence or a generation, and that is safe by design: the next bump is
 * max(current + 1, server µs clock), never a value issued before, and a populate finding its
 * fence missing is refused. An evicted fence costs refusals (misses), an evicted generation
 * makes the user's reco keys unreachable (misses); neither serves stale data.
 * Why volatile and not allkeys: the broadcast sequence is the one key without a TTL, and
 * evicting it would restart the sequence and flush every L1 for nothing; LRU keeps the hot
 * keys, and readers touch their fences on every miss. When only keys without a TTL are left,
 * writes fail loudly (OOM): the memory alarm and the fleet's Redis-error alarm say so.
 */
export const REDIS_MAXMEMORY_POLICY = 'volatile-lru';

/** Props of {@link RedisReplicationGroup}. */
export interface RedisReplicationGroupProps {
  /** The VPC of the cache. */
  readonly vpc: ec2.IVpc;
  /** Subnets of the cache nodes (one per AZ at least). */
  readonly subnets: ec2.SubnetSelection;
  /** Prefix of physical names. */
  readonly namePrefix: string;
  /** Node type of the primary and replica. Default cache.t4g.small. */
  readonly nodeType?: string;
  /** Redis engine version. Default 7.1. */
  readonly engineVersion?: string;
  /** Port (non-default on purpose). Default 6380. */
  readonly port?: number;
  /** Replicas besides the primary. Default 1 (two nodes: failover needs at least one). */
  readonly replicas?: number;
  /** Days of automatic snapshots. Default 1. */
  readonly snapshotRetentionDays?: number;
  /** Retention of the slow-log and engine-log groups. Default one month. */
  readonly logRetention?: logs.RetentionDays;
  /** Key that encrypts data at rest and the auth secret. Default: a new key with rotation. */
  readonly encryptionKey?: kms.IKey;
  /** Removal policy of the key, secret and log groups. Default RETAIN. */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * ElastiCache for Redis (cluster mode disabled): a primary and a replica in two AZs with
 * automatic failover, encrypted at rest (KMS) and in transit (TLS required), AUTH token
 * generated in Secrets Manager and passed to CloudFormation as a dynamic reference (it
 * never appears in the template), reachable only from the security groups allowed by
 * {@link allowFrom}, on a non-default port.
 */
export class RedisReplicationGroup extends Construct {
  public readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** Allow clients by granting ingress on this group (see {@link allowFrom}). */
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly subnetGroup: elasticache.CfnSubnetGroup;
  public readonly parameterGroup: elasticache.CfnParameterGroup;
  /** JSON secret `{ "token": "..." }` holding the AUTH token. */
  public readonly authSecret: secretsmanager.Secret;
  public readonly encryptionKey: kms.IKey;
  public readonly slowLogGroup: logs.LogGroup;
  public readonly engineLogGroup: logs.LogGroup;
  /** Primary endpoint host name (follows failover). */
  public readonly primaryEndpointAddress: string;
  /** Port of the endpoints. */
  public readonly port: number;
  /** The replication group id (the `ReplicationGroupId` metric dimension is per node: see nodeIds). */
  public readonly replicationGroupId: string;
  /** Ids of the member nodes (`CacheClusterId` dimension of ElastiCache metrics). */
  public readonly nodeIds: readonly string[];

  constructor(scope: Construct, id: string, props: RedisReplicationGroupProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.port = props.port ?? 6380;
    if (this.port === 6379) throw new Error('RedisReplicationGroup: use a non-default port, not 6379');
    const replicas = props.replicas ?? 1;
    const groupId = `${props.namePrefix}-cache`.slice(0, 40);

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: `Encrypts the ${props.namePrefix} cache at rest and its auth secret`,
        enableKeyRotation: true,
        removalPolicy,
      });

    this.authSecret = new secretsmanager.Secret(this, 'AuthToken', {
      description: `AUTH token of the ${props.namePrefix} Redis replication group`,
      encryptionKey: this.encryptionKey,
      removalPolicy,
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: REDIS_AUTH_SECRET_FIELD,
        // ElastiCache tokens: 16-128 printable characters, no @ " / or spaces.
        passwordLength: 64,
        excludePunctuation: true,
      },
    });

    Validations.of(this.authSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'ElastiCache AUTH tokens have no Secrets Manager rotation function: rotating is ModifyReplicationGroup ' +
        'with AuthTokenUpdateStrategy ROTATE, a worker redeploy, then SET (runbook in docs/deploy.md)',
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.namePrefix} Redis: ingress only from allowed clients on ${this.port}`,
      allowAllOutbound: false,
    });

    this.subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `${props.namePrefix} Redis subnets`,
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });

    this.parameterGroup = new elasticache.CfnParameterGroup(this, 'Parameters', {
      description: `${props.namePrefix} Redis parameters`,
      cacheParameterGroupFamily: `redis${(props.engineVersion ?? '7.1').split('.')[0]}`,
      properties: {
        'maxmemory-policy': REDIS_MAXMEMORY_POLICY,
        // Keyspace notifications stay off: nothing subscribes and they cost CPU on every delete.
        'notify-keyspace-events': '',
        // Drop clients that vanished without closing (NAT idle timeouts) after 5 minutes.
        timeout: '300',
        // Log commands slower than 10 ms to the slow-log group.
        'slowlog-log-slower-than': '10000',
      },
    });

    this.slowLogGroup = new logs.LogGroup(this, 'SlowLog', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.engineLogGroup = new logs.LogGroup(this, 'EngineLog', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupId: groupId,
      replicationGroupDescription: `${props.namePrefix} invalidation cache (primary + ${replicas} replica)`,
      engine: 'redis',
      engineVersion: props.engineVersion ?? '7.1',
      cacheNodeType: props.nodeType ?? 'cache.t4g.small',
      numCacheClusters: 1 + replicas,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      port: this.port,
      atRestEncryptionEnabled: true,
      kmsKeyId: this.encryptionKey.keyArn,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      // A {{resolve:secretsmanager:...}} dynamic reference: resolved by CloudFormation at deploy.
      authToken: this.authSecret.secretValueFromJson(REDIS_AUTH_SECRET_FIELD).unsafeUnwrap(),
      cacheSubnetGroupName: this.subnetGroup.ref,
      cacheParameterGroupName: this.parameterGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      snapshotRetentionLimit: props.snapshotRetentionDays ?? 1,
      snapshotWindow: '03:00-04:00',
      preferredMaintenanceWindow: 'sun:05:00-sun:06:00',
      autoMinorVersionUpgrade: true,
      logDeliveryConfigurations: [
        {
          logType: 'slow-log',
          logFormat: 'json',
          destinationType: 'cloudwatch-logs',
          destinationDetails: { cloudWatchLogsDetails: { logGroup: this.slowLogGroup.logGroupName } },
        },
        {
          logType: 'engine-log',
          logFormat: 'json',
          destinationType: 'cloudwatch-logs',
          destinationDetails: { cloudWatchLogsDetails: { logGroup: this.engineLogGroup.logGroupName } },
        },
      ],
    });
    this.replicationGroup.applyRemovalPolicy(
      removalPolicy === RemovalPolicy.RETAIN ? RemovalPolicy.SNAPSHOT : removalPolicy,
    );

    this.replicationGroupId = groupId;
    // ElastiCache names the members <group>-001, <group>-002, ...
    this.nodeIds = Array.from(
      { length: 1 + replicas },
      (_, i) => `${groupId}-${String(i + 1).padStart(3, '0')}`,
    );
    this.primaryEndpointAddress = this.replicationGroup.attrPrimaryEndPointAddress;
  }

  /** Lets a client security group reach the cache port (and nothing else). */
  public allowFrom(client: ec2.ISecurityGroup, description: string): void {
    this.securityGroup.addIngressRule(client, ec2.Port.tcp(this.port), description);
  }
}
