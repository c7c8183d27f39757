import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import { KEY_CONTRACT } from '../../../src/core/key-contract.ts';
import {
  defaultReadPolicy,
  freshnessOf,
  mayServeStale,
  resolveReadPolicies,
} from '../../../src/client/read-policy.ts';

describe('read policy per consistency class', () => {
  it.each([
    ['promo', false, KEY_CONTRACT.promo.ttlMs],
    ['product', true, 240_000],
    ['reco', true, 720_000],
    ['review', true, 2_880_000],
  ] as const)('%s: stale allowed %s, soft TTL %i ms', (family, stale, softTtlMs) => {
    // Act
    const policy = defaultReadPolicy(family);

    // Assess
    expect(policy.staleWhileRevalidate).toBe(stale);
    expect(policy.failSafe).toBe(stale);
    expect(policy.softTtlMs).toBe(softTtlMs);
    expect(policy.maxStaleAgeMs).toBe(KEY_CONTRACT[family].ttlMs);
  });

  it('refuses a promo policy that opts into stale reads, reporting every problem together', () => {
    // Act
    let error: unknown;
    try {
      resolveReadPolicies({
        promo: { failSafe: true },
        product: { softTtlMs: 10 * 60_000, negativeTtlMs: 0 },
      });
    } catch (e) {
      error = e;
    }

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
      'readPolicy.product.negativeTtlMs',
      'readPolicy.product.softTtlMs',
      'readPolicy.promo',
    ]);
  });

  it('lets a bounded-staleness family opt out of fail-safe', () => {
    // Act
    const policies = resolveReadPolicies({ product: { failSafe: false } });

    // Assess
    expect(policies.product.failSafe).toBe(false);
    expect(policies.product.staleWhileRevalidate).toBe(true);
    expect(Object.isFrozen(policies.product)).toBe(true);
  });

  it.each([
    [0, 'fresh'],
    [239_999, 'fresh'],
    [240_000, 'stale'],
  ] as const)('a product value %i ms old is %s', (age, expected) => {
    // Act / Assess
    expect(freshnessOf(1_000_000, 1_000_000 + age, defaultReadPolicy('product'))).toBe(expected);
  });

  it('treats a value of unknown age (written by the refresh) as fresh', () => {
    expect(freshnessOf(undefined, Date.now(), defaultReadPolicy('promo'))).toBe('fresh');
  });

  it('serves fail-safe only up to the maximum stale age, and never for promo', () => {
    // Prepare
    const product = defaultReadPolicy('product');

    // Act / Assess
    expect(mayServeStale(product, 'fail-safe', product.maxStaleAgeMs)).toBe(true);
    expect(mayServeStale(product, 'fail-safe', product.maxStaleAgeMs + 1)).toBe(false);
    expect(mayServeStale(defaultReadPolicy('promo'), 'fail-safe', 0)).toBe(false);
    expect(mayServeStale(defaultReadPolicy('promo'), 'revalidate', 0)).toBe(false);
  });
});
