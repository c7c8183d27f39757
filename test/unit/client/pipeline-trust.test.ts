/**
 * The pipeline guard's trust rule (decision 0022) at its edges, the watermark wire format,
 * and the origin budget's window sizing. Pure.
 */
import { describe, expect, it } from 'vitest';
import { encodeWatermark, parseWatermark } from '../../../src/adapters/redis/watermark-message.ts';
import { SLOT_MS, pointsPerSlot } from '../../../src/client/fleet-origin-budget.ts';
import {
  DEFAULT_LAG_WINDOW_MS,
  FAMILY_TOPICS,
  cachesTrusted,
  familyWatermark,
  servableCached,
} from '../../../src/client/pipeline-trust.ts';
import { KEY_CONTRACT, familiesInvalidatedBy } from '../../../src/core/key-contract.ts';
import { topicForChange } from '../../../src/origin-sim/event-factory.ts';

const W = 2_000;
const MARGIN = 250;
const NOW = 1_800_000_000_000;

describe('cachesTrusted', () => {
  it('trusts up to W - margin after the watermark, and not one ms later', () => {
    const at = (ageMs: number) =>
      cachesTrusted({ nowMs: NOW, watermarkMs: NOW - ageMs, windowMs: W, marginMs: MARGIN });
    expect(at(0)).toBe(true);
    expect(at(W - MARGIN)).toBe(true);
    expect(at(W - MARGIN + 1)).toBe(false);
    expect(at(W)).toBe(false);
  });

  it('never trusts a watermark not heard yet', () => {
    expect(cachesTrusted({ nowMs: NOW, watermarkMs: undefined, windowMs: W, marginMs: MARGIN })).toBe(false);
  });

  it('trusts a watermark slightly ahead of this clock (skew)', () => {
    expect(cachesTrusted({ nowMs: NOW, watermarkMs: NOW + 100, windowMs: W, marginMs: MARGIN })).toBe(true);
  });
});

describe('servableCached', () => {
  it('serves anything while trusted', () => {
    expect(servableCached(true, NOW - 3_600_000, NOW, W, MARGIN)).toBe(true);
    expect(servableCached(true, undefined, NOW, W, MARGIN)).toBe(true);
  });

  it('untrusted: serves a value filled within W - margin, refetches one a ms older', () => {
    expect(servableCached(false, NOW - (W - MARGIN), NOW, W, MARGIN)).toBe(true);
    expect(servableCached(false, NOW - (W - MARGIN) - 1, NOW, W, MARGIN)).toBe(false);
  });

  it('untrusted: never serves a value of unknown fill time (another writer, no envelope)', () => {
    expect(servableCached(false, undefined, NOW, W, MARGIN)).toBe(false);
  });
});

describe('familyWatermark', () => {
  it('is the oldest of its topics, and unknown while one was never heard', () => {
    expect(familyWatermark(['catalog'], { catalog: 5 })).toBe(5);
    expect(familyWatermark(['catalog', 'promotions'], { catalog: 5, promotions: 3 })).toBe(3);
    expect(familyWatermark(['catalog', 'promotions'], { catalog: 5 })).toBeUndefined();
    expect(familyWatermark(['sessions'], {})).toBeUndefined();
  });

  it('maps each family to the topics that carry its invalidations (origin simulator and contract agree)', () => {
    // The origin simulator's change family of each cache family.
    const samples = {
      product: { family: 'product' },
      review: { family: 'review' },
      promo: { family: 'promotion' },
      reco: { family: 'session' },
    } as const;
    for (const family of Object.keys(FAMILY_TOPICS) as (keyof typeof FAMILY_TOPICS)[]) {
      const topic = topicForChange(samples[family] as never);
      expect(FAMILY_TOPICS[family], family).toEqual([topic]);
      // and the family is invalidated by some event (the canary invalidates none)
      expect(KEY_CONTRACT[family].invalidatedBy.length).toBeGreaterThan(0);
    }
    expect(familiesInvalidatedBy('pipeline.canary')).toEqual([]);
  });

  it('uses the dev lag SLOs as lag windows', () => {
    expect(DEFAULT_LAG_WINDOW_MS).toEqual({ product: 2_000, reco: 2_000, promo: 1_000, review: 5_000 });
  });
});

describe('watermark message', () => {
  it('round-trips, and rejects anything else', () => {
    const raw = encodeWatermark({ topic: 'promotions', originTimeMs: 123, queue: 'promotions' });
    expect(parseWatermark(raw)).toEqual({
      v: 1,
      type: 'watermark',
      topic: 'promotions',
      originTimeMs: 123,
      queue: 'promotions',
    });
    expect(parseWatermark('not json')).toBeUndefined();
    expect(parseWatermark(raw.replace('promotions"', 'price"'))).toBeUndefined();
    expect(
      parseWatermark(JSON.stringify({ v: 1, type: 'heartbeat', seq: 1, publishedAtMs: 1 })),
    ).toBeUndefined();
    expect(parseWatermark(raw.replace('123', '"123"'))).toBeUndefined();
  });
});

describe('origin budget sizing', () => {
  it('sizes a 250 ms slot so that the 5 slots a sliding second can touch stay within the budget', () => {
    expect(SLOT_MS).toBe(250);
    for (const b of [5, 7, 180, 199, 200]) {
      const p = pointsPerSlot(b);
      // The adversary: a second from just before a slot's end to just after the 4th next slot
      // begins sees 5 slots, each spent in full.
      expect(5 * p).toBeLessThanOrEqual(b);
      expect(5 * (p + 1)).toBeGreaterThan(b);
    }
    expect(4 * pointsPerSlot(180)).toBe(144); // the sustained rate: 0.8 of the budget
  });
});
