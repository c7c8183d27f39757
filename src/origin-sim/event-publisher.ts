/**
 * Publishes origin events to SNS. Thin on purpose: the body is the event JSON and the
 * `eventType` message attribute lets subscriptions filter without parsing the body.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { EventTopic, OriginEvent } from './event-factory.ts';

/** Topic ARN per topic; a missing one makes changes of that family fail with 409. */
export type TopicArns = Partial<Record<EventTopic, string>>;

/** Where and how to reach SNS. */
export interface SnsConnection {
  /** e.g. LocalStack's `http://127.0.0.1:4566`; omitted in AWS. */
  readonly endpoint?: string;
  readonly region: string;
  /** Static credentials (LocalStack accepts test/test); omitted to use the default chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Result of one publish. */
export interface PublishReceipt {
  readonly topicArn: string;
  readonly messageId: string;
}

/** Sends events to their topic. */
export interface EventPublisher {
  /** Publishes `event` to `topicArn`. */
  publish(topicArn: string, event: OriginEvent): Promise<PublishReceipt>;
  /** Releases the client's sockets. */
  close(): void;
}

/** An EventPublisher backed by the AWS SDK SNS client. */
export function createSnsPublisher(connection: SnsConnection): EventPublisher {
  const client = new SNSClient({
    region: connection.region,
    ...(connection.endpoint !== undefined ? { endpoint: connection.endpoint } : {}),
    ...(connection.credentials ? { credentials: { ...connection.credentials } } : {}),
  });
  return {
    async publish(topicArn, event) {
      const out = await client.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: JSON.stringify(event),
          MessageAttributes: { eventType: { DataType: 'String', StringValue: event.type } },
        }),
      );
      if (out.MessageId === undefined) throw new Error(`SNS returned no MessageId for ${event.type}`);
      return { topicArn, messageId: out.MessageId };
    },
    close() {
      client.destroy();
    },
  };
}
