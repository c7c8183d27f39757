/**
 * What of an origin body may be cached. Prices are never cached (seed: "always fetched live"),
 * and the Reviews origin is known to leak `price`/`priceCents` into its summaries. Two
 * independent guards, both pure:
 *   1. an allow-list of fields per family: anything new from the origin is dropped until
 *      someone decides it is safe to cache (a new field must be added here on purpose);
 *   2. a deny rule over the allowed result: any key matching /price/i, at any depth, is removed,
 *      so a future allow-list entry cannot let a price through by accident.
 */

/** Families the refresher and the warm-up can fetch. */
export type FetchableFamily = 'review' | 'product' | 'promo';

/** Fields cached per family (mirrors the origins' documented bodies). */
export const CACHEABLE_FIELDS: Readonly<Record<FetchableFamily, readonly string[]>> = Object.freeze({
  review: Object.freeze(['asin', 'averageRating', 'reviewCount', 'topPhrases', 'version']),
  product: Object.freeze(['asin', 'title', 'brand', 'category', 'description', 'version', 'updatedAt']),
  promo: Object.freeze([
    'storeSection',
    'promotionId',
    'title',
    'discountPercent',
    'active',
    'version',
    'updatedAt',
  ]),
});

/** Keys that must never be cached, at any depth. */
export const PRICE_FIELD = /price/i;

/** A body ready to cache, or why it cannot be. */
export type FilteredValue =
  | { readonly ok: true; readonly value: Readonly<Record<string, unknown>>; readonly version: number }
  | { readonly ok: false; readonly reason: string };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Removes every key matching /price/i from `value`, recursively (arrays included). */
export function stripPriceFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripPriceFields);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!PRICE_FIELD.test(k)) out[k] = stripPriceFields(v);
  return out;
}

/**
 * The cacheable part of an origin `body` for entity `id` of `family`: allow-listed fields,
 * price fields stripped, and the origin's `version` (a positive integer, required: it decides
 * which of two racing writes wins). A body about another entity is refused.
 */
export function toCacheableValue(family: FetchableFamily, id: string, body: unknown): FilteredValue {
  if (!isRecord(body)) return { ok: false, reason: 'origin body is not a JSON object' };
  const version = body.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)
    return { ok: false, reason: 'origin body has no positive integer version' };
  const idField = family === 'promo' ? 'storeSection' : 'asin';
  if (body[idField] !== id) return { ok: false, reason: `origin body is about another ${idField}` };
  const allowed: Record<string, unknown> = {};
  for (const field of CACHEABLE_FIELDS[family]) if (Object.hasOwn(body, field)) allowed[field] = body[field];
  return { ok: true, value: stripPriceFields(allowed) as Record<string, unknown>, version };
}
