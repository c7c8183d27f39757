/** Builds valid events (as origins publish them) and publishes them through SNS. */
import { randomUUID } from 'node:crypto';
import { PublishBatchCommand, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';

type Fields = Record<string, unknown>;

/** A valid event of `type` with sensible defaults; `fields` override. */
export function makeEvent(type: string, fields: Fields = {}): Fields & { type: string; eventId: string } {
  return {
    type,
    schemaVersion: 1,
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    version: 1,
    ...fields,
  };
}

export const productUpdated = (asin: string, fields: Fields = {}) =>
  makeEvent('catalog.product.updated', { asin, ...fields });
export const promotionChanged = (storeSections: string[], fields: Fields = {}) =>
  makeEvent('promotion.changed', { promotionId: 'golden-week', storeSections, ...fields });
export const sessionStarted = (userId: string, fields: Fields = {}) =>
  makeEvent('session.started', { userId, ...fields });

/** Publishes one body (an event object, or a raw string for poison) with its eventType attribute. */
export async function publish(sns: SNSClient, topicArn: string, body: Fields | string): Promise<void> {
  const message = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? undefined : (body.type as string | undefined);
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Message: message,
      ...(type ? { MessageAttributes: { eventType: { DataType: 'String', StringValue: type } } } : {}),
    }),
  );
}

/** Publishes many events, ten per call (SNS PublishBatch). */
export async function publishAll(sns: SNSClient, topicArn: string, events: readonly Fields[]): Promise<void> {
  for (let i = 0; i < events.length; i += 10) {
    const chunk = events.slice(i, i + 10);
    const res = await sns.send(
      new PublishBatchCommand({
        TopicArn: topicArn,
        PublishBatchRequestEntries: chunk.map((e, n) => ({
          Id: String(n),
          Message: JSON.stringify(e),
          MessageAttributes: { eventType: { DataType: 'String', StringValue: String(e.type) } },
        })),
      }),
    );
    if ((res.Failed ?? []).length > 0) throw new Error(`publish failed: ${JSON.stringify(res.Failed)}`);
  }
}
