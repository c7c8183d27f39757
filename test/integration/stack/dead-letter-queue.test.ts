/**
 * The DLQ adapter against LocalStack. LocalStack 4.14 refuses a SendMessageBatch over
 * 1 MiB in total (BatchRequestTooLong) and a message over the queue's MaximumMessageSize,
 * counting body + attribute names, data types and values. The DLQ here is set to AWS's
 * conservative 256 KiB, the limit the adapter is designed for.
 */
import { createHash } from 'node:crypto';
import { CreateQueueCommand, DeleteQueueCommand, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_ATTRIBUTES,
  sendToDeadLetterQueue,
} from '../../../src/adapters/sqs/dead-letter-queue.ts';
import { asQueueUrl } from '../../../src/core/identifiers.ts';
import { drainQueue, sqsClient } from '../../support/aws.ts';
import { testPrefix } from '../../support/stack.ts';

describe('sendToDeadLetterQueue on LocalStack', () => {
  const sqs = sqsClient();
  let dlqUrl = asQueueUrl('');
  const sourceUrl = asQueueUrl('http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/source');

  beforeAll(async () => {
    // Prepare
    const created = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${testPrefix('dlq')}`,
        Attributes: { MaximumMessageSize: String(256 * 1024) },
      }),
    );
    dlqUrl = asQueueUrl(created.QueueUrl ?? '');
  });

  afterAll(async () => {
    if (dlqUrl !== '') await sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl }));
    sqs.destroy();
  });

  const poison = (id: string, body: string) => ({
    message: { MessageId: id, Body: body, MessageAttributes: {} } satisfies Message,
    code: 'EVENT_OVERSIZED',
    reason: 'message body is too large',
  });

  it('dead-letters ten 110 kB bodies (over 1 MiB together) with their reasons', async () => {
    // Prepare
    const batch = Array.from({ length: 10 }, (_, i) => poison(`big-${i}`, `${i}`.repeat(110_000)));

    // Act
    const confirmed = await sendToDeadLetterQueue(sqs, dlqUrl, sourceUrl, batch);

    // Assess
    expect(confirmed.size).toBe(10);
    const copies = await drainQueue(sqs, dlqUrl, 10);
    const byId = new Map(
      copies.map((m) => [m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.originalMessageId]?.StringValue, m]),
    );
    for (const p of batch) {
      const copy = byId.get(p.message.MessageId);
      expect(copy?.Body).toBe(p.message.Body);
      expect(copy?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe(p.reason);
    }
  });

  it('dead-letters a body that only fits without its reason: truncated, with size and SHA-256', async () => {
    // Prepare: the source queue accepted it (at the limit); the reason pushes the copy over.
    const body = 'z'.repeat(256 * 1024 - 20);

    // Act
    const confirmed = await sendToDeadLetterQueue(sqs, dlqUrl, sourceUrl, [poison('edge', body)]);

    // Assess
    expect([...confirmed]).toEqual(['edge']);
    const [copy] = await drainQueue(sqs, dlqUrl, 1);
    const attrs = copy?.MessageAttributes ?? {};
    expect(attrs[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe('message body is too large');
    expect(attrs.deadLetterOriginalBodyBytes?.StringValue).toBe(String(body.length));
    expect(attrs.deadLetterOriginalBodySha256?.StringValue).toBe(
      createHash('sha256').update(body).digest('hex'),
    );
    expect(body.startsWith(copy?.Body ?? '-')).toBe(true);
  });

  it('dead-letters a poison whose reason holds characters SQS refuses (NUL, VT, a lone surrogate)', async () => {
    // Prepare: LocalStack, like SQS, refuses NUL and VT per entry and fails the whole call on
    // a lone surrogate; the copy must go through whatever the reason holds.
    const p = {
      ...poison('nasty', '{"type":1}'),
      reason: `bad\u0000\u000B\uD800\uFFFE ${'r'.repeat(5_000)}`,
    };

    // Act
    const confirmed = await sendToDeadLetterQueue(sqs, dlqUrl, sourceUrl, [p]);

    // Assess
    expect([...confirmed]).toEqual(['nasty']);
    const [copy] = await drainQueue(sqs, dlqUrl, 1);
    const reason = copy?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue ?? '';
    expect(reason.startsWith('bad')).toBe(true);
    expect(reason).toMatch(/^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD]*$/);
    expect(reason.length).toBeLessThanOrEqual(1_024);
    expect(copy?.Body).toBe('{"type":1}');
  });
});
