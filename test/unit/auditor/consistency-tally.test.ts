/** Counts, ratio and nines per family and window (consistency-tally.ts). */
import { describe, expect, it } from 'vitest';
import { ConsistencyTally, consistencyOf, windowLabel } from '../../../src/auditor/consistency-tally.ts';

describe('consistencyOf', () => {
  it('has no figure before the first check', () => {
    expect(consistencyOf(0, 0)).toMatchObject({ ratio: undefined, nines: undefined });
  });

  it('gives nines as -log10 of the inconsistent fraction', () => {
    expect(consistencyOf(1_000_000, 1)).toMatchObject({ ratio: 0.999999, nines: 6, ninesLowerBound: false });
    expect(consistencyOf(100, 50)).toMatchObject({ ratio: 0.5, nines: 0.301 });
  });

  it('with no inconsistency, gives the bound the sample supports', () => {
    expect(consistencyOf(10_000, 0)).toMatchObject({ ratio: 1, nines: 4, ninesLowerBound: true });
  });
});

describe('ConsistencyTally', () => {
  it('counts per family and window, and in total', () => {
    const tally = new ConsistencyTally();

    tally.record('product', '1s', false);
    tally.record('product', '1s', true);
    tally.record('product', '10s', false);
    tally.record('promo', '1s', false);

    expect(tally.of('product', '1s')).toMatchObject({ checked: 2, inconsistent: 1, ratio: 0.5 });
    expect(tally.byFamilyWindow().product?.['10s']).toMatchObject({ checked: 1, inconsistent: 0 });
    expect(tally.totals()).toEqual({ checked: 4, inconsistent: 1 });
    expect(tally.of('review', '1s').checked).toBe(0);
  });
});

describe('windowLabel', () => {
  it.each([
    [1_000, '1s'],
    [60_000, '60s'],
    [1_500, '1500ms'],
  ])('%d ms is %s', (ms, label) => expect(windowLabel(ms)).toBe(label));
});
