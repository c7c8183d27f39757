import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidIdentifierError } from '../../../src/core/errors.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import type { CachedFamily, EntityRef, ValueKeyRef } from '../../../src/core/key-builder.ts';
import { hashTagOf, parseKey } from '../../../src/core/key-parser.ts';
import { hostileString, seededRandom } from './fixtures.ts';

const keys = createKeyBuilder({ namespace: 'mc', locales: ['en-US', 'ja-JP'] });
const product: EntityRef = { family: 'product', tenant: 'acme', id: 'B08X1YRSTR' };
const user: EntityRef = { family: 'reco', tenant: 'acme', id: 'user42' };

describe('key shapes', () => {
  it.each([
    [
      { family: 'product', tenant: 'acme', id: 'B08X1YRSTR', locale: 'ja-JP' },
      'mc:{acme:product:B08X1YRSTR}:v1:ja-JP',
    ],
    [
      { family: 'promo', tenant: 'acme', id: 'electronics', locale: 'en-US' },
      'mc:{acme:promo:electronics}:v1:en-US',
    ],
    [
      { family: 'review', tenant: 'default', id: 'B08X1YRSTR', locale: 'en-US' },
      'mc:{default:review:B08X1YRSTR}:v1:en-US',
    ],
    [
      { family: 'reco', tenant: 'acme', id: 'user42', seedAsin: 'B08X1YRSTR', generation: 7 },
      'mc:{acme:reco:user42}:v1:g7:B08X1YRSTR',
    ],
    [
      { family: 'product', tenant: 'acme', id: 'B08X1YRSTR', locale: 'en-US', schemaVersion: 2 },
      'mc:{acme:product:B08X1YRSTR}:v2:en-US',
    ],
  ] satisfies [ValueKeyRef, string][])('value key %j is %s', (ref, expected) => {
    // Act
    const key = keys.valueKey(ref);

    // Assess
    expect(key).toBe(expected);
  });

  it.each([
    [{ family: 'product', tenant: 'acme', id: 'B08X1YRSTR' }, 'mc:{acme:product:B08X1YRSTR}:fence'],
    [{ family: 'promo', tenant: 'acme', id: 'electronics' }, 'mc:{acme:promo:electronics}:fence'],
    [{ family: 'review', tenant: 'acme', id: 'B08X1YRSTR' }, 'mc:{acme:review:B08X1YRSTR}:fence'],
    [{ family: 'reco', tenant: 'acme', id: 'user42' }, 'mc:{acme:reco:user42}:gen'],
  ] satisfies [EntityRef, string][])('fence of %j is %s', (entity, expected) => {
    // Act / Assess
    expect(keys.fenceKey(entity)).toBe(expected);
  });

  it('uses the configured namespace', () => {
    // Prepare
    const staging = createKeyBuilder({ namespace: 'mc-staging' });

    // Act / Assess
    expect(staging.fenceKey(product)).toBe('mc-staging:{acme:product:B08X1YRSTR}:fence');
  });
});

