/**
 * Sends poison messages straight to their DLQ with the reason as message attributes, so an
 * operator sees why without digging through logs. A poison message is never retried: the
 * worker deletes the original only after the DLQ has confirmed the copy.
 */
import { SendMessageBatchCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsOperationError } from './sqs-errors.ts';

/** Attribute names carried by every dead-lettered copy. */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: 'deadLetterReason',
  code: 'deadLetterCode',
  sourceQueue: 'deadLetterSourceQueue',
  originalMessageId: 'deadLetterOriginalMessageId',
} as const;

/** SQS allows 10 message attributes; the copy keeps the original ones up to that limit. */
const MAX_ATTRIBUTES = 10;

export interface PoisonMessage {
  readonly message: Message;
  readonly code: string;
  readonly reason: string;
}

/** Copies each poison message to `dlqUrl`; resolves with the ids SQS confirmed. */
export async function sendToDeadLetterQueue(
  sqs: SQSClient,
  dlqUrl: string,
  sourceQueueUrl: string,
  poison: readonly PoisonMessage[],
): Promise<Set<string>> {
  const confirmed = new Set<string>();
  for (let i = 0; i < poison.length; i += 10) {
    const chunk = poison.slice(i, i + 10);
    let result;
    try {
      result = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: chunk.map((p, n) => ({
            Id: String(n),
            // An empty body is not allowed by SQS; keep a visible placeholder.
            MessageBody: p.message.Body && p.message.Body.length > 0 ? p.message.Body : '(empty body)',
            MessageAttributes: {
              ...keepOriginalAttributes(p.message, MAX_ATTRIBUTES - 4),
              [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: 'String', StringValue: p.reason || p.code },
              [DEAD_LETTER_ATTRIBUTES.code]: { DataType: 'String', StringValue: p.code },
              [DEAD_LETTER_ATTRIBUTES.sourceQueue]: { DataType: 'String', StringValue: sourceQueueUrl },
              [DEAD_LETTER_ATTRIBUTES.originalMessageId]: {
                DataType: 'String',
                StringValue: p.message.MessageId ?? 'unknown',
              },
            },
          })),
        }),
      );
    } catch (cause) {
      throw new SqsOperationError('SendMessageBatch to the DLQ', String(cause), cause);
    }
    for (const ok of result.Successful ?? []) {
      const id = chunk[Number(ok.Id)]?.message.MessageId;
      if (id) confirmed.add(id);
    }
  }
  return confirmed;
}

function keepOriginalAttributes(message: Message, limit: number) {
  const entries = Object.entries(message.MessageAttributes ?? {}).filter(
    ([name]) => !Object.values<string>(DEAD_LETTER_ATTRIBUTES).includes(name),
  );
  return Object.fromEntries(entries.slice(0, limit));
}
