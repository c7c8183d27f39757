import { describe, expect, it } from 'vitest';
import { checkReadStaleness } from '../../../src/consistency/read-staleness.ts';
import type { HistoryInput, ReadRecord } from '../../../src/consistency/read-staleness.ts';
import { VersionHistory } from '../../../src/origin-sim/version-history.ts';

const W = 100;
/** promo "manga-home": v1 since forever, v2 at 1000, v3 at 1010 (two changes inside one window). */
const history: HistoryInput = {
  entities: [
    {
      family: 'promo',
      id: 'manga-home',
      versions: [
        { v: 1, at: 0 },
        { v: 2, at: 1_000 },
        { v: 3, at: 1_010 },
      ],
    },
  ],
};
const read = (t: number, v: number | null, extra: Partial<ReadRecord> = {}): ReadRecord => ({
  t,
  family: 'promo',
  id: 'manga-home',
  v,
  ms: 0,
  ...extra,
});
const promo = (reads: ReadRecord[], opts: { clockSkewMs?: number; lagWindowMs?: number } = {}) => {
  const report = checkReadStaleness(reads, history, { lagWindowMs: W, ...opts });
  const f = report.families.find((x) => x.family === 'promo');
  if (f === undefined) throw new Error('no promo family in the report');
  return f;
};

describe('checkReadStaleness', () => {
  it('a read exactly at the window edge is within it; one millisecond later is beyond', () => {
    // Prepare: v1 stopped being true at 1000 (v2 arrived).
    // Act
    const atEdge = promo([read(1_000 + W, 1)]);
    const past = promo([read(1_000 + W + 1, 1)]);
    // Assess
    expect(atEdge).toMatchObject({ stale: 1, staleBeyondWindow: 0, fresh: 0 });
    expect(past).toMatchObject({ stale: 1, staleBeyondWindow: 1, fractionBeyondWindow: 1 });
    expect(past.examples[0]).toMatchObject({ v: 1, truth: 3, stalenessMs: W + 1 });
  });

  it('versions changed twice within the window: staleness runs from when the returned version stopped being true', () => {
    // Read starts at 1105: v1 stopped at 1000 (105 ms ago), v2 at 1010 (95 ms ago), v3 is the truth.
    const f = promo([read(1_105, 1), read(1_105, 2), read(1_105, 3)]);
    expect(f).toMatchObject({ judged: 3, fresh: 1, stale: 2, staleBeyondWindow: 1 });
    expect(f.examples.map((e) => e.v)).toEqual([1]);
    expect(f.stalenessMs.max).toBe(105);
  });

  it('judges a read at its start: one that began before the change may return the old version however long it took', () => {
    const slow = promo([read(5_000, 1, { ms: 4_100 })]); // started at 900, before v2
    const late = promo([read(5_000, 1, { ms: 3_000 })]); // started at 2000, 1000 ms after v2
    expect(slow).toMatchObject({ fresh: 1, stale: 0 });
    expect(late).toMatchObject({ stale: 1, staleBeyondWindow: 1 });
  });

  it('tolerates clock skew: a reader clock ahead by less than the tolerance is not counted late', () => {
    // The reader's clock is 50 ms ahead of the origin's: its read at (its) 1130 really began at 1080.
    const noTolerance = promo([read(1_130, 1)]);
    const tolerant = promo([read(1_130, 1)], { clockSkewMs: 50 });
    expect(noTolerance.staleBeyondWindow).toBe(1);
    expect(tolerant).toMatchObject({ stale: 1, staleBeyondWindow: 0 });
  });

  it('a reader clock behind the origin shows as "ahead", never as fresh or stale', () => {
    // v2 became true at 1000 by the origin's clock; the reader (30 ms behind) stamps the read 980.
    const f = promo([read(980, 2)]);
    expect(f).toMatchObject({ judged: 1, ahead: 1, fresh: 0, stale: 0, staleBeyondWindow: 0 });
  });

  it('skips failed and unversioned reads, and counts every family separately', () => {
    const report = checkReadStaleness(
      [
        read(2_000, null),
        read(2_000, 1, { err: 'OriginUnavailableError' }),
        read(2_000, 3),
        { t: 2_000, family: 'product', id: 'B000000001', v: 1, ms: 0 },
        { t: 2_000, family: 'product', id: 'B000000001', v: 2, ms: 0 },
      ],
      history,
      { lagWindowMs: W },
    );
    const [product, promoF] = report.families;
    expect(promoF).toMatchObject({ reads: 3, errors: 1, unversioned: 1, judged: 1, fresh: 1 });
    // No recorded change: version 1 is the truth; a version 2 can only be ahead.
    expect(product).toMatchObject({ family: 'product', reads: 2, fresh: 1, ahead: 1, stale: 0 });
    expect(report.total).toEqual({ judged: 3, stale: 0, staleBeyondWindow: 0 });
  });

  it('puts stale reads into the distribution buckets and reports the fraction beyond the window', () => {
    const reads = [read(1_005, 1), read(1_050, 1), read(1_500, 1), read(20_000, 1), read(20_000, 3)];
    const f = promo(reads);
    expect(f.distribution.map((b) => b.count)).toEqual([1, 1, 1, 0, 1, 0, 0]);
    expect(f.distribution.at(-1)?.leMs).toBeNull();
    expect(f.staleBeyondWindow).toBe(2);
    expect(f.fractionBeyondWindow).toBeCloseTo(2 / 5);
  });

  it('a read older than every kept version of a truncated history is stale since at least the oldest kept change', () => {
    // Prepare: a history bounded to 2 versions per entity after 4 changes.
    const h = new VersionHistory({ maxVersionsPerEntity: 2 });
    for (const [v, at] of [
      [2, 1_000],
      [3, 2_000],
      [4, 3_000],
      [5, 4_000],
    ] as const)
      h.record('promo', 'manga-home', v, at);
    const snap = h.snapshot();
    expect(snap.entities[0]).toMatchObject({ truncated: true, versions: [{ v: 4 }, { v: 5 }] });
    // Act: v1 really stopped at 1000; the history only knows v4 from 3000.
    const report = checkReadStaleness([read(5_000, 1)], snap, { lagWindowMs: W });
    // Assess: the lower bound, never more than the truth.
    expect(report.families[0]?.examples[0]).toMatchObject({ v: 1, truth: 5, stalenessMs: 2_000 });
  });

  it('refuses a negative window', () => {
    expect(() => checkReadStaleness([], history, { lagWindowMs: -1 })).toThrow(RangeError);
  });
});

describe('VersionHistory', () => {
  it('records version 1 as true since forever and bounds the number of entities', () => {
    const h = new VersionHistory({ maxEntities: 1 });
    h.record('product', 'B000000001', 2, 1_000);
    h.record('product', 'B000000002', 2, 1_000);
    const snap = h.snapshot('product');
    expect(snap.entities).toEqual([
      {
        family: 'product',
        id: 'B000000001',
        versions: [
          { v: 1, at: 0 },
          { v: 2, at: 1_000 },
        ],
        truncated: false,
      },
    ]);
    expect(snap.droppedEntities).toBe(1);
  });
});
