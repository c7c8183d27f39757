/**
 * `/_sim/change` through the real path: SNS in LocalStack to a raw-subscribed SQS queue.
 * Each run creates its own topics and queue (unique names, deleted afterwards), so it does
 * not depend on, or disturb, the stack's messaging resources.
 */
import { existsSync } from 'node:fs';
import { CreateTopicCommand, DeleteTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV_FILE, stack, testPrefix } from '../../support/stack.ts';
import { startSim } from './sim-harness.ts';
import type { SimHarness } from './sim-harness.ts';

const endpoint = existsSync(ENV_FILE) ? stack().localstack.endpoint : 'http://127.0.0.1:4566';
const region = existsSync(ENV_FILE) ? stack().region : 'us-east-1';
const aws = { endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const sns = new SNSClient(aws);
const sqs = new SQSClient(aws);

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const prefix = testPrefix('osim');
const topicArns: Record<'catalog' | 'promotions' | 'sessions', string> = {
  catalog: '',
  promotions: '',
  sessions: '',
};
let queueUrl = '';
let h: SimHarness;
const received = new Map<string, Message>();

/** Polls the queue until a message whose body has `eventId` arrives (delivery is async). */
async function awaitEvent(eventId: string, timeoutMs = 15_000): Promise<Message> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = received.get(eventId);
    if (found) return found;
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    for (const message of out.Messages ?? []) {
      const body = JSON.parse(message.Body ?? '{}') as { eventId?: string };
      if (body.eventId !== undefined) received.set(body.eventId, message);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  throw new Error(`event ${eventId} did not arrive within ${timeoutMs} ms`);
}

beforeAll(async () => {
  for (const topic of ['catalog', 'promotions', 'sessions'] as const) {
    const created = await sns.send(new CreateTopicCommand({ Name: `${prefix}-${topic}` }));
    topicArns[topic] = created.TopicArn ?? '';
  }
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-events` }));
  queueUrl = queue.QueueUrl ?? '';
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queueArn = attrs.Attributes?.QueueArn ?? '';
  // One queue for all three topics keeps the test light; raw delivery, as the fleet uses.
  for (const arn of Object.values(topicArns))
    await sns.send(
      new SubscribeCommand({
        TopicArn: arn,
        Protocol: 'sqs',
        Endpoint: queueArn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
  h = await startSim({ config: { latencyScale: 0 }, topics: topicArns, sns: aws });
});

afterAll(async () => {
  await h?.sim.close();
  // Every cleanup step runs even when one fails.
  await Promise.allSettled([
    ...Object.values(topicArns)
      .filter((arn) => arn !== '')
      .map((arn) => sns.send(new DeleteTopicCommand({ TopicArn: arn }))),
    queueUrl !== '' ? sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })) : Promise.resolve(),
  ]);
  sns.destroy();
  sqs.destroy();
});

interface ChangeResponse {
  event: Record<string, unknown> & { eventId: string; type: string; occurredAt: string; version: number };
  published: boolean;
  topicArn: string;
  messageId: string;
}

describe('POST /_sim/change publishes the matching event to SNS', () => {
  it.each([
    [
      'product updated, with locales and tenant',
      { family: 'product', id: 'B0EVENTS01', locales: ['en-US', 'ja-JP'], tenant: 'acme' },
      'catalog',
      { type: 'catalog.product.updated', asin: 'B0EVENTS01', locales: ['en-US', 'ja-JP'], tenant: 'acme' },
      ['asin', 'locales', 'tenant'],
    ],
    [
      'product deleted',
      { family: 'product', id: 'B0EVENTS02', kind: 'deleted' },
      'catalog',
      { type: 'catalog.product.deleted', asin: 'B0EVENTS02' },
      ['asin'],
    ],
    [
      'promotion activated in two sections',
      { family: 'promotion', id: 'spring-sale', kind: 'activated', storeSections: ['books', 'manga'] },
      'promotions',
      { type: 'promotion.activated', promotionId: 'spring-sale', storeSections: ['books', 'manga'] },
      ['promotionId', 'storeSections'],
    ],
    [
      'promotion changed, section defaults to the id',
      { family: 'promotion', id: 'electronics' },
      'promotions',
      { type: 'promotion.changed', promotionId: 'electronics', storeSections: ['electronics'] },
      ['promotionId', 'storeSections'],
    ],
    [
      'promotion expired',
      { family: 'promotion', id: 'old-deal', kind: 'expired', storeSections: ['toys'] },
      'promotions',
      { type: 'promotion.expired', promotionId: 'old-deal', storeSections: ['toys'] },
      ['promotionId', 'storeSections'],
    ],
    [
      'session started',
      { family: 'session', id: 'user_42' },
      'sessions',
      { type: 'session.started', userId: 'user_42' },
      ['userId', 'sessionId'],
    ],
    [
      'review summary changed',
      { family: 'review', id: 'B0EVENTS03' },
      'catalog',
      { type: 'review.summary-changed', asin: 'B0EVENTS03' },
      ['asin'],
    ],
  ] as const)('%s', async (_label, body, topic, expected, specificFields) => {
    // Prepare
    const startedAt = Date.now();

    // Act
    const res = await h.post('/_sim/change', body);
    const out = res.body as ChangeResponse;
    const message = await awaitEvent(out.event.eventId);

    // Assess: the response
    expect(res.status).toBe(200);
    expect(out.published).toBe(true);
    expect(out.topicArn).toBe(topicArns[topic]);
    expect(out.messageId).toEqual(expect.any(String));
    // Assess: the event on the wire is exactly the one returned, with the common fields
    const event = JSON.parse(message.Body ?? '') as ChangeResponse['event'];
    expect(event).toEqual(out.event);
    expect(event).toMatchObject({ ...expected, schemaVersion: 1 });
    expect(event.eventId).toMatch(UUID_V4);
    expect(event.occurredAt).toMatch(ISO_MS);
    expect(Date.parse(event.occurredAt)).toBeGreaterThanOrEqual(startedAt - 5);
    expect(Number.isInteger(event.version) && event.version >= 2).toBe(true);
    const common = ['type', 'schemaVersion', 'eventId', 'occurredAt', 'version'];
    expect(Object.keys(event).sort()).toEqual([...common, ...specificFields].sort());
    expect(message.MessageAttributes?.eventType?.StringValue).toBe(expected.type);
  });

  it('successive changes of one entity carry growing versions, and GET serves the new one', async () => {
    // Act
    const first = (await h.post('/_sim/change', { family: 'review', id: 'B0EVENTS04' }))
      .body as ChangeResponse;
    const second = (await h.post('/_sim/change', { family: 'review', id: 'B0EVENTS04' }))
      .body as ChangeResponse;
    const review = (await h.get('/reviews/B0EVENTS04')).body as { version: number };
    await awaitEvent(second.event.eventId);

    // Assess
    expect(second.event.version).toBe(first.event.version + 1);
    expect(review.version).toBe(second.event.version);
    expect(second.event.eventId).not.toBe(first.event.eventId);
  });
});
