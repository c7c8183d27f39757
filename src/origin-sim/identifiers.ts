/**
 * Identifier checks of the simulated origins. Deliberately a copy of the shapes, not an
 * import of the worker's core rules: the simulator stands in for foreign services, and a
 * shared module would hide a drift between what origins accept and what the worker accepts.
 */

/** 10 upper-case ASCII letters or digits. */
export const ASIN_PATTERN = /^[A-Z0-9]{10}$/;
/** Lower-case slug, at most 64 characters (store sections, promotion ids). */
export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Letters, digits, `_` and `-`, 1 to 64 characters. */
export const USER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** BCP 47 subset: language[-Script][-REGION]. */
export const LOCALE_PATTERN = /^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?$/;

const SLUG_MAX = 64;
const TENANT_MAX = 32;

/** True when `value` is an ASIN. */
export const isAsin = (value: unknown): value is string =>
  typeof value === 'string' && ASIN_PATTERN.test(value);

/** True when `value` is a store-section or promotion slug. */
export const isSlug = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= SLUG_MAX && SLUG_PATTERN.test(value);

/** True when `value` is a tenant slug. */
export const isTenant = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= TENANT_MAX && SLUG_PATTERN.test(value);

/** True when `value` is a user id. */
export const isUserId = (value: unknown): value is string =>
  typeof value === 'string' && USER_ID_PATTERN.test(value);

/** True when `value` is a locale such as `en-US`. */
export const isLocale = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= 16 && LOCALE_PATTERN.test(value);
