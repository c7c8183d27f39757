/**
 * The edge: turns an SQS message body (an SNS envelope or a raw event) into a validated
 * {@link CacheEvent}, or into an {@link InvalidEventError} with a readable reason. It never
 * throws on input: every failure is a value, so one bad message cannot stop a batch.
 * Reasons never quote the input (see rejection-reason.ts).
 *
 * Order of checks (cheapest first, and each gives the most precise reason):
 * size → JSON → envelope → inner JSON → `type` known → `schemaVersion` supported → schema.
 */
import {
  EventValidationError,
  MalformedEventError,
  OversizedEventError,
  UnknownEventTypeError,
  UnsupportedSchemaVersionError,
} from '../errors.ts';
import type { InvalidEventError } from '../errors.ts';
import { asTopicArn } from '../identifiers.ts';
import type { TopicArn } from '../identifiers.ts';
import { EVENT_SCHEMA_VERSION } from './event-base.ts';
import { cacheEventSchema, isEventType } from './cache-event.ts';
import type { CacheEvent } from './cache-event.ts';
import { describeIssues, describeValue, fixedIssueText, jsonProblem } from './rejection-reason.ts';
import { looksLikeSnsEnvelope, snsEnvelopeSchema } from './sns-envelope.ts';

export { MAX_REASON_CHARS } from './rejection-reason.ts';

/**
 * Largest body accepted, in UTF-8 bytes. Our events are well under 1 KiB; SQS allows far
 * more, so this is the line between "an event" and "something else that must not be parsed".
 */
export const MAX_EVENT_BODY_BYTES = 64 * 1024;

/** SQS system attributes as the SDK returns them (all strings). */
export type SqsSystemAttributes = Readonly<Record<string, string | undefined>>;

/** A successfully parsed message. */
export interface ParsedEvent {
  readonly ok: true;
  readonly event: CacheEvent;
  readonly delivery: 'sns' | 'raw';
  /** The event's origin time, ms since epoch. */
  readonly originTimeMs: number;
  /** SNS publish time, ms since epoch (SNS deliveries only). */
  readonly snsPublishedAtMs?: number;
  readonly snsMessageId?: string;
  readonly topicArn?: TopicArn;
  /** SQS `SentTimestamp`, ms since epoch, when the attribute was passed. */
  readonly sqsSentAtMs?: number;
}

/** A rejected message: poison, dead-letter with `error.code` and `error.message`. */
export interface RejectedEvent {
  readonly ok: false;
  readonly error: InvalidEventError;
}

export type ParseEventResult = ParsedEvent | RejectedEvent;

/** Parse an SQS body (SNS envelope or raw event) into an event or a rejection; never throws. */
export function parseEventMessage(
  body: string,
  attributes?: SqsSystemAttributes,
  maxBodyBytes: number = MAX_EVENT_BODY_BYTES,
): ParseEventResult {
  try {
    return parseUnsafe(body, attributes, maxBodyBytes);
  } catch (error) {
    // Nothing above should throw; if it does, the input is still the thing to blame.
    return reject(new MalformedEventError('the message could not be parsed', { cause: error }));
  }
}

function parseUnsafe(body: string, attributes: SqsSystemAttributes | undefined, maxBodyBytes: number) {
  if (typeof body !== 'string') return reject(new MalformedEventError('the message body is not a string'));
  // Bytes, not characters: the limit protects memory and SQS sizes are counted in bytes.
  const size = Buffer.byteLength(body, 'utf8');
  if (size > maxBodyBytes) return reject(new OversizedEventError(size, maxBodyBytes));

  const outer = parseJson(body);
  if (!outer.ok) return reject(new MalformedEventError(`the body is not JSON: ${outer.reason}`));

  let payload: unknown = outer.value;
  let sns: Pick<ParsedEvent, 'snsPublishedAtMs' | 'snsMessageId' | 'topicArn'> | undefined;
  if (looksLikeSnsEnvelope(payload)) {
    const envelope = snsEnvelopeSchema.safeParse(payload, ZOD_PARAMS);
    if (!envelope.success) {
      return reject(
        new MalformedEventError(`bad SNS envelope: ${describeIssues(envelope.error.issues).join('; ')}`),
      );
    }
    const inner = parseJson(envelope.data.Message);
    if (!inner.ok) return reject(new MalformedEventError(`the SNS Message is not JSON: ${inner.reason}`));
    payload = inner.value;
    sns = {
      snsPublishedAtMs: Date.parse(envelope.data.Timestamp),
      snsMessageId: envelope.data.MessageId,
      topicArn: asTopicArn(envelope.data.TopicArn),
    };
  }

  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return reject(new MalformedEventError('the event is not a JSON object'));
  }
  const type = (payload as Record<string, unknown>).type;
  if (typeof type !== 'string') return reject(new EventValidationError(['type: must be a string']));
  if (!isEventType(type)) return reject(new UnknownEventTypeError(type));
  const schemaVersion = (payload as Record<string, unknown>).schemaVersion;
  if (schemaVersion !== undefined && schemaVersion !== EVENT_SCHEMA_VERSION) {
    // `type` is one of ours by now; the version is named only when it is a small integer.
    return reject(
      new UnsupportedSchemaVersionError(
        `schemaVersion ${describeValue(schemaVersion)} of ${type} is not supported (expected ${EVENT_SCHEMA_VERSION})`,
      ),
    );
  }

  const parsed = cacheEventSchema.safeParse(payload, ZOD_PARAMS);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const badIdentifier = issues.some((i) => i.code === 'invalid_format' && i.format === 'regex');
    return reject(new EventValidationError(describeIssues(issues), { cause: parsed.error, badIdentifier }));
  }

  const sentAt = attributes?.SentTimestamp;
  const sqsSentAtMs = sentAt !== undefined && /^\d{1,15}$/.test(sentAt) ? Number(sentAt) : undefined;
  return {
    ok: true,
    event: parsed.data,
    delivery: sns === undefined ? 'raw' : 'sns',
    originTimeMs: Date.parse(parsed.data.occurredAt),
    ...sns,
    ...(sqsSentAtMs === undefined ? {} : { sqsSentAtMs }),
  } satisfies ParsedEvent;
}

const reject = (error: InvalidEventError): RejectedEvent => ({ ok: false, error });

/** Zod falls back to this map, never to its locale messages, some of which quote the input. */
const ZOD_PARAMS = { error: fixedIssueText } as const;

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, reason: jsonProblem(text, error) };
  }
}
