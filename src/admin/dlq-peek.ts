/**
 * Reads every message of a DLQ without consuming it. SQS has no "peek": a receive hides what
 * it returns for the visibility timeout. So the reader receives with a hide long enough that
 * the next receives return other messages, not the same ones again, dedupes by
 * message id, and at the end sets every message it holds back to visibility 0, in a
 * `finally`, so even a failed listing gives them back at once. If the process dies mid-way,
 * they come back by themselves when the hide runs out: a listing never deletes anything.
 *
 * Cost: one receive per 10 messages, and one ChangeMessageVisibilityBatch per 10; each
 * listing adds one to every message's `ApproximateReceiveCount` (DLQs have no redrive
 * policy of their own, so that count has no consequence).
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SqsOperationError } from '../adapters/sqs/sqs-errors.ts';

/** Messages one listing reads at most, unless told otherwise. */
export const DEFAULT_PEEK_LIMIT = 1_000;
/** How long a listed message stays hidden while the listing runs, seconds (see {@link peekHideS}). */
export const DEFAULT_PEEK_HIDE_S = 30;

/**
 * The hide of a listing of up to `limit` messages: 30 s, plus 1 s per 50 messages, so the
 * first ones are still hidden when the last receive runs (a message that reappears would end
 * the listing early, as a receive bringing nothing new). Capped at SQS's 12 h.
 */
export const peekHideS = (limit: number): number =>
  Math.min(43_200, DEFAULT_PEEK_HIDE_S + Math.ceil(limit / 50));

export interface PeekOptions {
  readonly limit?: number;
  readonly hideS?: number;
  /** Long-poll wait of each receive; the first receive that brings nothing new ends the read. */
  readonly waitS?: number;
}

/** A held message: received, hidden, not yet given back. */
export interface HeldMessage {
  readonly message: Message;
  /** The receipt handle of the latest receive (an older one may no longer work). */
  receiptHandle: string;
}

/**
 * Receives until nothing new comes (or `limit`), hiding each message for `hideS` (default
 * {@link peekHideS} of `limit`).
 * Returns what it holds, by message id; the caller must {@link release} (or delete) them.
 */
export async function receiveAll(
  sqs: SQSClient,
  queueUrl: string,
  options: PeekOptions & { readonly held?: Map<string, HeldMessage> } = {},
): Promise<Map<string, HeldMessage>> {
  const limit = options.limit ?? DEFAULT_PEEK_LIMIT;
  const held = options.held ?? new Map<string, HeldMessage>();
  while (held.size < limit) {
    let messages: Message[];
    try {
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, limit - held.size),
          VisibilityTimeout: options.hideS ?? peekHideS(limit),
          WaitTimeSeconds: options.waitS ?? 1,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      messages = res.Messages ?? [];
    } catch (cause) {
      throw new SqsOperationError('ReceiveMessage from the DLQ', cause);
    }
    let fresh = 0;
    for (const message of messages) {
      const id = message.MessageId;
      if (id === undefined || message.ReceiptHandle === undefined) continue;
      const seen = held.get(id);
      if (seen === undefined) {
        held.set(id, { message, receiptHandle: message.ReceiptHandle });
        fresh += 1;
      } else seen.receiptHandle = message.ReceiptHandle;
    }
    if (fresh === 0) break;
  }
  return held;
}

/** Makes `held` visible again at once (visibility 0). Resolves with the ids SQS refused. */
export async function release(
  sqs: SQSClient,
  queueUrl: string,
  held: Iterable<HeldMessage>,
): Promise<string[]> {
  const all = [...held];
  const refused: string[] = [];
  for (let i = 0; i < all.length; i += 10) {
    const chunk = all.slice(i, i + 10);
    try {
      const res = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((h, n) => ({
            Id: String(n),
            ReceiptHandle: h.receiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
      for (const f of res.Failed ?? []) refused.push(chunk[Number(f.Id)]?.message.MessageId ?? '?');
    } catch {
      // They come back by themselves when the hide runs out; say which.
      refused.push(...chunk.map((h) => h.message.MessageId ?? '?'));
    }
  }
  return refused;
}

/** Every message of the DLQ (up to `limit`), read without consuming it (see the header). */
export async function peekDeadLetters(
  sqs: SQSClient,
  queueUrl: string,
  options: PeekOptions = {},
): Promise<Message[]> {
  const held = new Map<string, HeldMessage>();
  try {
    await receiveAll(sqs, queueUrl, { ...options, held });
  } finally {
    await release(sqs, queueUrl, held.values());
  }
  return [...held.values()].map((h) => h.message);
}