describe('variants and effects', () => {
  it('expands every configured locale of a product, and puts the fence in the same slot', () => {
    // Act
    const effect = keys.entityEffect(product);

    // Assess
    expect(effect).toEqual({
      family: 'product',
      slotTag: 'acme:product:B08X1YRSTR',
      unlink: ['mc:{acme:product:B08X1YRSTR}:v1:en-US', 'mc:{acme:product:B08X1YRSTR}:v1:ja-JP'],
      fence: 'mc:{acme:product:B08X1YRSTR}:fence',
      fenceTtlMs: 3_600_000,
      critical: false,
    });
    for (const key of [...effect.unlink, effect.fence]) expect(hashTagOf(key)).toBe(effect.slotTag);
  });

  it('lets event locales widen, never narrow, the set', () => {
    // Act
    const variants = keys.variantKeys(product, ['ja-JP', 'fr-FR']);

    // Assess
    expect(variants).toEqual([
      'mc:{acme:product:B08X1YRSTR}:v1:en-US',
      'mc:{acme:product:B08X1YRSTR}:v1:ja-JP',
      'mc:{acme:product:B08X1YRSTR}:v1:fr-FR',
    ]);
  });

  it('marks promo effects critical', () => {
    // Act / Assess
    expect(keys.entityEffect({ family: 'promo', tenant: 'acme', id: 'electronics' }).critical).toBe(true);
  });

  it('invalidates reco by generation: no unlink, the fence is the generation key', () => {
    // Act
    const effect = keys.entityEffect(user);

    // Assess
    expect(effect).toEqual({
      family: 'reco',
      slotTag: 'acme:reco:user42',
      unlink: [],
      fence: 'mc:{acme:reco:user42}:gen',
      fenceTtlMs: 3_600_000,
      critical: false,
    });
  });

  it('puts every reco key of a user in the slot of its generation key, and not another user', () => {
    // Prepare
    const generations = [0, 1, 7, 123_456];
    const seeds = ['B08X1YRSTR', '0123456789'];

    // Act
    const recoKeys = generations.flatMap((generation) =>
      seeds.map((seedAsin) => keys.valueKey({ ...user, family: 'reco', seedAsin, generation })),
    );

    // Assess
    const generationKey = keys.fenceKey(user);
    for (const key of recoKeys) expect(hashTagOf(key)).toBe(hashTagOf(generationKey));
    expect(hashTagOf(keys.fenceKey({ ...user, id: 'user4' }))).not.toBe(hashTagOf(generationKey));
    expect(new Set(recoKeys).size).toBe(recoKeys.length);
  });

  it('separates tenants', () => {
    // Act / Assess
    expect(keys.fenceKey({ ...product, tenant: 'other' })).not.toBe(keys.fenceKey(product));
  });
});

describe('coordination keys of the namespace (a wire contract: exact shapes)', () => {
  it('puts every key of a refresh window under one hash tag, per tenant', () => {
    // Act
    const window = keys.refreshWindowKeys('acme', '2026-11-22T10Z');

    // Assess
    expect(window).toEqual({
      lock: 'mc:{refresh:acme:2026-11-22T10Z}:lock',
      todo: 'mc:{refresh:acme:2026-11-22T10Z}:todo',
      done: 'mc:{refresh:acme:2026-11-22T10Z}:done',
      failed: 'mc:{refresh:acme:2026-11-22T10Z}:failed',
      state: 'mc:{refresh:acme:2026-11-22T10Z}:state',
    });
    expect(keys.refreshWindowKeys('other', '2026-11-22T10Z').lock).not.toBe(window.lock);
  });

  it.each([
    ['a bad tenant', 'mc', 'Acme:x', '2026-11-22T10Z'],
    ['a bad namespace', 'mc:x', 'acme', '2026-11-22T10Z'],
    ['a bad window', 'mc', 'acme', '2026-11-22T10:00Z'],
  ])('refuses a refresh window with %s', (_why, namespace, tenant, window) => {
    // Act / Assess
    expect(() => createKeyBuilder({ namespace }).refreshWindowKeys(tenant, window)).toThrow();
  });

  it.each([
    ['default', 'review', 'mc:{hot:default}:review'],
    ['acme', 'product', 'mc:{hot:acme}:product'],
    ['acme', 'promo', 'mc:{hot:acme}:promo'],
  ] satisfies [string, CachedFamily, string][])(
    'names the hotness set of %s/%s %s',
    (tenant, family, expected) => {
      // Act / Assess
      expect(keys.hotKeysKey(tenant, family)).toBe(expected);
    },
  );

  it.each([
    ['a bad tenant', () => keys.hotKeysKey('acme:x', 'review')],
    ['a family never cached', () => keys.hotKeysKey('acme', 'price' as CachedFamily)],
  ])('refuses a hotness set with %s', (_why, build) => {
    // Act / Assess
    expect(build).toThrow(InvalidIdentifierError);
  });

  it('names the L1 channel and its sequence key', () => {
    // Act / Assess
    expect(keys.l1Channel()).toEqual({ channel: 'mc:l1', seqKey: 'mc:{l1}:seq' });
    expect(createKeyBuilder({ namespace: 'mc-staging' }).l1Channel()).toEqual({
      channel: 'mc-staging:l1',
      seqKey: 'mc-staging:{l1}:seq',
    });
  });

  it('names the fill lease of a value key inside the entity hash tag, and the fill channel', () => {
    // Act
    const product = keys.leaseKey({ family: 'product', tenant: 'acme', id: 'B08X1YRSTR', locale: 'ja-JP' });
    const reco = keys.leaseKey({
      family: 'reco',
      tenant: 'acme',
      id: 'user42',
      seedAsin: 'B08X1YRSTR',
      generation: 1_763_851_200_123_456,
    });

    // Assess
    expect(product).toBe('mc:{acme:product:B08X1YRSTR}:v1:ja-JP:lease');
    expect(reco).toBe('mc:{acme:reco:user42}:v1:g1763851200123456:B08X1YRSTR:lease');
    expect(hashTagOf(product)).toBe('acme:product:B08X1YRSTR');
    expect(parseKey(product, 'mc')).toBeNull();
    expect(keys.fillChannel()).toBe('mc:fill');
    expect(createKeyBuilder({ namespace: 'mc-staging' }).fillChannel()).toBe('mc-staging:fill');
  });

  it('names the write probe under a hash tag of its own', () => {
    // Act / Assess
    expect(keys.writeProbeKey()).toBe('mc:{probe}:writable');
    expect(hashTagOf(keys.writeProbeKey())).toBe('probe');
  });

  it('matches every key of a family, and only of that family, with the purge pattern', () => {
    // Prepare
    const pattern = keys.familyPattern('product');
    const glob = new RegExp(`^${pattern.replace(/[{}]/g, '\\$&').replaceAll('*', '.*')}$`);

    // Act / Assess
    expect(pattern).toBe('mc:{*:product:*}*');
    expect(keys.familyPattern('reco')).toBe('mc:{*:reco:*}*');
    for (const key of [...keys.variantKeys(product), keys.fenceKey(product)]) expect(key).toMatch(glob);
    expect(keys.fenceKey(user)).not.toMatch(glob);
    expect(() => keys.familyPattern('nope' as CachedFamily)).toThrow(InvalidIdentifierError);
  });
});

