/**
 * The origin simulator keeps its own copy of the event shapes (so a drift shows); this test
 * is the contract between the two: every event it can publish passes the worker's parser.
 */
import { describe, expect, it } from 'vitest';
import { parseEventMessage } from '../../../src/core/events/parse-event-message.ts';
import { buildEvent } from '../../../src/origin-sim/event-factory.ts';
import type { ChangeRequest } from '../../../src/origin-sim/change-request.ts';

const facts = { version: 7, occurredAt: new Date('2026-11-22T10:00:00.000Z') };

describe('origin simulator events satisfy the worker contract', () => {
  it.each<[string, ChangeRequest]>([
    ['product updated', { family: 'product', kind: 'updated', asin: 'B08X1YRSTR', publish: true }],
    [
      'product updated with locales and tenant',
      {
        family: 'product',
        kind: 'updated',
        asin: 'B08X1YRSTR',
        locales: ['fr-FR'],
        tenant: 'acme',
        publish: true,
      },
    ],
    ['product deleted', { family: 'product', kind: 'deleted', asin: 'B08X1YRSTR', publish: true }],
    ...(['changed', 'activated', 'expired'] as const).map((kind): [string, ChangeRequest] => [
      `promotion ${kind}`,
      {
        family: 'promotion',
        kind,
        promotionId: 'golden-week',
        storeSections: ['manga-home', 'deals'],
        publish: true,
      },
    ]),
    ['session started', { family: 'session', kind: 'started', userId: 'user-42', publish: true }],
    ['review summary changed', { family: 'review', kind: 'changed', asin: 'B08X1YRSTR', publish: true }],
  ])('%s', (_name, change) => {
    // Act
    const event = buildEvent(change, facts);
    const parsed = parseEventMessage(JSON.stringify(event));

    // Assess
    if (!parsed.ok) throw new Error(`rejected: ${parsed.error.message}`);
    expect(parsed.event.type).toBe(event.type);
    expect(parsed.originTimeMs).toBe(facts.occurredAt.getTime());
  });
});
