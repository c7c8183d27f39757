import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  AUDITOR_QUEUE_SUFFIX,
  CONSUMER_QUEUES,
  TOPICS,
  filterPolicyFor,
  type ConsumerName,
  type TopicName,
} from './messaging-topology.ts';

/** Props of {@link InvalidationMessaging}. */
export interface InvalidationMessagingProps {
  /** Prefix of every physical name. Default: the construct path's unique id. */
  readonly namePrefix?: string;
  /**
   * Receives before a message moves to its DLQ. Default 8: the worker pauses polling while
   * Redis is unhealthy, so receives only count real attempts; 8 leaves room for a failover.
   */
  readonly maxReceiveCount?: number;
  /** Queue visibility timeout; must exceed the worker's batch deadline. Default 60 s. */
  readonly visibilityTimeout?: Duration;
  /** How long the DLQs keep messages for inspection and redrive. Default 14 days. */
  readonly dlqRetention?: Duration;
  /** Removal policy of the KMS key. Default RETAIN (queues holding data may outlive the stack). */
  readonly keyRemovalPolicy?: RemovalPolicy;
  /**
   * Also create the consistency auditor's queue (src/auditor/): subscribed to every topic
   * with raw delivery and the same filters, so the auditor takes its sample of the events
   * independently of the workers. Default false.
   */
  readonly auditorQueue?: boolean;
}

/** A consumer queue with its dead-letter queue. */
export interface ConsumerQueue {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

/**
 * The topics, consumer queues with DLQs, and raw subscriptions of the invalidation fleet,
 * all encrypted with one customer-managed KMS key and reachable over TLS only.
 */
export class InvalidationMessaging extends Construct {
  /** The key that encrypts every topic and queue. */
  public readonly key: kms.Key;
  /** Topics by logical name. */
  public readonly topics: Readonly<Record<TopicName, sns.Topic>>;
  /** Consumer queues (with DLQs) by logical name. */
  public readonly queues: Readonly<Record<ConsumerName, ConsumerQueue>>;
  /** The consistency auditor's queue and its DLQ, when `auditorQueue` is set. */
  public readonly auditorQueue?: ConsumerQueue;

  constructor(scope: Construct, id: string, props: InvalidationMessagingProps = {}) {
    super(scope, id);
    const prefix = props.namePrefix ?? this.node.addr.slice(0, 12);
    const maxReceiveCount = props.maxReceiveCount ?? 8;

    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the ${prefix} invalidation topics and queues`,
      enableKeyRotation: true,
      removalPolicy: props.keyRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    const topics = {} as Record<TopicName, sns.Topic>;
    for (const [name, spec] of Object.entries(TOPICS) as [TopicName, (typeof TOPICS)[TopicName]][]) {
      topics[name] = new sns.Topic(this, `${name}Topic`, {
        topicName: `${prefix}-${spec.suffix}`,
        displayName: spec.description,
        masterKey: this.key,
        enforceSSL: true,
      });
    }
    this.topics = topics;

    const queues = {} as Record<ConsumerName, ConsumerQueue>;
    for (const [name, spec] of Object.entries(CONSUMER_QUEUES) as [
      ConsumerName,
      (typeof CONSUMER_QUEUES)[ConsumerName],
    ][]) {
      const deadLetterQueue = new sqs.Queue(this, `${name}Dlq`, {
        queueName: `${prefix}-${spec.suffix}-dlq`,
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.key,
        enforceSSL: true,
        retentionPeriod: props.dlqRetention ?? Duration.days(14),
      });
      const queue = new sqs.Queue(this, `${name}Queue`, {
        queueName: `${prefix}-${spec.suffix}`,
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.key,
        enforceSSL: true,
        visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(60),
        receiveMessageWaitTime: Duration.seconds(20),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount },
      });
      queues[name] = { queue, deadLetterQueue };
      if (spec.topic !== null) {
        const subscription = topics[spec.topic].addSubscription(
          new subs.SqsSubscription(queue, { rawMessageDelivery: true }),
        );
        const policy = filterPolicyFor(spec.topic);
        if (policy) {
          // The typed filter API cannot say "attribute absent OR not in the deny list", so
          // the policy is set on the L1 resource; messaging-topology.ts says why it is a deny list.
          const cfn = subscription.node.defaultChild as sns.CfnSubscription;
          cfn.filterPolicy = policy;
          cfn.filterPolicyScope = 'MessageAttributes';
        }
      }
    }
    this.queues = queues;

    if (props.auditorQueue === true) {
      // A sample, not work: short retention (an event older than the longest audit window is
      // of no use), and a DLQ only for what the auditor could not even take in.
      const deadLetterQueue = new sqs.Queue(this, 'auditorDlq', {
        queueName: `${prefix}-${AUDITOR_QUEUE_SUFFIX}-dlq`,
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.key,
        enforceSSL: true,
        retentionPeriod: Duration.days(1),
      });
      const queue = new sqs.Queue(this, 'auditorQueue', {
        queueName: `${prefix}-${AUDITOR_QUEUE_SUFFIX}`,
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.key,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(30),
        receiveMessageWaitTime: Duration.seconds(20),
        retentionPeriod: Duration.hours(1),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount },
      });
      for (const name of Object.keys(TOPICS) as TopicName[]) {
        const subscription = topics[name].addSubscription(
          new subs.SqsSubscription(queue, { rawMessageDelivery: true }),
        );
        const policy = filterPolicyFor(name);
        if (policy) {
          const cfn = subscription.node.defaultChild as sns.CfnSubscription;
          cfn.filterPolicy = policy;
          cfn.filterPolicyScope = 'MessageAttributes';
        }
      }
      this.auditorQueue = { queue, deadLetterQueue };
    }
  }
}
