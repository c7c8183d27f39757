/** AWS SDK clients pointed at the local stack, and small polling helpers for tests. */
import { SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { readQueueDepth } from '../../src/adapters/sqs/queue-depth.ts';
import { asQueueUrl } from '../../src/core/identifiers.ts';
import { stack } from './stack.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export function sqsClient(): SQSClient {
  const s = stack();
  return new SQSClient({ endpoint: s.localstack.endpoint, region: s.region, credentials });
}

export function snsClient(): SNSClient {
  const s = stack();
  return new SNSClient({ endpoint: s.localstack.endpoint, region: s.region, credentials });
}

/** Polls until `probe` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 15_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Receives (and deletes) messages until `count` have arrived. */
export async function drainQueue(sqs: SQSClient, queueUrl: string, count: number, timeoutMs = 15_000) {
  const got: Message[] = [];
  await eventually(
    async () => {
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      for (const m of res.Messages ?? []) {
        got.push(m);
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
      }
      return got.length >= count ? got : undefined;
    },
    { timeoutMs, what: `${count} messages on ${queueUrl}` },
  );
  return got;
}

/** Visible + in-flight messages of a queue: the worker's own reader. */
export const queueDepth = (sqs: SQSClient, queueUrl: string): Promise<number> =>
  readQueueDepth(sqs, asQueueUrl(queueUrl));
