/**
 * Catalog events as the bench feeds them: one `catalog.product.updated` per message, a
 * distinct ASIN per event (no merging inside a batch: the worst case for the pipeline), and
 * the SQS `Message` objects the SDK would hand the worker, with a raw body (what the
 * deployed subscriptions deliver: `rawMessageDelivery: true`) or an SNS envelope around it.
 */
import { randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';

/** The body shape of a raw delivery. */
export interface ProductEvent {
  readonly type: 'catalog.product.updated';
  readonly schemaVersion: 1;
  readonly eventId: string;
  readonly occurredAt: string;
  readonly version: number;
  readonly asin: string;
}

export type BodyShape = 'raw' | 'sns';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:bench-catalog-events';

/** A valid, unique ASIN for index `i` (10 upper-case letters or digits). */
export function asinFor(i: number): string {
  return `B${i.toString(36).toUpperCase().padStart(9, '0')}`;
}

/** A product event for the `i`-th ASIN, occurring now (or at `atMs`). */
export function productEvent(i: number, atMs: number = Date.now()): ProductEvent {
  return {
    type: 'catalog.product.updated',
    schemaVersion: 1,
    eventId: randomUUID(),
    occurredAt: new Date(atMs).toISOString(),
    version: 1,
    asin: asinFor(i),
  };
}

/** An SQS message carrying `event`, as ReceiveMessage returns it with system attributes. */
export function sqsMessage(event: ProductEvent, shape: BodyShape): Message {
  const raw = JSON.stringify(event);
  const body =
    shape === 'raw'
      ? raw
      : JSON.stringify({
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: TOPIC_ARN,
          Message: raw,
          Timestamp: event.occurredAt,
          SignatureVersion: '1',
          MessageAttributes: { eventType: { Type: 'String', Value: event.type } },
        });
  return {
    MessageId: randomUUID(),
    ReceiptHandle: `rh-${randomUUID()}`,
    Body: body,
    Attributes: {
      SentTimestamp: String(Date.parse(event.occurredAt)),
      ApproximateReceiveCount: '1',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
  };
}

/** Messages for ASIN indexes [from, from + count), cut into SQS-sized batches. */
export function messageBatches(
  from: number,
  count: number,
  batchSize: number,
  shape: BodyShape,
): Message[][] {
  const batches: Message[][] = [];
  for (let i = 0; i < count; i += batchSize) {
    const size = Math.min(batchSize, count - i);
    batches.push(Array.from({ length: size }, (_, n) => sqsMessage(productEvent(from + i + n), shape)));
  }
  return batches;
}
