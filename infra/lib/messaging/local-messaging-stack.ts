import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { InvalidationMessaging, type InvalidationMessagingProps } from './invalidation-messaging.ts';

/** Props of {@link MessagingStack}. */
export interface MessagingStackProps extends StackProps {
  readonly messaging?: InvalidationMessagingProps;
}

/**
 * The messaging part of the app on its own: what the local stack deploys to LocalStack,
 * from the same construct the full stack composes. Outputs every ARN and URL.
 */
export class MessagingStack extends Stack {
  public readonly messaging: InvalidationMessaging;

  constructor(scope: Construct, id: string, props: MessagingStackProps = {}) {
    super(scope, id, props);
    this.messaging = new InvalidationMessaging(this, 'Messaging', props.messaging);
    for (const [name, topic] of Object.entries(this.messaging.topics)) {
      new CfnOutput(this, `${name}TopicArn`, { value: topic.topicArn });
    }
    for (const [name, q] of Object.entries(this.messaging.queues)) {
      new CfnOutput(this, `${name}QueueUrl`, { value: q.queue.queueUrl });
      new CfnOutput(this, `${name}QueueArn`, { value: q.queue.queueArn });
      new CfnOutput(this, `${name}DlqUrl`, { value: q.deadLetterQueue.queueUrl });
      new CfnOutput(this, `${name}DlqArn`, { value: q.deadLetterQueue.queueArn });
    }
    const auditor = this.messaging.auditorQueue;
    if (auditor !== undefined) {
      new CfnOutput(this, 'auditorQueueUrl', { value: auditor.queue.queueUrl });
      new CfnOutput(this, 'auditorQueueArn', { value: auditor.queue.queueArn });
    }
  }
}
