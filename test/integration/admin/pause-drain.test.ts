/**
 * The kill switch's pause at the poller level (what invalidation-worker.ts calls when
 * `admin pause` is read), on a private LocalStack queue: a batch in hand when the pause
 * lands is still handled and acked (its delete succeeds), and no receive starts after it,
 * so a message sent afterwards stays in the queue until resume.
 */
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { QueuePollers } from '../../../src/worker/queue-pollers.ts';
import { eventually, sqsClient } from '../../support/aws.ts';
import { testPrefix } from '../../support/stack.ts';

describe('a paused poller drains the batch it holds', () => {
  const admin = sqsClient();
  const sqs = sqsClient();
  afterAll(() => {
    admin.destroy();
    sqs.destroy();
  });

  it('finishes and acks the batch in hand, then receives nothing until resumed', async () => {
    const queueUrl = (await admin.send(new CreateQueueCommand({ QueueName: testPrefix('pause') }))).QueueUrl!;
    const calls = { receives: 0, deletes: 0 };
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ReceiveMessageCommand') calls.receives++;
        const out = await next(args);
        if (context.commandName === 'DeleteMessageBatchCommand') calls.deletes++;
        return out;
      },
      { step: 'initialize', name: 'count-calls' },
    );
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const handled: string[] = [];
    const pollers = new QueuePollers({
      name: 'catalog',
      queueUrl,
      sqs,
      pollers: 1,
      batchSize: 10,
      visibilityTimeoutS: 30,
      heartbeatIntervalS: 10,
      waitTimeS: 1,
      handleBatch: async (messages) => {
        if (messages.some((m) => m.Body === 'in hand')) await held;
        handled.push(...messages.map((m) => m.Body ?? ''));
        return messages;
      },
      logger: pino({ level: 'silent' }),
    });
    const attributes = async () => {
      const a = await admin.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return {
        visible: Number(a.Attributes?.ApproximateNumberOfMessages),
        inFlight: Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible),
      };
    };
    try {
      await admin.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'in hand' }));
      pollers.start();
      await eventually(() => (pollers.inFlight === 1 ? true : undefined), {
        what: 'the batch to be in hand',
      });

      // Act: the kill switch pauses while the batch is held; the batch is released later.
      pollers.pause();
      const receivesAtPause = calls.receives;
      setTimeout(release, 500);
      await eventually(() => (calls.deletes === 1 ? true : undefined), {
        what: 'the held batch to be acked',
      });
      await admin.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'after pause' }));
      await new Promise((r) => setTimeout(r, 3_000));

      // Assess: the held batch was handled and deleted; nothing was received after the pause.
      expect(handled).toEqual(['in hand']);
      expect(calls.receives).toBe(receivesAtPause);
      expect(await attributes()).toEqual({ visible: 1, inFlight: 0 });

      // Resume: the message sent while paused is handled.
      pollers.start();
      await eventually(() => (handled.includes('after pause') ? true : undefined), { what: 'resume' });
    } finally {
      release();
      await pollers.close(5_000);
      await admin.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    }
  });
});
