/**
 * Bad input never costs a good event and never touches a key it should not: a batch that
 * mixes valid and poison messages applies and acks the valid ones, sends each poison
 * message to the DLQ with its reason, and leaves every other key of Redis as it was. The
 * worker runs against a private redis-server, so "every other key" is the whole keyspace.
 */
import { ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { DEAD_LETTER_ATTRIBUTES } from '../../src/adapters/sqs/dead-letter-queue.ts';
import { drainQueue, eventually, queueDepth, sqsClient } from '../support/aws.ts';
import { makeEvent, productUpdated } from '../support/events.ts';
import { privateWorld, type PrivateWorld } from '../support/private-world.ts';

describe('a batch mixing valid and poison messages', () => {
  const sqs = sqsClient();
  const namespace = 'poison';
  const keys = createKeyBuilder({ namespace, locales: ['en-US', 'ja-JP'] });
  let world: PrivateWorld;

  beforeAll(async () => {
    world = await privateWorld();
  });

  afterAll(async () => {
    await world?.teardown();
    sqs.destroy();
  });

  it('applies the valid, dead-letters the poison with reasons, and touches nothing else', async () => {
    const { redis, messaging } = world;
    // Prepare: keys of every family, plus keys shaped like what an attacker would aim at.
    const valid = ['B0VALID001', 'B0VALID002'];
    const survivors = {
      'poison:{default:product:B0UNTOUCH1}:v1:en-US': 'product',
      'poison:{default:product:*}:v1:en-US': 'glob-looking key',
      'poison:{default:product:b0valid001}:v1:en-US': 'lower-case twin',
      'poison:{default:review:B0VALID001}:v1:en-US': 'review of a valid ASIN',
      'poison:{default:promo:deals}:v1:en-US': 'promo',
      'other-namespace:{default:product:B0VALID001}:v1:en-US': 'another namespace',
      'product:B0VALID001': 'unnamespaced key',
    };
    const targets = valid.flatMap((id) => keys.variantKeys({ family: 'product', tenant: 'default', id }));
    for (const k of targets) await redis.client.set(k, 'stale');
    for (const [k, v] of Object.entries(survivors)) await redis.client.set(k, v);
    const before = await redis.snapshot();

    const poison: [string, string][] = [
      ['lower-case ASIN', JSON.stringify(productUpdated('b0valid001'))],
      ['glob in the ASIN', JSON.stringify(productUpdated('B0VALID00*'))],
      ['hash tag in the ASIN', JSON.stringify(productUpdated('B0{VALID}1'))],
      ['separator in the tenant', JSON.stringify(productUpdated('B0VALID001', { tenant: 'a:b' }))],
      ['unknown type', JSON.stringify(makeEvent('catalog.product.exploded', { asin: 'B0VALID001' }))],
      ['wrong type of field', JSON.stringify(productUpdated('B0VALID001', { version: 'two' }))],
      ['not JSON', '{"type": "catalog.product.updated", '],
      ['oversized', JSON.stringify(productUpdated('B0VALID001', { padding: 'x'.repeat(70 * 1024) }))],
    ];
    const entries = [
      ...valid.map((id, n) => ({ Id: `valid${n}`, MessageBody: JSON.stringify(productUpdated(id)) })),
      ...poison.map(([, body], n) => ({ Id: `poison${n}`, MessageBody: body })),
    ];
    // One SendMessageBatch of 10, so a receive of 10 sees valid and poison together.
    expect(entries).toHaveLength(10);

    // Act: send, then start the worker so it receives them as one batch.
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: messaging.queues.catalog.url, Entries: entries }));
    // Exact DLQ copies are counted: a long visibility keeps a slow emulator's redelivery (a
    // second copy, at-least-once) out of the count (decision 0021).
    await world.startWorker(namespace, {
      WORKER_POLLERS_PER_QUEUE: '1',
      WORKER_VISIBILITY_TIMEOUT_S: '10',
      WORKER_HEARTBEAT_INTERVAL_S: '3',
    });

    // Assess: every poison message is in the DLQ, once, with its reason.
    const dead = await drainQueue(sqs, messaging.queues.catalog.dlqUrl, poison.length, 30_000);
    expect(dead).toHaveLength(poison.length);
    for (const m of dead) {
      const reason = m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue ?? '';
      const code = m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.code]?.StringValue ?? '';
      expect(reason.length, m.Body?.slice(0, 80)).toBeGreaterThan(5);
      expect(code).toMatch(/^EVENT_/);
    }
    expect(new Set(dead.map((m) => m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.code]?.StringValue))).toEqual(
      new Set([
        'EVENT_BAD_IDENTIFIER',
        'EVENT_UNKNOWN_TYPE',
        'EVENT_INVALID',
        'EVENT_MALFORMED',
        'EVENT_OVERSIZED',
      ]),
    );

    // The valid ones were applied and acked: the source queue is empty.
    await eventually(
      async () => ((await queueDepth(sqs, messaging.queues.catalog.url)) === 0 ? true : undefined),
      {
        what: 'the source queue to be empty',
      },
    );

    // The whole keyspace: exactly the valid products' variants are gone, their fences and the
    // broadcast sequence are new, and every other key is byte for byte what it was.
    const after = await redis.snapshot();
    const expected = new Map(before);
    for (const k of targets) expected.delete(k);
    for (const id of valid) {
      // A new fence starts at the Redis clock in µs (16 digits), never at 1 (rule 8).
      const fence = keys.fenceKey({ family: 'product', tenant: 'default', id });
      expect(after.get(fence)).toMatch(/^string:[1-9]\d{15}$/);
      expected.set(fence, after.get(fence) ?? 'missing');
    }
    expected.set(`${namespace}:{l1}:seq`, after.get(`${namespace}:{l1}:seq`) ?? 'missing');
    expect(Object.fromEntries(after)).toEqual(Object.fromEntries(expected));

    // Poison is never retried: nothing comes back to the source queue later.
    const again = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: messaging.queues.catalog.url, WaitTimeSeconds: 2 }),
    );
    expect(again.Messages ?? []).toHaveLength(0);
  });
});
