/** Visible plus in-flight messages of a queue, as SQS approximates them. */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueUrl } from '../../core/identifiers.ts';
import { SqsOperationError } from './sqs-errors.ts';

/** Reads the depth of `queueUrl`; throws SqsOperationError when the call fails. */
export async function readQueueDepth(sqs: SQSClient, queueUrl: QueueUrl): Promise<number> {
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
