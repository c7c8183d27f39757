/** Visible plus in-flight messages of a queue, as SQS approximates them. */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsOperationError } from './sqs-errors.ts';

export async function readQueueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  try {
    const res = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const a = res.Attributes ?? {};
    return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
  } catch (cause) {
    throw new SqsOperationError('GetQueueAttributes', cause);
  }
}