describe('defence in depth: builders refuse bad identifiers', () => {
  it.each([
    ['glob ASIN', () => keys.fenceKey({ ...product, id: 'B08X1YRST*' })],
    ['colon tenant', () => keys.fenceKey({ ...product, tenant: 'acme:reco' })],
    ['brace user', () => keys.fenceKey({ ...user, id: 'u}' })],
    ['bad locale', () => keys.valueKey({ ...product, family: 'product', locale: 'en US' })],
    ['bad extra locale', () => keys.variantKeys(product, ['*'])],
    ['bad seed ASIN', () => keys.valueKey({ ...user, family: 'reco', seedAsin: '*', generation: 1 })],
    [
      'negative generation',
      () => keys.valueKey({ ...user, family: 'reco', seedAsin: 'B08X1YRSTR', generation: -1 }),
    ],
    [
      'fractional generation',
      () => keys.valueKey({ ...user, family: 'reco', seedAsin: 'B08X1YRSTR', generation: 1.5 }),
    ],
    [
      'schema version 0',
      () => keys.valueKey({ ...product, family: 'product', locale: 'en-US', schemaVersion: 0 }),
    ],
    [
      'price is never cached',
      () => keys.fenceKey({ family: 'price' as CachedFamily, tenant: 'acme', id: 'B08X1YRSTR' }),
    ],
    ['unknown family', () => keys.fenceKey({ family: 'toString' as CachedFamily, tenant: 'acme', id: 'x' })],
    [
      'ASIN where a section belongs',
      () => keys.fenceKey({ family: 'promo', tenant: 'acme', id: 'B08X1YRSTR' }),
    ],
  ])('%s', (_label, build) => {
    // Act / Assess
    expect(build).toThrow(InvalidIdentifierError);
  });

  it.each([
    [{ namespace: 'mc:x' }],
    [{ namespace: '{mc}' }],
    [{ locales: [] }],
    [{ locales: ['en-US', '*'] }],
  ])('refuses options %j with a ConfigError', (options) => {
    // Act / Assess
    expect(() => createKeyBuilder(options)).toThrow(ConfigError);
  });
});

