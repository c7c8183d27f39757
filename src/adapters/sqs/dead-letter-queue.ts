/**
 * Sends poison messages straight to their DLQ with the reason as message attributes, so an
 * operator sees why without digging through logs. A poison message is never retried: the
 * worker deletes the original only after the DLQ has confirmed the copy.
 *
 * A copy must always fit, or the poison cycles until the redrive policy moves it without its
 * reason. So calls are packed by bytes as SQS counts them (see {@link sqsMessageBytes}), and a
 * message too large to copy whole with its reason keeps a prefix of its body, the original's
 * size and SHA-256 (so an operator can match it against the producer's logs).
 */
import { createHash } from 'node:crypto';
import {
  SendMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { QueueUrl } from '../../core/identifiers.ts';
import { SqsOperationError } from './sqs-errors.ts';
import { MAX_REASON_ATTRIBUTE_CHARS, toSqsAttributeText } from './sqs-text.ts';

/** Attribute names carried by every dead-lettered copy (the last two only when truncated). */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: 'deadLetterReason',
  code: 'deadLetterCode',
  sourceQueue: 'deadLetterSourceQueue',
  originalMessageId: 'deadLetterOriginalMessageId',
  /** UTF-8 size of the original body; present only when the copy's body was truncated. */
  originalBodyBytes: 'deadLetterOriginalBodyBytes',
  /** Hex SHA-256 of the original body's UTF-8 bytes; present only when truncated. */
  originalBodySha256: 'deadLetterOriginalBodySha256',
} as const;

/**
 * Largest message and largest SendMessageBatch payload (sum of its messages), in bytes.
 * AWS raised both to 1 MiB in 2025 and LocalStack 4.14 enforces 1 MiB per call (and the
 * queue's MaximumMessageSize, default 1 MiB, per message), but a queue may still be set to
 * 256 KiB and older regions or tools assume it: design for the conservative limit.
 */
export const SQS_MAX_PAYLOAD_BYTES = 256 * 1024;
/** Entries per SendMessageBatch call. */
export const SQS_MAX_BATCH_ENTRIES = 10;
/** SQS allows 10 message attributes; the copy keeps the original ones up to that limit. */
const MAX_ATTRIBUTES = 10;
/** Cap of the code and message id attributes (both short by construction). */
const MAX_SHORT_ATTRIBUTE_CHARS = 256;
/** Cap of the source queue URL attribute (SQS queue URLs are far shorter). */
const MAX_QUEUE_URL_CHARS = 2_048;
/** Original attributes of a truncated copy may use at most this share of the payload. */
const MAX_KEPT_ATTRIBUTE_BYTES = 16 * 1024;

export interface PoisonMessage {
  readonly message: Message;
  readonly code: string;
  readonly reason: string;
}

export interface DeadLetterOptions {
  /** Per message and per call; default {@link SQS_MAX_PAYLOAD_BYTES}. */
  readonly maxPayloadBytes?: number;
}

type Attributes = Record<string, MessageAttributeValue>;
interface Copy {
  readonly messageId: string | undefined;
  readonly entry: Omit<SendMessageBatchRequestEntry, 'Id'>;
  readonly bytes: number;
}

/** Copies each poison message to `dlqUrl`; resolves with the ids SQS confirmed. */
export async function sendToDeadLetterQueue(
  sqs: SQSClient,
  dlqUrl: QueueUrl,
  sourceQueueUrl: QueueUrl,
  poison: readonly PoisonMessage[],
  options: DeadLetterOptions = {},
): Promise<Set<string>> {
  const limit = options.maxPayloadBytes ?? SQS_MAX_PAYLOAD_BYTES;
  const confirmed = new Set<string>();
  for (const chunk of packByBytes(
    poison.map((p) => copyOf(p, sourceQueueUrl, limit)),
    limit,
  )) {
    let result;
    try {
      result = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: chunk.map((c, n) => ({ Id: String(n), ...c.entry })),
        }),
      );
    } catch (cause) {
      throw new SqsOperationError('SendMessageBatch to the DLQ', cause);
    }
    for (const ok of result.Successful ?? []) {
      const id = chunk[Number(ok.Id)]?.messageId;
      if (id) confirmed.add(id);
    }
  }
  return confirmed;
}

