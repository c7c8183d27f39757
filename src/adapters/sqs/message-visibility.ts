/** Hides messages whose effects were not confirmed, for a back-off delay each. */
import { ChangeMessageVisibilityBatchCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueUrl } from '../../core/identifiers.ts';
import { SqsOperationError } from './sqs-errors.ts';

export interface VisibilityChange {
  readonly message: Message;
  readonly timeoutS: number;
}

/** Sets each message's visibility timeout; a failure here only means it returns sooner. */
export async function changeVisibility(
  sqs: SQSClient,
  queueUrl: QueueUrl,
  changes: readonly VisibilityChange[],
): Promise<void> {
  for (let i = 0; i < changes.length; i += 10) {
    const chunk = changes.slice(i, i + 10).filter((c) => c.message.ReceiptHandle);
    if (chunk.length === 0) continue;
    try {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((c, n) => ({
            Id: String(n),
            ReceiptHandle: c.message.ReceiptHandle,
            VisibilityTimeout: c.timeoutS,
          })),
        }),
      );
    } catch (cause) {
      throw new SqsOperationError('ChangeMessageVisibilityBatch', cause);
    }
  }
}
