/**
 * The auditor's small parts: the origin budget (a token bucket that refuses, never queues),
 * deterministic sampling, the L1 inspection route (authenticated, side-effect free), and the
 * worker's test-only drop hook, which the configuration refuses outside tests.
 */
import type { Message } from '@aws-sdk/client-sqs';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { sampled } from '../../../src/auditor/auditor.ts';
import { registerL1InspectionRoute } from '../../../src/auditor/l1-inspection-route.ts';
import { OriginVersions } from '../../../src/auditor/origin-versions.ts';
import { loadWorkerConfig } from '../../../src/config/load-config.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { withTestDrops } from '../../../src/worker/test-drop-hook.ts';

describe('the origin budget', () => {
  it('allows ratePerSecond calls a second and refuses the rest at once', () => {
    let now = 0;
    const origin = new OriginVersions({ url: 'http://x', ratePerSecond: 3, timeoutMs: 10, now: () => now });

    const first = [1, 2, 3, 4].map(() => origin.take());
    now += 1_000;
    const later = [1, 2, 3, 4].map(() => origin.take());
    now += 10_000;
    const afterIdle = [1, 2, 3, 4].map(() => origin.take());

    expect(first).toEqual([true, true, true, false]);
    expect(later).toEqual([true, true, true, false]);
    // An idle bucket holds one second's worth, never more.
    expect(afterIdle).toEqual([true, true, true, false]);
  });

  it('a refused call never reaches the origin', async () => {
    const origin = new OriginVersions({
      url: 'http://127.0.0.1:1',
      ratePerSecond: 1,
      timeoutMs: 200,
      now: () => 0,
    });
    origin.take();

    expect(await origin.version('promo', 'manga')).toEqual({ outcome: 'budget' });
  });
});

describe('sampling', () => {
  it('is deterministic by event id and close to the rate', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `event-${i}`);

    const picked = ids.filter((id) => sampled(id, 0.1));

    expect(picked.length / ids.length).toBeGreaterThan(0.09);
    expect(picked.length / ids.length).toBeLessThan(0.11);
    expect(ids.filter((id) => sampled(id, 0.1))).toEqual(picked);
    expect(ids.every((id) => sampled(id, 1))).toBe(true);
  });
});

describe('GET /l1', () => {
  const TOKEN = 'a'.repeat(64);
  const seen: unknown[] = [];
  const client = {
    inspectL1(family: string, id: string, dims?: Record<string, string>) {
      seen.push([family, id, dims]);
      return dims?.locale === 'en-US' ? { version: 4, storedAtMs: 123 } : undefined;
    },
  };
  const app = Fastify();
  registerL1InspectionRoute(app, client, {
    tenant: 'default',
    locales: ['en-US', 'ja-JP'],
    token: () => TOKEN,
  });
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('answers what L1 holds per locale', async () => {
    const res = await app.inject({
      url: '/l1?family=product&id=B000000001&locales=en-US,ja-JP,fr-FR',
      headers: auth,
    });

    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      tenant: 'default',
      entries: [
        { locale: 'en-US', version: 4, storedAtMs: 123 },
        { locale: 'ja-JP', absent: true },
        // Not a configured locale: the client never holds it, and is not asked.
        { locale: 'fr-FR', absent: true },
      ],
    });
  });

  it('holds nothing of another tenant', async () => {
    const res = await app.inject({
      url: '/l1?family=product&id=B000000001&locales=en-US&tenant=acme',
      headers: auth,
    });

    expect(res.json()).toMatchObject({ entries: [{ locale: 'en-US', absent: true }] });
  });

  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: `Bearer ${'b'.repeat(64)}` }],
  ])('refuses a call with %s, without looking at L1', async (_name, headers) => {
    const before = seen.length;

    const res = await app.inject({ url: '/l1?family=product&id=B000000001&locales=en-US', headers });

    expect(res.statusCode).toBe(401);
    expect(seen.length).toBe(before);
  });

  it('refuses an unknown family', async () => {
    const res = await app.inject({ url: '/l1?family=price&id=B000000001', headers: auth });

    expect(res.statusCode).toBe(400);
  });
});

describe('WORKER_TEST_DROP_EVENT_IDS', () => {
  const env = {
    AWS_REGION: 'us-east-1',
    WORKER_CATALOG_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/q',
    WORKER_TEST_DROP_EVENT_IDS: 'e-1,e-2',
  };

  it('is refused unless NODE_ENV=test, with what to do', () => {
    const load = () => loadWorkerConfig({ ...env, NODE_ENV: 'production' });

    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/WORKER_TEST_DROP_EVENT_IDS.*refused unless NODE_ENV=test/);
  });

  it('is accepted in tests', () => {
    expect(loadWorkerConfig({ ...env, NODE_ENV: 'test' }).testDropEventIds).toEqual(['e-1', 'e-2']);
  });

  it('is empty when unset, in any environment', () => {
    expect(
      loadWorkerConfig({ ...env, WORKER_TEST_DROP_EVENT_IDS: undefined, NODE_ENV: 'production' })
        .testDropEventIds,
    ).toEqual([]);
  });
});

describe('withTestDrops', () => {
  const body = (eventId: string) =>
    JSON.stringify({
      type: 'catalog.product.updated',
      schemaVersion: 1,
      eventId,
      occurredAt: '2026-12-01T10:00:00.000Z',
      version: 2,
      asin: 'B000000001',
    });
  const DROP = '0b7e1f5e-8a57-4c1e-9a3e-1f2d3c4b5a69';
  const KEEP = '1c7e1f5e-8a57-4c1e-9a3e-1f2d3c4b5a69';
  const logger = { warn: () => undefined } as never;

  it('acks the listed events without handing them to the handler, and hands over the rest', async () => {
    const handled: string[] = [];
    const handler = withTestDrops(
      (messages) => {
        handled.push(...messages.map((m) => m.MessageId ?? ''));
        return Promise.resolve(messages);
      },
      [DROP],
      logger,
    );

    const acked = await handler([
      { MessageId: 'drop', Body: body(DROP) },
      { MessageId: 'keep', Body: body(KEEP) },
      { MessageId: 'poison', Body: '{not json' },
    ]);

    expect(handled).toEqual(['keep', 'poison']);
    expect(acked.map((m) => m.MessageId).sort()).toEqual(['drop', 'keep', 'poison']);
  });

  it('is the handler itself when nothing is listed', () => {
    const handler = (messages: Message[]) => Promise.resolve(messages);

    expect(withTestDrops(handler, [], logger)).toBe(handler);
  });
});
