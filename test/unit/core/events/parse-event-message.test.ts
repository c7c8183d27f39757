import { describe, expect, it } from 'vitest';
import {
  EventValidationError,
  MalformedEventError,
  OversizedEventError,
  UnknownEventTypeError,
  UnsupportedSchemaVersionError,
} from '../../../../src/core/errors.ts';
import { DEFAULT_TENANT } from '../../../../src/core/events/event-base.ts';
import { EVENT_TYPES } from '../../../../src/core/events/cache-event.ts';
import { MAX_EVENT_BODY_BYTES, parseEventMessage } from '../../../../src/core/events/parse-event-message.ts';
import { OCCURRED_AT_MS, TOPIC_ARN, event, raw, snsBody } from '../fixtures.ts';

describe('parseEventMessage: accepted events', () => {
  it.each(EVENT_TYPES)('%s is accepted raw and through SNS', (type) => {
    // Prepare
    const e = event(type);

    // Act
    const fromRaw = parseEventMessage(raw(e));
    const fromSns = parseEventMessage(snsBody(e));

    // Assess
    expect(fromRaw).toMatchObject({ ok: true, delivery: 'raw', event: { type, eventId: e.eventId } });
    expect(fromSns).toMatchObject({ ok: true, delivery: 'sns', event: { type, eventId: e.eventId } });
  });

  it('keeps the SNS publish time, message id and topic for lag measurement', () => {
    // Act
    const result = parseEventMessage(snsBody(event('promotion.expired'), { MessageId: 'abc-123' }));

    // Assess
    expect(result).toMatchObject({
      ok: true,
      snsPublishedAtMs: Date.parse('2025-03-01T12:00:00.250Z'),
      snsMessageId: 'abc-123',
      topicArn: TOPIC_ARN,
      originTimeMs: OCCURRED_AT_MS,
    });
  });

  it('takes SentTimestamp from the SQS attributes on raw delivery', () => {
    // Act
    const result = parseEventMessage(raw(event('session.started')), { SentTimestamp: '1740830400123' });

    // Assess
    expect(result).toMatchObject({ ok: true, delivery: 'raw', sqsSentAtMs: 1740830400123 });
    expect(result.ok && 'snsPublishedAtMs' in result).toBe(false);
  });

  it('defaults the tenant and accepts an offset origin time and a ULID id', () => {
    // Act
    const result = parseEventMessage(
      raw(
        event('catalog.product.updated', {
          occurredAt: '2025-03-01T21:00:00+09:00',
          eventId: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
        }),
      ),
    );

    // Assess
    expect(result).toMatchObject({
      ok: true,
      originTimeMs: OCCURRED_AT_MS,
      event: { tenant: DEFAULT_TENANT },
    });
  });
});

