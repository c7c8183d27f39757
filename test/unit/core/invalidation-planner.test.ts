import { describe, expect, it } from 'vitest';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import type { KeyBuilder } from '../../../src/core/key-builder.ts';
import { hashTagOf, parseKey } from '../../../src/core/key-parser.ts';
import { mergeEffects, planBatch } from '../../../src/core/invalidation-planner.ts';
import type { IncomingMessage } from '../../../src/core/invalidation-planner.ts';
import type { EntityEffect } from '../../../src/core/invalidation-plan.ts';
import { OCCURRED_AT_MS, event, raw, snsBody } from './fixtures.ts';

const keys = createKeyBuilder({ namespace: 'mc', locales: ['en-US', 'ja-JP'] });
const msg = (messageId: string, body: string): IncomingMessage => ({ messageId, body });

describe('planBatch: one message of each kind', () => {
  it('plans a product update: every variant unlinked, fence bumped, one broadcast', () => {
    // Prepare
    const e = event('catalog.product.updated', { tenant: 'acme' });

    // Act
    const plan = planBatch([msg('m1', snsBody(e))], keys);

    // Assess
    expect(plan.decisions).toEqual([
      {
        kind: 'apply',
        messageId: 'm1',
        eventId: e.eventId,
        family: 'product',
        tenant: 'acme',
        originTimeMs: OCCURRED_AT_MS,
        snsPublishedAtMs: Date.parse('2025-03-01T12:00:00.250Z'),
      },
    ]);
    expect(plan.effects).toEqual([
      {
        family: 'product',
        slotTag: 'acme:product:B08X1YRSTR',
        unlink: ['mc:{acme:product:B08X1YRSTR}:v1:en-US', 'mc:{acme:product:B08X1YRSTR}:v1:ja-JP'],
        fence: 'mc:{acme:product:B08X1YRSTR}:fence',
        fenceTtlMs: 3_600_000,
        critical: false,
      },
    ]);
    expect(plan.broadcast).toEqual({
      keys: ['mc:{acme:product:B08X1YRSTR}:v1:en-US', 'mc:{acme:product:B08X1YRSTR}:v1:ja-JP'],
      fences: ['mc:{acme:product:B08X1YRSTR}:fence'],
      eventIds: [e.eventId],
      originTimeMs: OCCURRED_AT_MS,
    });
    expect(plan.critical).toBe(false);
  });

  it('plans a promotion over several sections as critical, one effect per section', () => {
    // Prepare
    const e = event('promotion.expired', { storeSections: ['electronics', 'toys', 'electronics'] });

    // Act
    const plan = planBatch([msg('m1', raw(e))], keys);

    // Assess
    expect(plan.effects.map((x) => x.slotTag)).toEqual(['default:promo:electronics', 'default:promo:toys']);
    expect(plan.effects.every((x) => x.critical)).toBe(true);
    expect(plan.critical).toBe(true);
    expect(plan.decisions[0]).toMatchObject({ kind: 'apply', family: 'promo' });
  });

  it('plans a session start as one generation bump of that user only', () => {
    // Act
    const plan = planBatch(
      [msg('m1', raw(event('session.started', { userId: 'user42', tenant: 'acme' })))],
      keys,
    );

    // Assess
    expect(plan.effects).toEqual([
      {
        family: 'reco',
        slotTag: 'acme:reco:user42',
        unlink: [],
        fence: 'mc:{acme:reco:user42}:gen',
        fenceTtlMs: 3_600_000,
        critical: false,
      },
    ]);
    expect(plan.broadcast).toMatchObject({ keys: [], fences: ['mc:{acme:reco:user42}:gen'] });
  });

  it('plans a review summary change as unlink + fence of the review keys', () => {
    // Act
    const plan = planBatch([msg('m1', raw(event('review.summary-changed', { locales: ['de-DE'] })))], keys);

    // Assess
    expect(plan.effects).toEqual([
      {
        family: 'review',
        slotTag: 'default:review:B08X1YRSTR',
        unlink: [
          'mc:{default:review:B08X1YRSTR}:v1:en-US',
          'mc:{default:review:B08X1YRSTR}:v1:ja-JP',
          'mc:{default:review:B08X1YRSTR}:v1:de-DE',
        ],
        fence: 'mc:{default:review:B08X1YRSTR}:fence',
        fenceTtlMs: 7_800_000,
        critical: false,
      },
    ]);
  });

  it('carries the SQS send time on the apply decision (the lag is measured from it, not re-read)', () => {
    // Prepare
    const e = event('catalog.product.updated');

    // Act
    const plan = planBatch(
      [{ messageId: 'm1', body: raw(e), attributes: { SentTimestamp: '1740830400123' } }],
      keys,
    );

    // Assess
    expect(plan.decisions[0]).toMatchObject({ kind: 'apply', sqsSentAtMs: 1_740_830_400_123 });
  });

  it('ignores a refresh tick: valid, but not an invalidation', () => {
    // Prepare
    const e = event('refresh.tick');

    // Act
    const plan = planBatch([msg('m1', raw(e))], keys);

    // Assess
    expect(plan.decisions).toEqual([
      {
        kind: 'ignore',
        messageId: 'm1',
        eventId: e.eventId,
        why: expect.stringMatching(/not an invalidation/) as unknown,
        // The parsed event travels with the decision: its consumer does not parse it again.
        event: expect.objectContaining({ type: 'refresh.tick', eventId: e.eventId }) as unknown,
      },
    ]);
    expect(plan.effects).toEqual([]);
    expect(plan.broadcast).toBeNull();
    expect(plan.critical).toBe(false);
  });

  it('returns an empty plan for an empty batch', () => {
    // Act / Assess
    expect(planBatch([], keys)).toEqual({ decisions: [], effects: [], broadcast: null, critical: false });
  });
});

