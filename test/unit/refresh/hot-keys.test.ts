import { describe, expect, it } from 'vitest';
import { ASIN, STORE_SECTION } from '../../../src/core/identifier-rules.ts';
import { mergeHotKeys } from '../../../src/refresh/hot-keys.ts';

describe('mergeHotKeys', () => {
  it('puts configured ids first, then the ranked ones, without duplicates', () => {
    // Act
    const merged = mergeHotKeys(
      ['B000000003', 'B000000001', 'B000000004'],
      ['B000000001', 'B000000002'],
      ASIN,
    );

    // Assess
    expect(merged.ids).toEqual(['B000000001', 'B000000002', 'B000000003', 'B000000004']);
    expect(merged.duplicates).toBe(1);
    expect(merged.invalid).toBe(0);
  });

  it.each([
    ['lower case', 'b000000001'],
    ['too short', 'B00000001'],
    ['separator', 'B0000:0001'],
    ['glob', 'B00000000*'],
    ['hash tag', 'B000{0001}'],
    ['newline', 'B000000001\n'],
    ['empty', ''],
  ])('drops an invalid ASIN from the hotness set (%s)', (_why, bad) => {
    const merged = mergeHotKeys([bad, 'B000000009'], [], ASIN);
    expect(merged.ids).toEqual(['B000000009']);
    expect(merged.invalid).toBe(1);
  });

  it('validates with the rule of the family (store sections for promo)', () => {
    const merged = mergeHotKeys(['manga-home', 'B000000001', 'Bad Section'], [], STORE_SECTION);
    expect(merged.ids).toEqual(['manga-home']);
    expect(merged.invalid).toBe(2);
  });

  it('stops at the limit and counts what it left out', () => {
    const merged = mergeHotKeys(
      ['B000000003', 'B000000004', 'B000000001'],
      ['B000000001', 'B000000002'],
      ASIN,
      3,
    );
    expect(merged.ids).toEqual(['B000000001', 'B000000002', 'B000000003']);
    expect(merged.overLimit).toBe(1);
    expect(merged.duplicates).toBe(1);
  });
});