describe('parseEventMessage: rejected messages never throw and say why', () => {
  const bigBody = raw(event('catalog.product.updated', { padding: 'x'.repeat(MAX_EVENT_BODY_BYTES) }));
  it.each([
    ['not JSON', '{nope', MalformedEventError, 'EVENT_MALFORMED', /not JSON/],
    ['JSON array', '[1,2]', MalformedEventError, 'EVENT_MALFORMED', /not a JSON object/],
    ['JSON null', 'null', MalformedEventError, 'EVENT_MALFORMED', /not a JSON object/],
    ['empty body', '', MalformedEventError, 'EVENT_MALFORMED', /not JSON/],
    ['oversized', bigBody, OversizedEventError, 'EVENT_OVERSIZED', /limit is 65536/],
    [
      'unknown type',
      raw(event('catalog.product.exploded')),
      UnknownEventTypeError,
      'EVENT_UNKNOWN_TYPE',
      /unknown event type/,
    ],
    [
      'missing type',
      raw({ ...event('session.started'), type: undefined }),
      EventValidationError,
      'EVENT_INVALID',
      /type/,
    ],
    [
      'schema version 2',
      raw(event('session.started', { schemaVersion: 2 })),
      UnsupportedSchemaVersionError,
      'EVENT_UNSUPPORTED_SCHEMA_VERSION',
      /schemaVersion 2/,
    ],
    [
      'missing schema version',
      raw({ ...event('session.started'), schemaVersion: undefined }),
      EventValidationError,
      'EVENT_INVALID',
      /schemaVersion/,
    ],
    [
      'unknown field (strict), counted but not named: the name is input',
      raw(event('session.started', { userIds: ['u'] })),
      EventValidationError,
      'EVENT_INVALID',
      /^\(event\): 1 unknown field; events are strict$/,
    ],
    [
      'a field of another event type, named: the name is one of ours',
      raw(event('session.started', { asin: 'B08X1YRSTR', userIds: ['u'] })),
      EventValidationError,
      'EVENT_INVALID',
      /2 unknown fields \(asin and 1 more\)/,
    ],
    [
      'version zero',
      raw(event('session.started', { version: 0 })),
      EventValidationError,
      'EVENT_INVALID',
      /version/,
    ],
    [
      'version as string',
      raw(event('session.started', { version: '3' })),
      EventValidationError,
      'EVENT_INVALID',
      /version/,
    ],
    [
      'fractional version',
      raw(event('session.started', { version: 1.5 })),
      EventValidationError,
      'EVENT_INVALID',
      /version/,
    ],
    [
      'origin time without offset',
      raw(event('session.started', { occurredAt: '2025-03-01T12:00:00' })),
      EventValidationError,
      'EVENT_INVALID',
      /occurredAt/,
    ],
    [
      'origin time garbage',
      raw(event('session.started', { occurredAt: 'yesterday' })),
      EventValidationError,
      'EVENT_INVALID',
      /occurredAt/,
    ],
    [
      'bad event id',
      raw(event('session.started', { eventId: 'abc' })),
      EventValidationError,
      'EVENT_BAD_IDENTIFIER',
      /eventId/,
    ],
    [
      'glob ASIN',
      raw(event('catalog.product.updated', { asin: 'B08X1YRST*' })),
      EventValidationError,
      'EVENT_BAD_IDENTIFIER',
      /asin: invalid asin/,
    ],
    [
      'lower-case ASIN',
      raw(event('catalog.product.deleted', { asin: 'b08x1yrstr' })),
      EventValidationError,
      'EVENT_BAD_IDENTIFIER',
      /asin/,
    ],
    [
      'hash-tag user id',
      raw(event('session.started', { userId: 'u}{x' })),
      EventValidationError,
      'EVENT_BAD_IDENTIFIER',
      /userId/,
    ],
    [
      'colon user id',
      raw(event('session.started', { userId: 'acme:reco:other' })),
      EventValidationError,
      'EVENT_BAD_IDENTIFIER',
      /userId/,
    ],
    [
      'bad section in list',
      raw(event('promotion.changed', { storeSections: ['ok', 'Bad Section'] })),
      EventValidationError,
      'EVENT_BAD_IDENTIFIER',
      /storeSections\[1\]/,
    ],
    [
      'no sections',
      raw(event('promotion.expired', { storeSections: [] })),
      EventValidationError,
      'EVENT_INVALID',
      /at least one store section/,
    ],
    [
      'bad tenant',
      raw(event('session.started', { tenant: 'Acme Corp' })),
      EventValidationError,
      'EVENT_BAD_IDENTIFIER',
      /tenant/,
    ],
    [
      'bad locale',
      raw(event('catalog.product.updated', { locales: ['en_US'] })),
      EventValidationError,
      'EVENT_BAD_IDENTIFIER',
      /locales\[0\]/,
    ],
    [
      'empty locales',
      raw(event('catalog.product.updated', { locales: [] })),
      EventValidationError,
      'EVENT_INVALID',
      /locales/,
    ],
    [
      'a field no schema knows (strict)',
      raw(event('catalog.product.deleted', { colour: 'red' })),
      EventValidationError,
      'EVENT_INVALID',
      /unknown field/,
    ],
    [
      'tick without scheduled time',
      raw({ ...event('refresh.tick'), scheduledAt: undefined }),
      EventValidationError,
      'EVENT_INVALID',
      /scheduledAt/,
    ],
  ] as const)('%s', (_label, body, errorClass, code, reason) => {
    // Act
    const result = parseEventMessage(body);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(errorClass);
    expect(result.error.code).toBe(code);
    expect(result.error.retryable).toBe(false);
    expect(result.error.message).toMatch(reason);
  });

  it.each([
    [
      'SubscriptionConfirmation',
      snsBody(event('session.started'), { Type: 'SubscriptionConfirmation' }),
      /Notification/,
    ],
    ['non-string Message', snsBody(event('session.started'), { Message: { nested: true } }), /Message/],
    ['Message not JSON', snsBody(event('session.started'), { Message: 'hello' }), /SNS Message is not JSON/],
    ['bad TopicArn', snsBody(event('session.started'), { TopicArn: 'not-an-arn' }), /TopicArn/],
    ['bad Timestamp', snsBody(event('session.started'), { Timestamp: 'now' }), /Timestamp/],
  ] as const)('rejects an SNS envelope with %s', (_label, body, reason) => {
    // Act
    const result = parseEventMessage(body);

    // Assess
    expect(result).toMatchObject({ ok: false, error: { code: 'EVENT_MALFORMED' } });
    expect(!result.ok && result.error.message).toMatch(reason);
  });

  it('validates the event inside an SNS envelope like a raw one', () => {
    // Act
    const result = parseEventMessage(snsBody(event('catalog.product.updated', { asin: 'B08X1YRST*' })));

    // Assess
    expect(result).toMatchObject({ ok: false, error: { code: 'EVENT_BAD_IDENTIFIER' } });
  });

  it('counts the size limit in UTF-8 bytes, not characters', () => {
    // Prepare: under the limit in characters, over it in bytes (each 'é' is 2 bytes).
    const body = raw(event('session.started', { note: 'é'.repeat(MAX_EVENT_BODY_BYTES / 2 + 10) }));

    // Act
    const result = parseEventMessage(body);

    // Assess
    expect(body.length).toBeLessThan(MAX_EVENT_BODY_BYTES);
    expect(result).toMatchObject({ ok: false, error: { code: 'EVENT_OVERSIZED' } });
  });

  it('bounds the reason and hides hostile field names', () => {
    // Prepare
    const e = event('promotion.changed', {
      storeSections: Array.from({ length: 100 }, () => 'BAD!'),
      'evil\nkey': 1,
    });

    // Act
    const result = parseEventMessage(raw(e));

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message.length).toBeLessThan(700);
    expect(result.error.message).toMatch(/more/);
    expect(result.error.message).not.toContain('evil');
  });

  it.each<unknown>([undefined, 42, {}, null])('never throws on a non-string body (%j)', (body) => {
    // Act
    const result = parseEventMessage(body as string);

    // Assess
    expect(result).toMatchObject({ ok: false, error: { code: 'EVENT_MALFORMED' } });
  });
});
