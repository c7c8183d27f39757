import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim } from './sim-harness.ts';
import type { SimHarness } from './sim-harness.ts';

// Latency 0 here: these tests are about bodies and validation; latency has its own file.
let h: SimHarness;
beforeAll(async () => {
  h = await startSim({ config: { latencyScale: 0 } });
});
afterAll(async () => {
  await h.sim.close();
});

describe('origin endpoints', () => {
  it('serves every family for any valid id, deterministically and without price on products', async () => {
    // Act
    const product = await h.get('/products/B08X1YRSTR');
    const again = await h.get('/products/B08X1YRSTR');
    const promotion = await h.get('/promotions/home-kitchen');
    const reco = await h.get('/recommendations/user_42?seed=B08X1YRSTR');
    const review = await h.get('/reviews/B08X1YRSTR');
    const price = await h.get('/prices/B08X1YRSTR');
    const health = await h.get('/healthz');

    // Assess
    expect(product.status).toBe(200);
    expect(product.body).toMatchObject({ asin: 'B08X1YRSTR', version: 1 });
    expect(again.body).toEqual(product.body);
    expect(Object.keys(product.body as object).some((k) => /price/i.test(k))).toBe(false);
    expect(promotion.body).toMatchObject({ storeSection: 'home-kitchen', active: true, version: 1 });
    expect(reco.body).toMatchObject({ userId: 'user_42', seedAsin: 'B08X1YRSTR', version: 1 });
    expect((reco.body as { items: string[] }).items.every((a) => /^[A-Z0-9]{10}$/.test(a))).toBe(true);
    expect(Object.keys(review.body as object).sort()).toEqual(
      ['asin', 'averageRating', 'reviewCount', 'topPhrases', 'version'].sort(),
    );
    expect(price.body).toMatchObject({ asin: 'B08X1YRSTR', currency: 'USD' });
    expect((price.body as { priceCents: number }).priceCents).toBeGreaterThan(0);
    expect(health.status).toBe(200);
  });

  it.each([
    ['/products/b08x1yrstr', 'lower-case ASIN'],
    ['/products/B08X1YRST', 'nine characters'],
    ['/products/B08X1YRSTR0', 'eleven characters'],
    ['/products/B08X1YRST%2A', 'glob character'],
    ['/promotions/Home_Kitchen', 'section not a slug'],
    ['/promotions/home--kitchen', 'double dash'],
    ['/recommendations/user_42', 'missing seed'],
    ['/recommendations/user:42?seed=B08X1YRSTR', 'separator in user id'],
    ['/recommendations/user_42?seed=nope', 'bad seed'],
    ['/reviews/B08X1YRSTR%0A', 'trailing newline'],
    ['/prices/ABC', 'short ASIN'],
  ])('answers 400 to %s (%s) and does not count it as origin load', async (path) => {
    // Prepare
    await h.post('/_sim/reset');
    // Act
    const res = await h.get(path);
    const stats = (await h.get('/_sim/stats')).body as { calls: Record<string, number> };
    // Assess
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'bad_request' });
    expect(Object.values(stats.calls).every((n) => n === 0)).toBe(true);
  });

  it('leaks price fields on reviews only when reviewsIncludePrice is on', async () => {
    // Act
    const on = await h.post('/_sim/config', { reviewsIncludePrice: true });
    const leaky = (await h.get('/reviews/B0PRICEY01')).body as Record<string, unknown>;
    await h.post('/_sim/config', { reviewsIncludePrice: false });
    const clean = (await h.get('/reviews/B0PRICEY01')).body as Record<string, unknown>;
    const price = (await h.get('/prices/B0PRICEY01')).body as { priceCents: number };

    // Assess
    expect(on.status).toBe(200);
    expect(leaky.priceCents).toBe(price.priceCents);
    expect(leaky.price).toBe(price.priceCents / 100);
    expect(leaky).toMatchObject({ asin: 'B0PRICEY01', version: 1 });
    expect('price' in clean || 'priceCents' in clean).toBe(false);
  });

  it('changes bump versions and bodies; a deleted product answers 404 until updated', async () => {
    // Prepare
    const before = (await h.get('/products/B0CHANGE01')).body as { title: string };

    // Act
    const deleted = await h.post('/_sim/change', {
      family: 'product',
      id: 'B0CHANGE01',
      kind: 'deleted',
      publish: false,
    });
    const gone = await h.get('/products/B0CHANGE01');
    await h.post('/_sim/change', { family: 'product', id: 'B0CHANGE01', publish: false });
    const back = (await h.get('/products/B0CHANGE01')).body as { title: string; version: number };
    await h.post('/_sim/change', {
      family: 'promotion',
      id: 'spring',
      kind: 'expired',
      storeSections: ['books'],
      publish: false,
    });
    const promo = (await h.get('/promotions/books')).body;
    await h.post('/_sim/change', { family: 'session', id: 'u7', publish: false });
    const reco = (await h.get('/recommendations/u7?seed=B0CHANGE01')).body;
    await h.post('/_sim/change', { family: 'review', id: 'B0CHANGE01', publish: false });
    const review = (await h.get('/reviews/B0CHANGE01')).body;

    // Assess
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({
      published: false,
      event: { type: 'catalog.product.deleted', version: 2 },
    });
    expect(gone.status).toBe(404);
    expect(back.version).toBe(3);
    expect(back.title).not.toBe(before.title);
    expect(promo).toMatchObject({ storeSection: 'books', promotionId: 'spring', active: false, version: 2 });
    expect(reco).toMatchObject({ version: 2 });
    expect(review).toMatchObject({ version: 2 });
  });

  it.each([
    [{ family: 'product', id: 'bad' }, 'id must be an ASIN'],
    [{ family: 'product', id: 'B0CHANGE01', kind: 'expired' }, 'kind for product'],
    [{ family: 'promotion', id: 'Spring Sale' }, 'id must be a slug'],
    [{ family: 'promotion', id: 'spring', storeSections: [] }, 'storeSections must be an array'],
    [{ family: 'review', id: 'B0CHANGE01', locales: ['en-US'] }, 'locales apply to product'],
    [{ family: 'product', id: 'B0CHANGE01', locales: ['english'] }, 'locales: invalid'],
    [{ family: 'session', id: 'u1', tenant: 'Acme' }, 'tenant must be'],
    [{ family: 'cart', id: 'x' }, 'family must be'],
    [{ family: 'product', id: 'B0CHANGE01', extra: 1 }, 'extra: unknown field'],
  ])('rejects change %j with 400', async (body, message) => {
    const res = await h.post('/_sim/change', body);
    expect(res.status).toBe(400);
    expect((res.body as { message: string }).message).toContain(message);
  });

  it('rejects a change with 409 when no topic is configured, without changing the entity', async () => {
    // Act
    const res = await h.post('/_sim/change', { family: 'review', id: 'B0NOTOPIC1' });
    const review = (await h.get('/reviews/B0NOTOPIC1')).body;
    // Assess
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'no_topic' });
    expect(review).toMatchObject({ version: 1 });
  });

  it('rejects an invalid config patch with every problem listed, and keeps the old config', async () => {
    // Act
    const res = await h.post('/_sim/config', {
      latencyMs: { reviews: -1, carts: 5 },
      failRate: { reviews: 2 },
      foo: 1,
    });
    const config = (await h.get('/_sim/config')).body;
    // Assess
    expect(res.status).toBe(400);
    const message = (res.body as { message: string }).message;
    for (const part of ['foo: unknown field', 'latencyMs.reviews', 'latencyMs.carts', 'failRate.reviews'])
      expect(message).toContain(part);
    expect(config).toMatchObject({ latencyMs: { reviews: 200 }, failRate: { reviews: 0 } });
  });
});
