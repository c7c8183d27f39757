/**
 * Sends dead-lettered messages back to their source queue, two ways:
 *
 * - **Everything**: SQS's own `StartMessageMoveTask`, at a rate (messages per second). SQS
 *   moves every message of the DLQ, in the background, and the task can be listed and
 *   cancelled. The destination is always named: the worker copies poison into the DLQ itself
 *   (SendMessage), so no copy was ever moved there by a redrive policy and SQS has no
 *   "original source queue" to send it back to. LocalStack 4.14 fails such a task
 *   (`FailureReason: AttributeError`); with the source queue named, it moves them. (SQS also
 *   requires the DLQ to be the redrive target of some queue: the messaging construct makes
 *   it so.)
 * - **A selection** (by code, by message id): a move task cannot filter, so the selection is
 *   moved by hand, at least once and never lost: receive (hidden), send a copy to the source
 *   queue, and only once SQS confirmed that copy delete the DLQ's. A crash between the two
 *   leaves the message in both queues: the worker applies it twice, which is harmless
 *   (deletes and fence bumps are idempotent), and a later redrive may send the DLQ's copy
 *   again. Messages not selected are hidden while the pass runs (so each is seen once) and
 *   given back (visibility 0) at the end.
 *
 * The copy sent back keeps the producer's body and attributes, not the worker's
 * `deadLetter*` attributes. A copy whose body the worker had to truncate (too large to keep
 * whole with its reason) is never sent: it would only be poison again.
 */
import {
  CancelMessageMoveTaskCommand,
  ListMessageMoveTasksCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  DEAD_LETTER_ATTRIBUTES,
  SQS_MAX_BATCH_ENTRIES,
  SQS_MAX_PAYLOAD_BYTES,
  sqsMessageBytes,
} from '../adapters/sqs/dead-letter-queue.ts';
import { deleteMessages } from '../adapters/sqs/message-acks.ts';
import { SqsOperationError } from '../adapters/sqs/sqs-errors.ts';
import { asQueueUrl } from '../core/identifiers.ts';
import { isTruncatedCopy } from './dlq-entries.ts';
import { receiveAll, release, type HeldMessage } from './dlq-peek.ts';

/** SQS's ceiling of `MaxNumberOfMessagesPerSecond`. */
export const MAX_REDRIVE_RATE = 500;
/** Default rate of a redrive, messages per second: gentle on a fleet just fixed. */
export const DEFAULT_REDRIVE_RATE = 50;
/** SQS's longest visibility timeout, seconds. */
const MAX_HIDE_S = 43_200;

/** A move task as `ListMessageMoveTasks` reports it. */
export interface MoveTask {
  readonly taskHandle: string | null;
  readonly status: string;
  readonly destinationArn: string | null;
  readonly ratePerS: number | null;
  readonly moved: number;
  readonly toMove: number | null;
  readonly startedAt: string | null;
  readonly failureReason: string | null;
}

/** Starts SQS's move of every message of `dlqArn` to `destinationArn`; resolves with the task handle. */
export async function startMoveTask(
  sqs: SQSClient,
  options: { readonly dlqArn: string; readonly destinationArn: string; readonly ratePerS: number },
): Promise<string> {
  try {
    const res = await sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: options.dlqArn,
        DestinationArn: options.destinationArn,
        MaxNumberOfMessagesPerSecond: options.ratePerS,
      }),
    );
    return res.TaskHandle ?? '';
  } catch (cause) {
    throw new SqsOperationError('StartMessageMoveTask', cause);
  }
}

/** The move tasks of a DLQ, newest first (SQS keeps the last few). */
export async function listMoveTasks(sqs: SQSClient, dlqArn: string): Promise<MoveTask[]> {
  try {
    const res = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 10 }));
    return (res.Results ?? []).map((r) => ({
      taskHandle: r.TaskHandle ?? null,
      status: r.Status ?? 'UNKNOWN',
      destinationArn: r.DestinationArn ?? null,
      ratePerS: r.MaxNumberOfMessagesPerSecond ?? null,
      moved: r.ApproximateNumberOfMessagesMoved ?? 0,
      toMove: r.ApproximateNumberOfMessagesToMove ?? null,
      startedAt: r.StartedTimestamp === undefined ? null : new Date(r.StartedTimestamp).toISOString(),
      failureReason: r.FailureReason ?? null,
    }));
  } catch (cause) {
    throw new SqsOperationError('ListMessageMoveTasks', cause);
  }
}

/** Cancels a running move task; resolves with the messages it had moved. */
export async function cancelMoveTask(sqs: SQSClient, taskHandle: string): Promise<number> {
  try {
    const res = await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: taskHandle }));
    return res.ApproximateNumberOfMessagesMoved ?? 0;
  } catch (cause) {
    throw new SqsOperationError('CancelMessageMoveTask', cause);
  }
}

