import { describe, expect, it } from 'vitest';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { RECENT_DEFAULTS, RecentInvalidations } from '../../../src/worker/recent-invalidations.ts';
import { effect, keysOf } from '../../integration/redis/redis-test-kit.ts';

const k = keysOf('mc');

describe('RecentInvalidations', () => {
  it('keeps only the effects a replay can still need, while writes are known safe', () => {
    // Prepare: the clock and the safe anchor move together (replication healthy).
    let now = 1_000;
    const ring = new RecentInvalidations({ windowMs: 10_000, now: () => now });
    ring.record([effect('product', k.productFence('A000000001'), [k.product('A000000001', 'ja-JP')])]);
    now = 8_000;
    ring.record([effect('product', k.productFence('A000000002'), [k.product('A000000002', 'ja-JP')])]);
    now = 12_000;

    // Act
    const { plan } = ring.replayFrom(ring.retainFromMs());

    // Assess
    expect(plan.effects.map((e) => e.fence)).toEqual([k.productFence('A000000002')]);
    expect(ring.size).toBe(1);
  });

  it('keeps everything since the last safe moment while replication is degraded', () => {
    let now = 0;
    const safeSince = 0;
    const ring = new RecentInvalidations({ windowMs: 1_000, now: () => now, safeSince: () => safeSince });
    for (let t = 0; t <= 120_000; t += 10_000) {
      now = t;
      ring.record([effect('promo', k.promoFence(`s${t}`), [k.promo(`s${t}`)])]);
    }

    expect(ring.size).toBe(13);
    expect(ring.replayFrom(safeSince - 1_000).plan.effects).toHaveLength(13);
  });

  it('merges effects of the same entity, unions their keys and keeps critical', () => {
    const ring = new RecentInvalidations({ now: () => 0 });
    ring.record([effect('promo', k.promoFence('shoes'), [k.promo('shoes')], false)]);
    ring.record([effect('promo', k.promoFence('shoes'), [k.promo('shoes')], true)]);
    ring.record([effect('reco', k.recoGen('user42'), [])]);

    const replay = ring.replayFrom(-Infinity).plan.effects;

    expect(replay).toHaveLength(2);
    expect(replay[0]).toMatchObject({
      fence: k.promoFence('shoes'),
      unlink: [k.promo('shoes')],
      critical: true,
    });
  });

  it('caps its bytes and reports what the cap dropped from what a replay needs', () => {
    const ring = new RecentInvalidations({ maxBytes: 1_000, now: () => 0 });
    for (let i = 0; i < 10; i++) ring.record([effect('product', k.productFence(`A00000000${i}`), [])]);

    const kept = ring.size;
    const selection = ring.replayFrom(-10_000);

    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(10);
    expect(ring.bytes).toBeLessThanOrEqual(1_000);
    expect(selection.incomplete).toBe(true);
    expect([...selection.droppedFamilies]).toEqual(['product']);
    expect(selection.plan.effects.map((e) => e.fence)).toEqual(
      Array.from({ length: kept }, (_, j) => k.productFence(`A00000000${10 - kept + j}`)),
    );
    ring.clearDropped();
    expect(ring.replayFrom(-10_000).incomplete).toBe(false);
  });

  it('builds a replay plan that re-broadcasts what it replays', () => {
    const ring = new RecentInvalidations({ now: () => 42 });
    expect(ring.replayFrom(0).plan).toEqual({ decisions: [], effects: [], broadcast: null, critical: false });
    ring.record([effect('promo', k.promoFence('shoes'), [k.promo('shoes')])]);

    const { plan } = ring.replayFrom(0);

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

describe('RecentInvalidations: the memory estimate docs/operations.md quotes', () => {
  it('estimates a product effect of two locales at about 400 bytes (64 MiB holds about 168,000)', () => {
    const keys = createKeyBuilder({ namespace: 'mc', locales: ['en-US', 'ja-JP'] });
    const ring = new RecentInvalidations({ now: () => 0 });
    for (let i = 0; i < 1_000; i++)
      ring.record([
        keys.entityEffect({ family: 'product', tenant: 'default', id: `B0${String(i).padStart(8, '0')}` }),
      ]);

    const perEffect = ring.bytes / 1_000;

    expect(perEffect).toBeGreaterThan(380);
    expect(perEffect).toBeLessThan(420);
    expect(Math.floor(RECENT_DEFAULTS.maxBytes / perEffect)).toBeGreaterThan(160_000);
  });
});