describe('planBatch: merging duplicates across the batch', () => {
  it('merges the same entity from several messages into one effect, every message applied', () => {
    // Prepare
    const a = event('catalog.product.updated', { occurredAt: '2025-03-01T12:00:05Z' });
    const b = event('catalog.product.deleted', { occurredAt: '2025-03-01T12:00:01Z' });
    const c = event('catalog.product.updated', { locales: ['fr-FR'], occurredAt: '2025-03-01T12:00:03Z' });

    // Act
    const plan = planBatch([msg('m1', raw(a)), msg('m2', snsBody(b)), msg('m3', raw(c))], keys);

    // Assess
    expect(plan.decisions.map((d) => d.kind)).toEqual(['apply', 'apply', 'apply']);
    expect(plan.effects).toHaveLength(1);
    expect(plan.effects[0]?.unlink).toEqual([
      'mc:{default:product:B08X1YRSTR}:v1:en-US',
      'mc:{default:product:B08X1YRSTR}:v1:ja-JP',
      'mc:{default:product:B08X1YRSTR}:v1:fr-FR',
    ]);
    expect(plan.broadcast?.eventIds).toEqual([a.eventId, b.eventId, c.eventId]);
    expect(plan.broadcast?.originTimeMs).toBe(Date.parse('2025-03-01T12:00:01Z'));
  });

  it('merges a promotion section named by two events, and keeps distinct entities apart', () => {
    // Prepare
    const bodies = [
      raw(event('promotion.changed', { storeSections: ['toys', 'books'] })),
      raw(event('promotion.activated', { storeSections: ['books'] })),
      raw(event('promotion.expired', { storeSections: ['books'], tenant: 'acme' })),
    ];

    // Act
    const plan = planBatch(
      bodies.map((b, i) => msg(`m${i}`, b)),
      keys,
    );

    // Assess
    expect(plan.effects.map((e) => e.slotTag)).toEqual([
      'default:promo:toys',
      'default:promo:books',
      'acme:promo:books',
    ]);
  });

  it('lists the same redelivered event id once in the broadcast but decides both messages', () => {
    // Prepare
    const e = event('session.started');

    // Act
    const plan = planBatch([msg('m1', raw(e)), msg('m2', snsBody(e))], keys);

    // Assess
    expect(plan.decisions.map((d) => d.kind)).toEqual(['apply', 'apply']);
    expect(plan.effects).toHaveLength(1);
    expect(plan.broadcast?.eventIds).toEqual([e.eventId]);
  });

  it('mergeEffects: distinct entities are kept as they are, in order', () => {
    // Prepare
    const effects = ['B08X1YRSTR', 'B000000001', 'B000000002'].map((id) =>
      keys.entityEffect({ family: 'product', tenant: 'acme', id }),
    );

    // Act
    const merged = mergeEffects(effects);

    // Assess
    expect(merged).toEqual(effects);
    expect(merged.map((e) => e.slotTag)).toEqual([
      'acme:product:B08X1YRSTR',
      'acme:product:B000000001',
      'acme:product:B000000002',
    ]);
  });

  it('mergeEffects: one per slot tag, union of keys, critical if any', () => {
    // Prepare
    const base = keys.entityEffect({ family: 'product', tenant: 'acme', id: 'B08X1YRSTR' });
    const effects: EntityEffect[] = [
      { ...base, unlink: base.unlink.slice(0, 1) },
      { ...base, unlink: base.unlink.slice(1), critical: true },
      base,
    ];

    // Act
    const merged = mergeEffects(effects);

    // Assess
    expect(merged).toEqual([{ ...base, critical: true }]);
  });
});