/** Size of a message as SQS counts it: body + each attribute's name, data type and value. */
export function sqsMessageBytes(body: string, attributes: Attributes): number {
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) bytes += attributeBytes(name, value);
  return bytes;
}

const attributeBytes = (name: string, value: MessageAttributeValue): number =>
  Buffer.byteLength(name, 'utf8') +
  Buffer.byteLength(value.DataType ?? '', 'utf8') +
  (value.BinaryValue?.byteLength ?? Buffer.byteLength(value.StringValue ?? '', 'utf8'));

/** Greedy, in order: a new call when the next copy would pass the entry or byte limit. */
function packByBytes(copies: readonly Copy[], limit: number): Copy[][] {
  const chunks: Copy[][] = [];
  let chunk: Copy[] = [];
  let bytes = 0;
  for (const copy of copies) {
    if (chunk.length === SQS_MAX_BATCH_ENTRIES || (chunk.length > 0 && bytes + copy.bytes > limit)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(copy);
    bytes += copy.bytes;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function copyOf(p: PoisonMessage, sourceQueueUrl: QueueUrl, limit: number): Copy {
  const messageId = p.message.MessageId;
  // The last line of defence: whatever a reason holds, the copy must not be refused for it.
  const deadLetter: Attributes = {
    [DEAD_LETTER_ATTRIBUTES.reason]: text(toSqsAttributeText(p.reason || p.code, MAX_REASON_ATTRIBUTE_CHARS)),
    [DEAD_LETTER_ATTRIBUTES.code]: text(toSqsAttributeText(p.code, MAX_SHORT_ATTRIBUTE_CHARS)),
    [DEAD_LETTER_ATTRIBUTES.sourceQueue]: text(toSqsAttributeText(sourceQueueUrl, MAX_QUEUE_URL_CHARS)),
    [DEAD_LETTER_ATTRIBUTES.originalMessageId]: text(
      toSqsAttributeText(messageId ?? 'unknown', MAX_SHORT_ATTRIBUTE_CHARS),
    ),
  };
  // An empty body is not allowed by SQS; keep a visible placeholder.
  const body = p.message.Body && p.message.Body.length > 0 ? p.message.Body : '(empty body)';
  const originals = originalAttributes(p.message);

  const whole = { ...originals.slice(0, MAX_ATTRIBUTES - 4).reduce(into, {}), ...deadLetter };
  const wholeBytes = sqsMessageBytes(body, whole);
  if (wholeBytes <= limit)
    return { messageId, entry: { MessageBody: body, MessageAttributes: whole }, bytes: wholeBytes };

  // Too large with its reason: the reason wins over the body's tail and the original attributes.
  const bodyBytes = Buffer.byteLength(body, 'utf8');
  const attributes: Attributes = {
    ...deadLetter,
    [DEAD_LETTER_ATTRIBUTES.originalBodyBytes]: { DataType: 'Number', StringValue: String(bodyBytes) },
    [DEAD_LETTER_ATTRIBUTES.originalBodySha256]: text(
      createHash('sha256').update(body, 'utf8').digest('hex'),
    ),
  };
  let kept = 0;
  for (const [name, value] of originals) {
    if (Object.keys(attributes).length === MAX_ATTRIBUTES) break;
    const size = attributeBytes(name, value);
    if (kept + size > MAX_KEPT_ATTRIBUTE_BYTES) continue;
    attributes[name] = value;
    kept += size;
  }
  const room = limit - sqsMessageBytes('', attributes);
  const prefix = utf8Prefix(body, room);
  const keptBody = prefix.length > 0 ? prefix : '(body omitted)';
  return {
    messageId,
    entry: { MessageBody: keptBody, MessageAttributes: attributes },
    bytes: sqsMessageBytes(keptBody, attributes),
  };
}

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
const into = (acc: Attributes, [name, value]: [string, MessageAttributeValue]): Attributes => {
  acc[name] = value;
  return acc;
};

function originalAttributes(message: Message): [string, MessageAttributeValue][] {
  const ours = Object.values<string>(DEAD_LETTER_ATTRIBUTES);
  return Object.entries(message.MessageAttributes ?? {}).filter(([name]) => !ours.includes(name));
}

/** The longest prefix of `s` of at most `maxBytes` UTF-8 bytes, cut between characters. */
export function utf8Prefix(s: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length <= maxBytes) return s;
  let end = maxBytes;
  // Back off continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8');
}
