import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../../src/core/events/cache-event.ts';
import {
  CACHED_FAMILIES,
  FAMILY_NAMES,
  KEY_CONTRACT,
  MIN_FENCE_TTL_MS,
  familiesInvalidatedBy,
  fenceTtlMs,
} from '../../../src/core/key-contract.ts';

describe('the key contract', () => {
  it('declares the families of the seeds, price never cached', () => {
    // Assess
    expect(FAMILY_NAMES).toEqual(['product', 'reco', 'promo', 'review', 'price']);
    expect(KEY_CONTRACT.price).toMatchObject({ cached: false, consistency: 'never-cached' });
    expect(CACHED_FAMILIES.map((f) => [f.family, f.ttlMs])).toEqual([
      ['product', 300_000],
      ['reco', 900_000],
      ['promo', 900_000],
      ['review', 3_600_000],
    ]);
  });

  it('makes promo, and only promo, critical with strong invalidation', () => {
    // Assess
    expect(CACHED_FAMILIES.filter((f) => f.critical).map((f) => f.family)).toEqual(['promo']);
    expect(KEY_CONTRACT.promo.consistency).toBe('strong-invalidation');
  });

  it.each([
    ['catalog.product.updated', ['product']],
    ['catalog.product.deleted', ['product']],
    ['promotion.changed', ['promo']],
    ['promotion.activated', ['promo']],
    ['promotion.expired', ['promo']],
    ['session.started', ['reco']],
    ['review.summary-changed', ['review']],
    ['refresh.tick', []],
  ] as const)('%s invalidates %j', (type, families) => {
    // Act / Assess
    expect(familiesInvalidatedBy(type).map((t) => t.spec.family)).toEqual(families);
  });

  it('maps every event type it names to a known event type', () => {
    // Assess
    for (const spec of CACHED_FAMILIES) {
      for (const trigger of spec.invalidatedBy) expect(EVENT_TYPES).toContain(trigger.event);
      expect(spec.liveSchemaVersions).toContain(spec.schemaVersion);
    }
  });

  it('is frozen', () => {
    // Act / Assess
    expect(Object.isFrozen(KEY_CONTRACT)).toBe(true);
    expect(Object.isFrozen(KEY_CONTRACT.product.invalidatedBy)).toBe(true);
    expect(() => {
      (KEY_CONTRACT.product as { ttlMs: number }).ttlMs = 1;
    }).toThrow(TypeError);
  });
});

describe('fence TTL', () => {
  it.each(CACHED_FAMILIES.map((spec) => [spec.family, spec] as const))(
    '%s: the fence outlives every value twice over, and at least an hour',
    (_family, spec) => {
      const ttl = fenceTtlMs(spec);
      expect(ttl).toBeGreaterThanOrEqual(MIN_FENCE_TTL_MS);
      expect(ttl).toBeGreaterThanOrEqual(2 * (spec.ttlMs + spec.jitterMs));
    },
  );
});