describe('property: no input produces a key outside its family', () => {
  const FAMILIES: CachedFamily[] = ['product', 'reco', 'promo', 'review'];
  const random = seededRandom(20250301);
  const PLAUSIBLE = ['B08X1YRSTR', 'electronics', 'user42', 'acme', 'en-US'];
  const VALID_ID: Record<CachedFamily, string> = {
    product: 'B08X1YRSTR',
    review: '0123456789',
    promo: 'home-kitchen',
    reco: 'U_42-x',
  };
  // Half near-valid values, half hostile strings, so both branches are exercised.
  const pick = (maxLength: number) =>
    random() < 0.5
      ? (PLAUSIBLE[Math.floor(random() * PLAUSIBLE.length)] ?? '')
      : hostileString(random, maxLength);

  const KEY_CHARSET = /^mc:\{[a-z0-9-]+:[a-z]+:[A-Za-z0-9_-]+\}:[A-Za-z0-9:-]+$/;

  it('holds for 5,000 generated entities and value keys', () => {
    // Prepare
    let built = 0;
    let refused = 0;
    const violations: string[] = [];

    for (let i = 0; i < 5_000; i += 1) {
      const family = FAMILIES[i % FAMILIES.length] ?? 'product';
      const id = random() < 0.4 ? (VALID_ID[family] ?? '') : pick(14);
      const entity: EntityRef = { family, tenant: random() < 0.7 ? 'acme' : pick(12), id };
      const ref: ValueKeyRef =
        family === 'reco'
          ? { ...entity, family, seedAsin: pick(12), generation: Math.floor(random() * 1000) }
          : { ...entity, family, locale: random() < 0.5 ? 'ja-JP' : pick(6) };

      // Act
      let produced: string[];
      try {
        produced = [keys.fenceKey(entity), keys.valueKey(ref), ...keys.variantKeys(entity)];
        built += 1;
      } catch (error) {
        if (!(error instanceof InvalidIdentifierError)) violations.push(`unexpected error ${String(error)}`);
        refused += 1;
        continue;
      }

      // Assess (collected, so one failure report lists every counter-example)
      for (const key of produced) {
        const parsed = parseKey(key, 'mc');
        const ok =
          parsed !== null &&
          parsed.family === family &&
          parsed.tenant === entity.tenant &&
          parsed.id === entity.id &&
          hashTagOf(key) === `${entity.tenant}:${family}:${entity.id}` &&
          KEY_CHARSET.test(key);
        if (!ok) violations.push(JSON.stringify({ entity, key }));
      }
    }
    expect(violations).toEqual([]);
    expect(built).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(500);
  });
});

describe('parseKey', () => {
  it.each([
    'mc:{acme:product:B08X1YRSTR}:v1:ja-JP',
    'mc:{acme:product:B08X1YRSTR}:fence',
    'mc:{acme:reco:user42}:gen',
    'mc:{acme:reco:user42}:v1:g7:B08X1YRSTR',
  ])('recognises %s', (key) => {
    // Act / Assess
    expect(parseKey(key, 'mc')).not.toBeNull();
  });

  it.each([
    'mc:{acme:product:B08X1YRSTR}:gen',
    'mc:{acme:reco:user42}:fence',
    'mc:{acme:reco:user42}:v1:ja-JP',
    'mc:{acme:price:B08X1YRSTR}:fence',
    'other:{acme:product:B08X1YRSTR}:fence',
    'mc:{acme:product:B08X1YRSTR}:v1:ja-JP:extra',
    'mc:{acme:product:B08X1YRST*}:fence',
    'mc:acme:product:B08X1YRSTR:fence',
    'mc:{acme:product:B08X1YRSTR}:v0:ja-JP',
    'product:B08X1YRSTR',
  ])('rejects %s', (key) => {
    // Act / Assess
    expect(parseKey(key, 'mc')).toBeNull();
  });

  it.each([
    ['mc:{acme:product:X}:fence', 'acme:product:X'],
    ['plain', 'plain'],
    ['a{}b', 'a{}b'],
    ['a{b', 'a{b'],
    ['x{a}{b}', 'a'],
  ])('hashTagOf(%s) follows the Redis rule', (key, tag) => {
    // Act / Assess
    expect(hashTagOf(key)).toBe(tag);
  });
});
