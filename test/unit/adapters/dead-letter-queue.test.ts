/**
 * The DLQ adapter against a fake SQS that enforces the limits AWS documents for
 * SendMessageBatch: at most 10 entries, and 256 KiB per message and per call, where a
 * message's size is its body plus, per attribute, name + data type + value (UTF-8 bytes).
 */
import { createHash } from 'node:crypto';
import type { Message, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_ATTRIBUTES,
  sendToDeadLetterQueue,
  type PoisonMessage,
} from '../../../src/adapters/sqs/dead-letter-queue.ts';
import { asQueueUrl } from '../../../src/core/identifiers.ts';

const LIMIT = 256 * 1024;
const DLQ_URL = asQueueUrl('dlq');
const SOURCE_URL = asQueueUrl('src');
type Entry = NonNullable<SendMessageBatchCommand['input']['Entries']>[number];

const utf8 = (s: string | undefined): number => Buffer.byteLength(s ?? '', 'utf8');
function sqsSize(entry: Entry): number {
  let size = utf8(entry.MessageBody);
  for (const [name, v] of Object.entries(entry.MessageAttributes ?? {})) {
    size += utf8(name) + utf8(v.DataType) + (v.BinaryValue?.byteLength ?? utf8(v.StringValue));
  }
  return size;
}

/** A fake SQS client: refuses what AWS refuses, records what it accepted. */
function fakeSqs() {
  const calls: Entry[][] = [];
  const client = {
    send(command: SendMessageBatchCommand) {
      const entries = command.input.Entries ?? [];
      if (entries.length > 10) return Promise.reject(new Error('TooManyEntriesInBatchRequest'));
      const total = entries.reduce((n, e) => n + sqsSize(e), 0);
      if (total > LIMIT) return Promise.reject(new Error(`BatchRequestTooLong: ${total} bytes`));
      for (const e of entries) {
        if (sqsSize(e) > LIMIT) return Promise.reject(new Error('InvalidParameterValue: message too long'));
      }
      calls.push(entries);
      return Promise.resolve({ Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] });
    },
  };
  return { client: client as unknown as SQSClient, calls };
}

const poison = (id: string, body: string, attributes: Message['MessageAttributes'] = {}): PoisonMessage => ({
  message: { MessageId: id, Body: body, MessageAttributes: attributes },
  code: 'EVENT_MALFORMED',
  reason: 'the body is not JSON',
});

describe('sendToDeadLetterQueue: SendMessageBatch limits', () => {
  it('splits ten 30 kB poison bodies into calls of at most 256 KiB each, all confirmed', async () => {
    // Prepare
    const sqs = fakeSqs();
    const batch = Array.from({ length: 10 }, (_, i) => poison(`m${i}`, 'x'.repeat(30_000)));

    // Act
    const confirmed = await sendToDeadLetterQueue(sqs.client, DLQ_URL, SOURCE_URL, batch);

    // Assess
    expect([...confirmed].sort()).toEqual(batch.map((p) => p.message.MessageId).sort());
    expect(sqs.calls.length).toBeGreaterThan(1);
    for (const call of sqs.calls) expect(call.reduce((n, e) => n + sqsSize(e), 0)).toBeLessThanOrEqual(LIMIT);
    expect(sqs.calls.flat().map((e) => e.MessageBody)).toEqual(batch.map((p) => p.message.Body));
  });

  it('copies a message too large to copy whole with its reason, size and SHA-256', async () => {
    // Prepare: a body at the limit leaves no room for the reason attributes.
    const sqs = fakeSqs();
    const body = `{"a":"${'é'.repeat(LIMIT / 2)}"}`;
    const big = poison('big', body, { traceId: { DataType: 'String', StringValue: 'abc' } });

    // Act
    const confirmed = await sendToDeadLetterQueue(sqs.client, DLQ_URL, SOURCE_URL, [
      big,
      poison('small', '{'),
    ]);

    // Assess
    expect([...confirmed].sort()).toEqual(['big', 'small']);
    const copy = sqs.calls
      .flat()
      .find((e) => e.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.originalMessageId]?.StringValue === 'big');
    expect(copy).toBeDefined();
    if (copy === undefined) return;
    const attrs = copy.MessageAttributes ?? {};
    expect(sqsSize(copy)).toBeLessThanOrEqual(LIMIT);
    expect(attrs[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe('the body is not JSON');
    expect(attrs[DEAD_LETTER_ATTRIBUTES.code]?.StringValue).toBe('EVENT_MALFORMED');
    expect(attrs.deadLetterOriginalBodyBytes).toEqual({
      DataType: 'Number',
      StringValue: String(utf8(body)),
    });
    expect(attrs.deadLetterOriginalBodySha256?.StringValue).toBe(
      createHash('sha256').update(body, 'utf8').digest('hex'),
    );
    // The kept part is a prefix of the original, cut on a character boundary.
    expect(body.startsWith(copy.MessageBody ?? '')).toBe(true);
    expect(copy.MessageBody).not.toContain('\uFFFD');
  });

  it('keeps only XML 1.0 characters in the reason and caps its length', async () => {
    // Prepare: SQS attribute values accept #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF.
    const sqs = fakeSqs();
    const reason = `a\u0000b\u000Bc\uD800d\uDC00e\uFFFEf\uFFFF\u{1F600}g${'x'.repeat(10_000)}`;

    // Act
    await sendToDeadLetterQueue(sqs.client, DLQ_URL, SOURCE_URL, [
      { ...poison('m1', '{'), reason, code: 'EVENT\u0000X' },
    ]);

    // Assess
    const attrs = sqs.calls.flat()[0]?.MessageAttributes ?? {};
    const sent = attrs[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue ?? '';
    const xml = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
    expect(sent).toMatch(xml);
    expect(sent.startsWith('a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFD\u{1F600}g')).toBe(true);
    expect(sent.length).toBeLessThanOrEqual(1_024);
    expect(attrs[DEAD_LETTER_ATTRIBUTES.code]?.StringValue).toMatch(xml);
  });
});
