import { describe, expect, it } from 'vitest';
import {
  ASIN,
  EVENT_ID,
  LOCALE,
  NAMESPACE,
  STORE_SECTION,
  TENANT,
  USER_ID,
  identifierSchema,
  matchesRule,
} from '../../../src/core/identifier-rules.ts';
import type { IdentifierRule } from '../../../src/core/identifier-rules.ts';

/** Inputs no identifier of any kind may accept. */
const HOSTILE = [
  ['empty', ''],
  ['glob star', 'B08X1YRST*'],
  ['glob question mark', 'B08X1YRST?'],
  ['glob class', '[a-z]'],
  ['open brace (hash tag)', 'user{42'],
  ['close brace (hash tag)', 'user}42'],
  ['colon (separator)', 'acme:x'],
  ['space', 'user 42'],
  ['leading space', ' user42'],
  ['trailing newline', 'user42\n'],
  ['embedded newline', 'user\n42'],
  ['carriage return', 'user42\r'],
  ['tab', 'user\t42'],
  ['NUL', 'user42\0'],
  ['backslash', 'user\\42'],
  ['Cyrillic look-alike', 'B08X1YRSТR'], // the Т is U+0422
  ['fullwidth look-alike', 'Ｂ08X1YRSTR'],
  ['zero-width space', 'user\u200B42'],
  ['Kelvin sign', '\u212A'],
  ['emoji', 'user😀'],
  ['too long', 'a'.repeat(200)],
] as const;

const RULES: [string, IdentifierRule][] = [
  ['asin', ASIN],
  ['store section', STORE_SECTION],
  ['user id', USER_ID],
  ['tenant', TENANT],
  ['locale', LOCALE],
  ['namespace', NAMESPACE],
  ['event id', EVENT_ID],
];

describe.each(RULES)('%s rule rejects hostile input', (_name, rule) => {
  it.each(HOSTILE)('%s', (_label, value) => {
    // Act
    const accepted = matchesRule(rule, value);
    const parsed = identifierSchema(rule).safeParse(value);

    // Assess
    expect(accepted).toBe(false);
    expect(parsed.success).toBe(false);
  });
});

describe('rules accept the documented shapes', () => {
  const ACCEPTANCE: [IdentifierRule, string, boolean][] = [
    [ASIN, 'B08X1YRSTR', true],
    [ASIN, '0123456789', true],
    [ASIN, 'b08x1yrstr', false],
    [ASIN, 'B08X1YRST', false],
    [ASIN, 'B08X1YRSTRX', false],
    [ASIN, 'B08X-YRSTR', false],
    [STORE_SECTION, 'electronics', true],
    [STORE_SECTION, 'home-kitchen', true],
    [STORE_SECTION, 'a'.repeat(64), true],
    [STORE_SECTION, 'a'.repeat(65), false],
    [STORE_SECTION, 'Home', false],
    [STORE_SECTION, '-home', false],
    [STORE_SECTION, 'home-', false],
    [STORE_SECTION, 'home--kitchen', false],
    [STORE_SECTION, 'home_kitchen', false],
    [USER_ID, 'user42', true],
    [USER_ID, 'U_1-x', true],
    [USER_ID, 'a'.repeat(64), true],
    [USER_ID, 'a'.repeat(65), false],
    [USER_ID, 'user@example.com', false],
    [USER_ID, 'user.42', false],
    [TENANT, 'acme', true],
    [TENANT, 'default', true],
    [TENANT, 'a'.repeat(33), false],
    [LOCALE, 'en-US', true],
    [LOCALE, 'ja-JP', true],
    [LOCALE, 'zh-Hant-TW', true],
    [LOCALE, 'es-419', true],
    [LOCALE, 'en', true],
    [LOCALE, 'en_US', false],
    [LOCALE, 'EN-us', false],
    [NAMESPACE, 'mc', true],
    [NAMESPACE, 'mc-staging', true],
    [NAMESPACE, '1mc', false],
    [NAMESPACE, 'mc:x', false],
    [EVENT_ID, '6ba7b810-9dad-41d1-80b4-00c04fd430c8', true],
    [EVENT_ID, '01ARZ3NDEKTSV4RRFFQ69G5FAV', true],
    [EVENT_ID, '00000000-0000-0000-0000-000000000000', false],
    [EVENT_ID, '01arz3ndektsv4rrffq69g5fav', false],
    [EVENT_ID, 'not-an-id', false],
  ];
  it.each(ACCEPTANCE.map(([rule, value, expected]) => ({ kind: rule.kind, rule, value, expected })))(
    '$kind: $value -> $expected',
    ({ rule, value, expected }) => {
      // Act / Assess
      expect(matchesRule(rule, value), `${rule.kind} ${JSON.stringify(value)}`).toBe(expected);
    },
  );

  it('never echoes the rejected input in its message', () => {
    // Prepare
    const hostile = 'evil\n{inject}';

    // Act
    const result = identifierSchema(USER_ID).safeParse(hostile);

    // Assess
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues.map((i) => i.message))).not.toContain('inject');
  });
});
