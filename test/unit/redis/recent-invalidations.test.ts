// Unit test (pure, no Redis) kept next to the adapter's integration tests; the lead may move it to test/unit.
import { describe, expect, it } from 'vitest';
import { RecentInvalidations } from '../../../src/adapters/redis/recent-invalidations.ts';
import { effect, keysOf } from '../../integration/redis/redis-test-kit.ts';

const k = keysOf('mc');

describe('RecentInvalidations', () => {
  it('keeps only the effects of the window', () => {
    let now = 1_000;
    const ring = new RecentInvalidations({ windowMs: 10_000, now: () => now });
    ring.record([effect('product', k.productFence('A000000001'), [k.product('A000000001', 'ja-JP')])]);
    now = 8_000;
    ring.record([effect('product', k.productFence('A000000002'), [k.product('A000000002', 'ja-JP')])]);
    now = 12_000;

    expect(ring.replayable().map((e) => e.fence)).toEqual([k.productFence('A000000002')]);
  });

  it('merges effects of the same entity, unions their keys and keeps critical', () => {
    const ring = new RecentInvalidations({ now: () => 0 });
    ring.record([effect('promo', k.promoFence('shoes'), [k.promo('shoes')], false)]);
    ring.record([effect('promo', k.promoFence('shoes'), [k.promo('shoes')], true)]);
    ring.record([effect('reco', k.recoGen('user42'), [])]);

    const replay = ring.replayable();

    expect(replay).toHaveLength(2);
    expect(replay[0]).toMatchObject({
      fence: k.promoFence('shoes'),
      unlink: [k.promo('shoes')],
      critical: true,
    });
  });

  it('caps its size and reports what the cap dropped from the window', () => {
    const ring = new RecentInvalidations({ maxEntries: 3, now: () => 0 });
    for (let i = 0; i < 5; i++) ring.record([effect('product', k.productFence(`A00000000${i}`), [])]);

    expect(ring.size).toBe(3);
    expect(ring.evictedInWindow).toBe(2);
    expect(ring.replayable().map((e) => e.fence)).toEqual(
      [2, 3, 4].map((i) => k.productFence(`A00000000${i}`)),
    );
    expect(ring.evictedInWindow).toBe(0);
  });

  it('builds a replay plan that re-broadcasts the window', () => {
    const ring = new RecentInvalidations({ now: () => 42 });
    expect(ring.replayPlan()).toEqual({ decisions: [], effects: [], broadcast: null, critical: false });
    ring.record([effect('promo', k.promoFence('shoes'), [k.promo('shoes')])]);

    const plan = ring.replayPlan();

    expect(plan.critical).toBe(true);
    expect(plan.broadcast).toEqual({
      keys: [k.promo('shoes')],
      fences: [k.promoFence('shoes')],
      eventIds: ['replay'],
      originTimeMs: 42,
    });
  });

  it('stays bounded under a long stream (compaction)', () => {
    let now = 0;
    const ring = new RecentInvalidations({ windowMs: 100, now: () => now });
    for (let i = 0; i < 20_000; i++) {
      now = i;
      ring.record([effect('product', k.productFence('A000000001'), [])]);
    }
    expect(ring.size).toBeLessThanOrEqual(101);
  });
});
