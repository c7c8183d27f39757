import { describe, expect, it } from 'vitest';
import { stripPriceFields, toCacheableValue } from '../../../src/refresh/cached-value-filter.ts';

const summary = {
  asin: 'B08X1YRSTR',
  averageRating: 4.2,
  reviewCount: 120,
  topPhrases: ['great art'],
  version: 3,
};

describe('cacheable values never carry prices', () => {
  it('keeps the review summary fields and drops price, priceCents and unknown fields', () => {
    // Act
    const filtered = toCacheableValue('review', 'B08X1YRSTR', {
      ...summary,
      price: 12.99,
      priceCents: 1299,
      listPrice: 15,
      sellerNotes: 'new field nobody vetted',
    });

    // Assess
    expect(filtered).toEqual({ ok: true, value: summary, version: 3 });
  });

  it('strips any key matching /price/i at any depth', () => {
    expect(
      stripPriceFields({ a: 1, PRICE: 2, nested: { unitPrice: 3, keep: [{ priceRange: 'x', ok: true }] } }),
    ).toEqual({ a: 1, nested: { keep: [{ ok: true }] } });
  });

  it.each([
    ['not an object', [summary]],
    ['no version', { ...summary, version: undefined }],
    ['version zero', { ...summary, version: 0 }],
    ['fractional version', { ...summary, version: 1.5 }],
    ['another asin', { ...summary, asin: 'B000000000' }],
  ])('refuses a body that is %s', (_why, body) => {
    expect(toCacheableValue('review', 'B08X1YRSTR', body).ok).toBe(false);
  });

  it('uses the store section as the id of promo bodies', () => {
    const filtered = toCacheableValue('promo', 'manga-home', {
      storeSection: 'manga-home',
      promotionId: 'p1',
      title: '20% off',
      discountPercent: 20,
      active: true,
      version: 2,
      updatedAt: '2026-11-22T10:00:00.000Z',
      priceCents: 999,
    });
    expect(filtered.ok && Object.keys(filtered.value)).not.toContain('priceCents');
    expect(filtered.ok && filtered.version).toBe(2);
  });
});