describe('planBatch: poison isolation', () => {
  const good = event('catalog.product.updated', { asin: '0123456789' });
  const poisonBodies = [
    ['not JSON', 'garbage', 'EVENT_MALFORMED'],
    ['unknown type', raw(event('catalog.product.exploded')), 'EVENT_UNKNOWN_TYPE'],
    ['glob ASIN', raw(event('catalog.product.updated', { asin: '*' })), 'EVENT_BAD_IDENTIFIER'],
    [
      'hash-tag escape in user id',
      raw(event('session.started', { userId: 'x}:{acme:promo:toys' })),
      'EVENT_BAD_IDENTIFIER',
    ],
    ['oversized', 'x'.repeat(70_000), 'EVENT_OVERSIZED'],
    ['unknown field', raw(event('session.started', { extra: true })), 'EVENT_INVALID'],
  ] as const;

  it.each(poisonBodies)(
    'a %s message is poison and the rest of the batch is applied as if it were absent',
    (_l, body, code) => {
      // Prepare
      const alone = planBatch([msg('ok1', raw(good))], keys);

      // Act
      const mixed = planBatch([msg('bad', body), msg('ok1', raw(good))], keys);

      // Assess
      expect(mixed.decisions[0]).toMatchObject({ kind: 'poison', messageId: 'bad', code });
      expect(mixed.decisions[0]?.kind === 'poison' && mixed.decisions[0].reason.length).toBeGreaterThan(0);
      expect(mixed.decisions[1]).toEqual(alone.decisions[0]);
      expect(mixed.effects).toEqual(alone.effects);
      expect(mixed.broadcast).toEqual(alone.broadcast);
    },
  );

  it('a batch of only poison touches nothing', () => {
    // Act
    const plan = planBatch(
      poisonBodies.map(([, body], i) => msg(`m${i}`, body)),
      keys,
    );

    // Assess
    expect(plan.decisions.every((d) => d.kind === 'poison')).toBe(true);
    expect(plan.effects).toEqual([]);
    expect(plan.broadcast).toBeNull();
    expect(plan.critical).toBe(false);
  });

  it('turns an unexpected failure on one message into poison for that message only', () => {
    // Prepare: a builder that breaks on one entity stands in for a bug.
    const broken: KeyBuilder = {
      ...keys,
      entityEffect: (entity, extra) => {
        if (entity.id === 'BROKEN0000') throw new RangeError('boom');
        return keys.entityEffect(entity, extra);
      },
    };

    // Act
    const plan = planBatch(
      [msg('m1', raw(event('catalog.product.updated', { asin: 'BROKEN0000' }))), msg('m2', raw(good))],
      broken,
    );

    // Assess
    expect(plan.decisions[0]).toEqual({
      kind: 'poison',
      messageId: 'm1',
      // The class only: a foreign error's message may quote the input.
      reason: 'planning failed (RangeError)',
      code: 'PLAN_FAILED',
    });
    expect(plan.decisions[1]).toMatchObject({ kind: 'apply', messageId: 'm2' });
    expect(plan.effects).toHaveLength(1);
  });

  it('honours a smaller body limit from the options', () => {
    // Act
    const plan = planBatch([msg('m1', raw(good))], keys, { maxBodyBytes: 10 });

    // Assess
    expect(plan.decisions[0]).toMatchObject({ kind: 'poison', code: 'EVENT_OVERSIZED' });
  });
});

describe('property: a planned batch never touches a key outside the families', () => {
  it('holds for a large mixed batch', () => {
    // Prepare
    const types = [
      'catalog.product.updated',
      'promotion.changed',
      'session.started',
      'review.summary-changed',
    ];
    const messages = Array.from({ length: 400 }, (_, i) =>
      msg(
        `m${i}`,
        raw(
          event(types[i % types.length] ?? 'session.started', {
            tenant: i % 3 === 0 ? 'acme' : 'default',
            ...(i % 4 === 0 ? { asin: `B0${String(i % 50).padStart(8, '0')}` } : {}),
          }),
        ),
      ),
    );

    // Act
    const plan = planBatch(messages, keys);

    // Assess
    expect(plan.decisions.every((d) => d.kind === 'apply')).toBe(true);
    const tags = new Set<string>();
    for (const effect of plan.effects) {
      expect(tags.has(effect.slotTag)).toBe(false);
      tags.add(effect.slotTag);
      for (const key of [...effect.unlink, effect.fence]) {
        expect(parseKey(key, 'mc')).toMatchObject({ family: effect.family });
        expect(hashTagOf(key)).toBe(effect.slotTag);
      }
    }
  });
});
