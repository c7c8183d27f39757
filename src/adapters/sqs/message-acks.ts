/**
 * Deletes (acks) messages the worker holds outside sqs-consumer's own ack: the critical
 * batches whose deletes wait for a replica's confirmation (src/worker/held-acks.ts).
 */
import { DeleteMessageBatchCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueUrl } from '../../core/identifiers.ts';
import { SqsOperationError } from './sqs-errors.ts';

/** DeleteMessageBatch takes at most 10 entries. */
const SQS_MAX_BATCH_ENTRIES = 10;

/** Deletes `messages` from `queueUrl`; resolves with the message ids SQS confirmed. */
export async function deleteMessages(
  sqs: SQSClient,
  queueUrl: QueueUrl,
  messages: readonly Message[],
): Promise<Set<string>> {
  const confirmed = new Set<string>();
  const withHandle = messages.filter((m) => m.ReceiptHandle !== undefined);
  for (let i = 0; i < withHandle.length; i += SQS_MAX_BATCH_ENTRIES) {
    const chunk = withHandle.slice(i, i + SQS_MAX_BATCH_ENTRIES);
    let result;
    try {
      result = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    } catch (cause) {
      throw new SqsOperationError('DeleteMessageBatch', cause);
    }
    for (const ok of result.Successful ?? []) {
      const id = chunk[Number(ok.Id)]?.MessageId;
      if (id !== undefined) confirmed.add(id);
    }
  }
  return confirmed;
}
