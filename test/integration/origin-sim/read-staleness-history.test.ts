/**
 * The origin simulator's version history (`GET /_sim/history`) and load series
 * (`GET /_sim/load`), what the read-staleness checker and the scenarios read: a change
 * records the version and the time it became true, a read through the origin returns that
 * version, and the checker judges the reads against the endpoint's answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkReadStaleness } from '../../../src/consistency/read-staleness.ts';
import type { HistorySnapshot } from '../../../src/origin-sim/version-history.ts';
import type { LoadSeries } from '../../../src/origin-sim/call-stats.ts';
import { startSim } from './sim-harness.ts';
import type { SimHarness } from './sim-harness.ts';

let h: SimHarness;
beforeAll(async () => {
  h = await startSim({ config: { latencyScale: 0 } });
});
afterAll(() => h.sim.close());

describe('GET /_sim/history', () => {
  it('records each version of a promotion section and of a product with the time it became true', async () => {
    // Prepare: one read at version 1, then two changes of the section and one of a product.
    const before = await h.get('/promotions/gw-manga');
    const t0 = Date.now();
    for (let i = 0; i < 2; i++)
      await h.post('/_sim/change', {
        family: 'promotion',
        id: 'golden-week',
        storeSections: ['gw-manga'],
        publish: false,
      });
    await h.post('/_sim/change', { family: 'product', id: 'B0000000H1', publish: false });
    const t1 = Date.now();
    // Act
    const all = (await h.get('/_sim/history')).body as HistorySnapshot;
    const promos = (await h.get('/_sim/history?family=promo')).body as HistorySnapshot;
    const after = await h.get('/promotions/gw-manga');
    // Assess
    expect((before.body as { version: number }).version).toBe(1);
    expect((after.body as { version: number }).version).toBe(3);
    const section = promos.entities.find((e) => e.id === 'gw-manga');
    expect(section?.versions.map((p) => p.v)).toEqual([1, 2, 3]);
    expect(section?.versions[0]?.at).toBe(0);
    for (const p of section?.versions.slice(1) ?? []) {
      expect(p.at).toBeGreaterThanOrEqual(t0);
      expect(p.at).toBeLessThanOrEqual(t1);
    }
    expect(promos.entities.every((e) => e.family === 'promo')).toBe(true);
    expect(all.entities.some((e) => e.family === 'product' && e.id === 'B0000000H1')).toBe(true);
    // The promotion itself is not a read family: only its sections are recorded.
    expect(all.entities.some((e) => e.id === 'golden-week')).toBe(false);

    // The checker judges the two reads against it: both fresh.
    const report = checkReadStaleness(
      [
        { t: t0 - 1, family: 'promo', id: 'gw-manga', v: 1, ms: 0 },
        { t: Date.now(), family: 'promo', id: 'gw-manga', v: 3, ms: 0 },
        { t: Date.now() + 5_000, family: 'promo', id: 'gw-manga', v: 1, ms: 0 },
      ],
      all,
      { lagWindowMs: 1_000 },
    );
    expect(report.families[0]).toMatchObject({ judged: 3, fresh: 2, staleBeyondWindow: 1 });
  });

  it('refuses an unknown family with 400', async () => {
    const res = await h.get('/_sim/history?family=price');
    expect(res.status).toBe(400);
  });
});

describe('GET /_sim/load', () => {
  it('counts the calls that started in each 100 ms bucket', async () => {
    await h.post('/_sim/reset');
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 5 }, () => h.get('/products/B0000000L1')));
    const load = (await h.get('/_sim/load')).body as LoadSeries;
    expect(load.bucketMs).toBe(100);
    expect(load.buckets.reduce((n, b) => n + b.calls.products, 0)).toBe(5);
    for (const b of load.buckets) expect(b.t).toBeGreaterThanOrEqual(Math.floor(t0 / 100) * 100);
  });
});
