/**
 * The body of `POST /_sim/change`, parsed once at the edge into a discriminated union so the
 * rest of the simulator (entity bump, event factory) trusts its fields.
 */
import { isAsin, isLocale, isSlug, isTenant, isUserId } from './identifiers.ts';

/** A validated request to change one entity (and, unless `publish` is false, announce it). */
export type ChangeRequest =
  | {
      readonly family: 'product';
      readonly kind: 'updated' | 'deleted';
      readonly asin: string;
      readonly locales?: readonly string[];
      readonly tenant?: string;
      readonly publish: boolean;
    }
  | {
      readonly family: 'promotion';
      readonly kind: 'changed' | 'activated' | 'expired';
      readonly promotionId: string;
      readonly storeSections: readonly string[];
      readonly tenant?: string;
      readonly publish: boolean;
    }
  | {
      readonly family: 'session';
      readonly kind: 'started';
      readonly userId: string;
      readonly tenant?: string;
      readonly publish: boolean;
    }
  | {
      readonly family: 'review';
      readonly kind: 'changed';
      readonly asin: string;
      readonly tenant?: string;
      readonly publish: boolean;
    };

/** Outcome of parsing a change body. */
export type ChangeParseResult =
  | { readonly ok: true; readonly change: ChangeRequest }
  | { readonly ok: false; readonly errors: readonly string[] };

const KINDS = {
  product: ['updated', 'deleted'],
  promotion: ['changed', 'activated', 'expired'],
  session: ['started'],
  review: ['changed'],
} as const;

const KNOWN_FIELDS = new Set(['family', 'id', 'kind', 'tenant', 'locales', 'storeSections', 'publish']);
/** Same bounds as the worker's schemas, so a simulated event is never oversized by accident. */
const MAX_LOCALES = 32;
const MAX_SECTIONS = 100;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function list(
  field: string,
  value: unknown,
  max: number,
  valid: (item: unknown) => boolean,
  errors: string[],
): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > max) {
    errors.push(`${field} must be an array of 1 to ${max} items`);
    return undefined;
  }
  const bad = value.filter((item) => !valid(item));
  if (bad.length > 0) errors.push(`${field}: invalid items ${JSON.stringify(bad)}`);
  return value as string[];
}

/** Parses an untrusted change body; every problem is reported at once. */
export function parseChangeRequest(body: unknown): ChangeParseResult {
  if (!isRecord(body)) return { ok: false, errors: ['the body must be a JSON object'] };
  const errors: string[] = [];
  for (const name of Object.keys(body)) if (!KNOWN_FIELDS.has(name)) errors.push(`${name}: unknown field`);

  const { family, id, tenant } = body;
  if (family !== 'product' && family !== 'promotion' && family !== 'session' && family !== 'review')
    return { ok: false, errors: [...errors, 'family must be one of product, promotion, session, review'] };

  const allowed: readonly string[] = KINDS[family];
  const kind = body.kind ?? allowed[0];
  if (typeof kind !== 'string' || !allowed.includes(kind))
    errors.push(`kind for ${family} must be one of ${allowed.join(', ')}`);
  if (tenant !== undefined && !isTenant(tenant)) errors.push('tenant must be a lower-case slug');
  if (body.publish !== undefined && typeof body.publish !== 'boolean')
    errors.push('publish must be a boolean');
  const locales = list('locales', body.locales, MAX_LOCALES, isLocale, errors);
  const storeSections = list('storeSections', body.storeSections, MAX_SECTIONS, isSlug, errors);
  // Only product events carry locales and only promotion events carry sections; anything
  // else would be a field the worker's strict schemas reject, so refuse it here.
  if (locales && family !== 'product') errors.push('locales apply to product changes only');
  if (storeSections && family !== 'promotion') errors.push('storeSections apply to promotion changes only');

  const idValid = { product: isAsin, review: isAsin, promotion: isSlug, session: isUserId }[family];
  const idShape = { product: 'an ASIN', review: 'an ASIN', promotion: 'a slug', session: 'a user id' }[
    family
  ];
  if (!idValid(id)) errors.push(`id must be ${idShape} for ${family}`);
  if (errors.length > 0 || typeof id !== 'string') return { ok: false, errors };

  const common = {
    publish: body.publish !== false,
    ...(typeof tenant === 'string' ? { tenant } : {}),
  };
  switch (family) {
    case 'product':
      return {
        ok: true,
        change: {
          ...common,
          family,
          kind: kind as 'updated' | 'deleted',
          asin: id,
          ...(locales ? { locales } : {}),
        },
      };
    case 'promotion':
      // A promotion without explicit sections applies to the section of the same name.
      return {
        ok: true,
        change: {
          ...common,
          family,
          kind: kind as 'changed' | 'activated' | 'expired',
          promotionId: id,
          storeSections: storeSections ?? [id],
        },
      };
    case 'session':
      return { ok: true, change: { ...common, family, kind: 'started', userId: id } };
    case 'review':
      return { ok: true, change: { ...common, family, kind: 'changed', asin: id } };
  }
}
