/**
 * First proofs through the real path (LocalStack), on the messaging part of the CDK app
 * deployed there: a message published to each topic arrives on its queue and is consumed
 * by sqs-consumer; a price-only change is filtered out; a message the
 * consumer keeps failing ends up in the DLQ after the redrive count.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import type { Message } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainQueue, eventually, queueDepth, snsClient, sqsClient } from '../../support/aws.ts';
import { privateMessaging, type PrivateMessaging } from '../../support/private-messaging.ts';

describe('messaging path in LocalStack', () => {
  let messaging: PrivateMessaging;
  const sqs = sqsClient();
  const sns = snsClient();

  beforeAll(async () => {
    // Prepare: the same construct as in AWS, with a short redrive so the DLQ proof is quick.
    messaging = await privateMessaging({ maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
  }, 90_000);

  afterAll(async () => {
    await messaging?.teardown();
    sqs.destroy();
    sns.destroy();
  });

  it.each([
    ['catalog', 'catalog.product.updated'],
    ['promotions', 'promotion.changed'],
    ['sessions', 'session.started'],
  ] as const)(
    'delivers a message published to the %s topic raw to its queue, where a consumer receives and deletes it',
    async (name, eventType) => {
      // Prepare
      const queueUrl = messaging.queues[name].url;
      const body = JSON.stringify({ type: eventType, probe: Math.random() });
      const received: Message[] = [];
      const consumer = Consumer.create({
        queueUrl,
        sqs,
        waitTimeSeconds: 1,
        handleMessage: (m) => {
          received.push(m);
          return Promise.resolve(m);
        },
      });
      consumer.on('error', () => undefined);
      consumer.start();

      // Act
      await sns.send(
        new PublishCommand({
          TopicArn: messaging.topics[name],
          Message: body,
          MessageAttributes: { eventType: { DataType: 'String', StringValue: eventType } },
        }),
      );

      // Assess: raw delivery (the body is the event itself, not an SNS envelope), then acked.
      const message = await eventually(() => received[0], {
        what: `the ${name} consumer to receive it`,
      });
      consumer.stop({ abort: true });
      expect(message.Body).toBe(body);
      await eventually(async () => ((await queueDepth(sqs, queueUrl)) === 0 ? true : undefined), {
        what: 'the queue to be empty after the ack',
      });
    },
  );

  it('drops a price-only change at the subscription filter, but delivers an event without the attribute', async () => {
    // Act
    await sns.send(
      new PublishCommand({
        TopicArn: messaging.topics.catalog,
        Message: 'price-only',
        MessageAttributes: { eventType: { DataType: 'String', StringValue: 'catalog.price.changed' } },
      }),
    );
    await sns.send(new PublishCommand({ TopicArn: messaging.topics.catalog, Message: 'no-attribute' }));

    // Assess: only the second arrives (a publisher that forgets the attribute loses nothing).
    const got = await drainQueue(sqs, messaging.queues.catalog.url, 1);
    await new Promise((r) => setTimeout(r, 1500));
    const late = await drainQueue(sqs, messaging.queues.catalog.url, 0, 2000);
    expect([...got, ...late].map((m) => m.Body)).toEqual(['no-attribute']);
  });

  it('moves a message the consumer keeps failing to the DLQ after the redrive count', async () => {
    // Prepare: a consumer that always fails.
    let attempts = 0;
    const consumer = Consumer.create({
      queueUrl: messaging.queues.promotions.url,
      sqs,
      waitTimeSeconds: 1,
      handleMessage: () => {
        attempts += 1;
        return Promise.reject(new Error('always fails'));
      },
    });
    consumer.on('processing_error', () => undefined);
    consumer.on('error', () => undefined);
    consumer.start();

    // Act
    await sns.send(new PublishCommand({ TopicArn: messaging.topics.promotions, Message: 'doomed' }));

    // Assess: it lands in the DLQ after maxReceiveCount (2) attempts, not before.
    const dead = await drainQueue(sqs, messaging.queues.promotions.dlqUrl, 1, 30_000);
    consumer.stop({ abort: true });
    expect(dead[0]?.Body).toBe('doomed');
    expect(attempts).toBeGreaterThanOrEqual(2);
  }, 40_000);
});
