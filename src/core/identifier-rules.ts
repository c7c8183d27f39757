/**
 * The identifier rules: one pattern per kind of identifier that ends up inside a Redis key.
 * The event schemas (at the edge) and the key builders (defence in depth) both use them, so
 * an identifier valid in one place is valid in the other.
 *
 * Every pattern is anchored, ASCII-only and free of the characters that matter to Redis
 * keys: `:` (our segment separator), `{` `}` (cluster hash tags), `*` `?` `[` `]` `\` (glob
 * patterns of SCAN/KEYS/PSUBSCRIBE), whitespace and control characters. Look-alike letters
 * from other scripts are rejected because the classes are ASCII ranges (no `u`/`i` flags).
 * JavaScript's `$` matches only at the end of input, so a trailing newline is rejected too.
 */
import { z } from 'zod';

/** A rule: the pattern, its length bounds and a sentence saying what is allowed. */
export interface IdentifierRule {
  readonly kind: string;
  readonly pattern: RegExp;
  readonly maxLength: number;
  readonly description: string;
}

const rule = (kind: string, pattern: RegExp, maxLength: number, description: string): IdentifierRule =>
  Object.freeze({ kind, pattern, maxLength, description });

/** Amazon Standard Identification Number: exactly 10 upper-case ASCII letters or digits. */
export const ASIN = rule('asin', /^[A-Z0-9]{10}$/, 10, 'exactly 10 upper-case letters or digits');

/** Store section: a lower-case slug, e.g. `electronics` or `home-kitchen`. */
export const STORE_SECTION = rule(
  'store section',
  /^[a-z0-9]+(?:-[a-z0-9]+)*$/,
  64,
  'a lower-case slug (a-z, 0-9, single dashes between words), at most 64 characters',
);

/**
 * User id: ASCII letters, digits, `_` and `-`, 1 to 64 characters. Deliberately narrow: no
 * `:`, braces, glob characters, dots, `@` or whitespace, so a user id can never address
 * another user's keys or another family.
 */
export const USER_ID = rule(
  'user id',
  /^[A-Za-z0-9_-]{1,64}$/,
  64,
  'letters, digits, "_" or "-", 1 to 64 characters',
);

/** Tenant: a lower-case slug like the store section, at most 32 characters. */
export const TENANT = rule(
  'tenant',
  /^[a-z0-9]+(?:-[a-z0-9]+)*$/,
  32,
  'a lower-case slug (a-z, 0-9, single dashes between words), at most 32 characters',
);

/** Locale: a BCP 47 subset, language[-Script][-REGION], e.g. `en-US`, `ja-JP`, `zh-Hant-TW`. */
export const LOCALE = rule(
  'locale',
  /^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?$/,
  16,
  'language[-Script][-REGION] such as en-US or zh-Hant-TW',
);

/** Key namespace (first segment of every key): a short slug starting with a letter. */
export const NAMESPACE = rule(
  'namespace',
  /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/,
  32,
  'a lower-case slug starting with a letter, at most 32 characters',
);

/** Promotion id (carried, never part of a key, but still kept tame for logs). */
export const PROMOTION_ID = rule('promotion id', /^[A-Za-z0-9_-]{1,64}$/, 64, 'letters, digits, "_" or "-"');

/** Event id: an RFC 9562 UUID (versions 1-8, not nil/max) or an upper-case ULID. */
export const EVENT_ID = rule(
  'event id',
  /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|[0-7][0-9A-HJKMNP-TV-Z]{25})$/,
  36,
  'a UUID or a ULID',
);

/** True when `value` is a string that satisfies the rule. */
export const matchesRule = (r: IdentifierRule, value: unknown): value is string =>
  typeof value === 'string' && value.length <= r.maxLength && r.pattern.test(value);

/**
 * A zod schema for the rule. The message names the rule and never echoes the input, so a
 * hostile value cannot inject itself into logs or DLQ reasons.
 */
export const identifierSchema = (r: IdentifierRule) =>
  z
    .string({ error: `must be a string: ${r.description}` })
    .max(r.maxLength, { error: `invalid ${r.kind}: ${r.description}` })
    .regex(r.pattern, { error: `invalid ${r.kind}: ${r.description}` });
