import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * The body of the tick, in the event schema's `refresh.tick` v1 shape, with EventBridge
 * placeholders: the scheduled event's id (a UUID) and time (ISO-8601, `Z`). The worker's
 * schema is strict (unknown keys are rejected), so this lists exactly its fields.
 */
export const REFRESH_TICK_INPUT = events.RuleTargetInput.fromObject({
  type: 'refresh.tick',
  schemaVersion: 1,
  eventId: events.EventField.eventId,
  occurredAt: events.EventField.time,
  scheduledAt: events.EventField.time,
  version: 1,
});

/** Props of {@link RefreshSchedule}. */
export interface RefreshScheduleProps {
  /** The review-refresh queue the tick is delivered to. */
  readonly queue: sqs.IQueue;
  /** The key that encrypts the target DLQ (the queue's own key). */
  readonly queueKey: kms.IKey;
  /** Prefix of physical names. */
  readonly namePrefix: string;
  /** How often. Default every hour. */
  readonly schedule?: events.Schedule;
  /** Retries of a failed delivery before the tick goes to the target DLQ. Default 10. */
  readonly retryAttempts?: number;
  /** Age after which an undelivered tick is dropped to the DLQ. Default 1 hour (the next tick supersedes it). */
  readonly maxEventAge?: Duration;
}

/**
 * The hourly EventBridge rule that drops a `refresh.tick` on the review-refresh queue, with
 * a DLQ for ticks EventBridge could not deliver (a broken key or queue policy shows up there,
 * not as a silent lack of refreshes).
 */
export class RefreshSchedule extends Construct {
  public readonly rule: events.Rule;
  /** Ticks that could not be delivered to the queue. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: RefreshScheduleProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'TargetDlq', {
      queueName: `${props.namePrefix}-refresh-schedule-dlq`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.queueKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue (the schedule target DLQ of EventBridge); cdk-nag only ' +
        'recognises DLQs referenced by an SQS RedrivePolicy',
    });
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Hourly refresh tick for the hot review keys',
      schedule: props.schedule ?? events.Schedule.rate(Duration.hours(1)),
    });
    // Adds the queue policies for events.amazonaws.com (target and DLQ) and grants that
    // principal the queue's key, which also encrypts the DLQ. With an encrypted queue the
    // target policy is scoped by account (feature flag in FEATURE_FLAGS), the DLQ's by rule.
    this.rule.addTarget(
      new targets.SqsQueue(props.queue, {
        message: REFRESH_TICK_INPUT,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 10,
        maxEventAge: props.maxEventAge ?? Duration.hours(1),
      }),
    );
  }
}