export interface SelectiveRedriveOptions {
  readonly dlqUrl: string;
  readonly sourceUrl: string;
  /** True for the messages to move. */
  readonly selected: (message: Message) => boolean;
  readonly ratePerS: number;
  /** Messages read at most (selected or not). */
  readonly limit: number;
  /** Only say what would move: every message is given back. */
  readonly dryRun?: boolean;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** What a selective redrive did, by DLQ message id. */
export interface SelectiveRedriveResult {
  /** Read from the DLQ in all. */
  readonly read: number;
  /** Selected and not truncated: what moves (or would, in a dry run). */
  readonly selected: readonly string[];
  /** Copied to the source queue and deleted from the DLQ. */
  readonly moved: readonly string[];
  /** Copied to the source queue, but the DLQ's copy could not be deleted: in both queues now. */
  readonly duplicated: readonly string[];
  /** The copy to the source queue failed: still in the DLQ. */
  readonly failed: readonly string[];
  /** Selected, but the DLQ holds only a prefix of the body: left in the DLQ. */
  readonly truncated: readonly string[];
  /** Left in the DLQ (not selected, truncated, failed, duplicated, or a dry run). */
  readonly kept: number;
  /** Given back refused by SQS: visible again when their hide runs out. */
  readonly releaseRefused: readonly string[];
}

/** Moves the selected messages back to the source queue, at least once (see the header). */
export async function redriveSelected(
  sqs: SQSClient,
  options: SelectiveRedriveOptions,
): Promise<SelectiveRedriveResult> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const rate = Math.max(1, Math.min(MAX_REDRIVE_RATE, options.ratePerS));
  // Messages stay hidden while the pass runs, so each is read once: long enough for the
  // whole pass at the rate, plus a margin; given back at the end anyway.
  const hideS = Math.min(MAX_HIDE_S, Math.ceil(options.limit / rate) + 60);
  const held = new Map<string, HeldMessage>();
  const result = {
    selected: [] as string[],
    moved: [] as string[],
    duplicated: [] as string[],
    failed: [] as string[],
    truncated: [] as string[],
  };
  let releaseRefused: string[];
  const startedAt = now();
  let sent = 0;
  try {
    for (;;) {
      const before = held.size;
      await receiveAll(sqs, options.dlqUrl, { limit: Math.min(options.limit, before + 10), hideS, held });
      const fresh = [...held.values()].slice(before);
      if (fresh.length === 0) break;
      const move: HeldMessage[] = [];
      for (const h of fresh) {
        const id = h.message.MessageId ?? '';
        if (!options.selected(h.message)) continue;
        if (isTruncatedCopy(h.message)) result.truncated.push(id);
        else {
          result.selected.push(id);
          move.push(h);
        }
      }
      if (options.dryRun !== true) {
        for (const chunk of packForSend(move, rate)) {
          // Paced: the n-th message leaves no earlier than n / rate seconds after the start.
          const wait = startedAt + (sent / rate) * 1000 - now();
          if (wait > 0) await sleep(wait);
          sent += chunk.length;
          const copied = await sendCopies(sqs, options.sourceUrl, chunk);
          const toDelete = chunk.filter((h) => copied.has(h.message.MessageId ?? ''));
          for (const h of chunk)
            if (!copied.has(h.message.MessageId ?? '')) result.failed.push(h.message.MessageId ?? '');
          let deleted = new Set<string>();
          try {
            deleted = await deleteMessages(
              sqs,
              asQueueUrl(options.dlqUrl),
              toDelete.map((h) => ({ ...h.message, ReceiptHandle: h.receiptHandle })),
            );
          } catch {
            // Counted as duplicated below: the copy is on the source queue, the original stays.
          }
          for (const h of toDelete) {
            const id = h.message.MessageId ?? '';
            (deleted.has(id) ? result.moved : result.duplicated).push(id);
          }
        }
      }
      if (held.size >= options.limit) break;
    }
  } finally {
    // Everything not deleted goes back at once (visibility 0); a duplicated one too, so the
    // operator sees it in the DLQ and can redrive or discard it.
    const moved = new Set(result.moved);
    releaseRefused = await release(
      sqs,
      options.dlqUrl,
      [...held.values()].filter((h) => !moved.has(h.message.MessageId ?? '')),
    );
  }
  return { read: held.size, ...result, kept: held.size - result.moved.length, releaseRefused };
}

type Attributes = Record<string, MessageAttributeValue>;

/** The producer's attributes of a DLQ copy: every attribute but the worker's `deadLetter*`. */
export function producerAttributes(message: Message): Attributes {
  const ours: ReadonlySet<string> = new Set(Object.values(DEAD_LETTER_ATTRIBUTES));
  const out: Attributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {}))
    if (!ours.has(name)) out[name] = value;
  return out;
}

/** Chunks of at most 10 entries (and `rate`, so no burst exceeds it) and the payload limit. */
function packForSend(messages: readonly HeldMessage[], rate: number): HeldMessage[][] {
  const perChunk = Math.max(1, Math.min(SQS_MAX_BATCH_ENTRIES, Math.floor(rate)));
  const chunks: HeldMessage[][] = [];
  let chunk: HeldMessage[] = [];
  let bytes = 0;
  for (const h of messages) {
    const size = sqsMessageBytes(h.message.Body ?? '', producerAttributes(h.message));
    if (chunk.length === perChunk || (chunk.length > 0 && bytes + size > SQS_MAX_PAYLOAD_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(h);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** Sends copies to the source queue; resolves with the DLQ message ids SQS confirmed. */
async function sendCopies(
  sqs: SQSClient,
  sourceUrl: string,
  chunk: readonly HeldMessage[],
): Promise<Set<string>> {
  const confirmed = new Set<string>();
  try {
    const res = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: sourceUrl,
        Entries: chunk.map((h, n) => {
          const attributes = producerAttributes(h.message);
          return {
            Id: String(n),
            MessageBody: h.message.Body ?? '',
            ...(Object.keys(attributes).length === 0 ? {} : { MessageAttributes: attributes }),
          };
        }),
      }),
    );
    for (const ok of res.Successful ?? []) {
      const id = chunk[Number(ok.Id)]?.message.MessageId;
      if (id !== undefined) confirmed.add(id);
    }
  } catch {
    // Nothing confirmed: every one of them stays in the DLQ.
  }
  return confirmed;
}
