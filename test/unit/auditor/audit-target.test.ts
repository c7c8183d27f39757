/** Events to audit targets: the worker's own keys, and how each family is judged (audit-target.ts). */
import { describe, expect, it } from 'vitest';
import { auditTargets } from '../../../src/auditor/audit-target.ts';
import { cacheEventSchema } from '../../../src/core/events/cache-event.ts';
import { planBatch } from '../../../src/core/invalidation-planner.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';

const keys = createKeyBuilder({ namespace: 'mc', locales: ['en-US', 'ja-JP'] });
const base = {
  schemaVersion: 1,
  eventId: '0b7e1f5e-8a57-4c1e-9a3e-1f2d3c4b5a69',
  occurredAt: '2026-12-01T10:00:00.000Z',
  version: 7,
};
const event = (fields: Record<string, unknown>) => cacheEventSchema.parse({ ...base, ...fields });

describe('auditTargets', () => {
  it('a product event: every key the worker deletes, with its locale, judged by the event version', () => {
    const e = event({ type: 'catalog.product.updated', asin: 'B000000001', locales: ['fr-FR'] });

    const [target, ...rest] = auditTargets(e, 1_000, keys);

    expect(rest).toEqual([]);
    const plan = planBatch([{ messageId: 'm', body: JSON.stringify(e) }], keys);
    expect(target?.keys.map((k) => k.key)).toEqual(plan.effects[0]?.unlink);
    expect(target?.keys.map((k) => k.locale)).toEqual(['en-US', 'ja-JP', 'fr-FR']);
    expect(target).toMatchObject({
      family: 'product',
      judgedBy: 'event-version',
      eventVersion: 7,
      originTimeMs: 1_000,
    });
  });

  it('a promotion event: one target per section, judged by the origin version', () => {
    const e = event({
      type: 'promotion.changed',
      promotionId: 'gw',
      storeSections: ['manga', 'books', 'manga'],
    });

    const targets = auditTargets(e, 0, keys);

    expect(targets.map((t) => t.id)).toEqual(['manga', 'books']);
    expect(targets.every((t) => t.judgedBy === 'origin-version')).toBe(true);
  });

  it('a session event: the user generation, no value keys', () => {
    const e = event({ type: 'session.started', userId: 'user42', sessionId: 's1' });

    const [target] = auditTargets(e, 0, keys);

    expect(target).toMatchObject({ family: 'reco', judgedBy: 'generation', keys: [] });
    expect(target?.fence).toBe(keys.fenceKey({ family: 'reco', tenant: 'default', id: 'user42' }));
  });

  it('a refresh tick invalidates nothing', () => {
    const e = cacheEventSchema.parse({
      type: 'refresh.tick',
      schemaVersion: 1,
      eventId: '1c7e1f5e-8a57-4c1e-9a3e-1f2d3c4b5a69',
      occurredAt: base.occurredAt,
      version: 1,
      scheduledAt: base.occurredAt,
    });

    expect(auditTargets(e, 0, keys)).toEqual([]);
  });
});
