/**
 * Property: a rejection reason never carries input. Seeded mutations of valid events put a
 * marker in every place a producer controls (field values, field names, type, schemaVersion,
 * array items, nested objects, the raw JSON text, every SNS envelope field, the inner
 * Message); no reason may contain the marker or any character outside printable ASCII, and
 * no effect of a message that was applied may leave its entity.
 */
import { describe, expect, it } from 'vitest';
import { InvalidIdentifierError } from '../../../../src/core/errors.ts';
import { createKeyBuilder } from '../../../../src/core/key-builder.ts';
import type { EntityRef, KeyBuilder } from '../../../../src/core/key-builder.ts';
import { hashTagOf, parseKey } from '../../../../src/core/key-parser.ts';
import { planBatch } from '../../../../src/core/invalidation-planner.ts';
import type { InvalidationPlan } from '../../../../src/core/invalidation-plan.ts';
import { HOSTILE_ALPHABET, event, raw, seededRandom, snsBody } from '../fixtures.ts';

const keys = createKeyBuilder({ namespace: 'mc', locales: ['en-US', 'ja-JP'] });
const CASES = 20_000;
/** What a reason may hold: printable ASCII, nothing that could break a log line or an attribute. */
const SAFE_REASON = /^[\x20-\x7E]*$/;
const MARKER_LETTERS = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ';
/** Characters that have leaked through reasons before: JSON.parse quotes, C1, bidi, lone surrogates. */
const NASTY = [
  ...HOSTILE_ALPHABET,
  '"',
  "'",
  '\u000B',
  '\u0085',
  '\u2029',
  '\u202E',
  '\uD800',
  '\uDFFF',
  '\u00A0',
];
const TYPES = [
  'catalog.product.updated',
  'catalog.product.deleted',
  'promotion.changed',
  'promotion.activated',
  'promotion.expired',
  'session.started',
  'review.summary-changed',
  'refresh.tick',
];
const ENVELOPE_FIELDS = ['Type', 'MessageId', 'TopicArn', 'Timestamp', 'Message'];

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

/** A fresh marker: letters only, so it also passes every "printable key" filter. */
function markerOf(random: Random): string {
  let s = '';
  for (let i = 0; i < 10; i += 1) s += pick(random, [...MARKER_LETTERS]);
  return s;
}

/** The marker, sometimes wrapped in hostile characters or repeated, as a producer could send it. */
function injected(random: Random, marker: string): string {
  const wrap = () => Array.from({ length: Math.floor(random() * 4) }, () => pick(random, NASTY)).join('');
  const r = random();
  if (r < 0.3) return marker;
  if (r < 0.8) return `${wrap()}${marker}${wrap()}`;
  return `${wrap()}${marker.repeat(1 + Math.floor(random() * 12))}`;
}

/** One mutated event object: the marker in a field value, a field name, type, version... */
function mutateEvent(random: Random, marker: string): Record<string, unknown> {
  const e = event(pick(random, TYPES));
  const fields = Object.keys(e);
  const value = () => injected(random, marker);
  switch (Math.floor(random() * 9)) {
    case 0:
      e[pick(random, fields)] = value();
      break;
    case 1:
      e[value()] = pick(random, [value(), 1, true, null]);
      break;
    case 2:
      e.type = value();
      break;
    case 3:
      e.schemaVersion = pick(random, [value(), [value()], { [value()]: 1 }]);
      break;
    case 4:
      e[pick(random, ['storeSections', 'locales'])] = [value(), 'electronics'];
      break;
    case 5:
      e[pick(random, fields)] = { [value()]: { [value()]: value() } };
      break;
    case 6:
      e[pick(random, fields)] = [value(), { [value()]: value() }];
      break;
    case 7:
      e.type = pick(random, TYPES).slice(0, -1) + value();
      break;
    default:
      e[pick(random, fields)] = Number.NaN;
      e[value()] = value();
  }
  return e;
}

/** A body that is not JSON because of the marker: inserted, unterminated, or alone. */
function brokenJson(random: Random, marker: string): string {
  const text = raw(event(pick(random, TYPES)));
  const at = Math.floor(random() * text.length);
  switch (Math.floor(random() * 4)) {
    case 0:
      return text.slice(0, at) + injected(random, marker) + text.slice(at);
    case 1:
      return `{"type":"${injected(random, marker)}`;
    case 2:
      return `{"${injected(random, marker)}":1,}`;
    default:
      return injected(random, marker);
  }
}

function mutatedBody(random: Random, marker: string): string {
  const r = random();
  if (r < 0.35) return raw(mutateEvent(random, marker));
  if (r < 0.55) return brokenJson(random, marker);
  if (r < 0.75) return snsBody(mutateEvent(random, marker));
  if (r < 0.85) return snsBody(event(pick(random, TYPES)), { Message: brokenJson(random, marker) });
  return snsBody(event(pick(random, TYPES)), { [pick(random, ENVELOPE_FIELDS)]: injected(random, marker) });
}

/** Every key an applied effect names stays in its family and its entity's hash slot. */
function expectEffectsInTheirEntity(plan: InvalidationPlan): void {
  for (const effect of plan.effects) {
    for (const key of [...effect.unlink, effect.fence]) {
      expect(parseKey(key, 'mc')).toMatchObject({ family: effect.family });
      expect(hashTagOf(key)).toBe(effect.slotTag);
    }
  }
}

describe('property: rejection reasons never carry input', () => {
  it(`holds for ${CASES} seeded mutations with a marker in every place`, () => {
    // Prepare
    const random = seededRandom(0x5eed10);
    const leaks: { body: string; reason: string }[] = [];
    let poison = 0;

    for (let start = 0; start < CASES; start += 50) {
      const markers = Array.from({ length: 50 }, () => markerOf(random));
      const messages = markers.map((m, i) => ({ messageId: `m${start + i}`, body: mutatedBody(random, m) }));

      // Act
      const plan = planBatch(messages, keys);

      // Assess
      plan.decisions.forEach((d, i) => {
        if (d.kind !== 'poison') return;
        poison += 1;
        const marker = markers[i] ?? '';
        // Any 5 letters of the marker in a row count: V8 quotes only a window of the input.
        const leaked = Array.from({ length: marker.length - 4 }, (_, k) => marker.slice(k, k + 5)).some(
          (part) => d.reason.includes(part),
        );
        if (leaked || !SAFE_REASON.test(d.reason) || d.reason.length === 0) {
          leaks.push({ body: messages[i]?.body ?? '', reason: d.reason });
        }
      });
      expectEffectsInTheirEntity(plan);
    }

    expect(poison).toBeGreaterThan(CASES * 0.8);
    expect(leaks.slice(0, 5)).toEqual([]);
    expect(leaks).toHaveLength(0);
  });

  it('hides the message of an unexpected error raised while planning', () => {
    // Prepare: a builder bug whose message quotes the input.
    const broken: KeyBuilder = {
      ...keys,
      entityEffect: (entity) => {
        throw new RangeError(`cannot build ${entity.id}\u0000\n`);
      },
    };

    // Act
    const plan = planBatch(
      [{ messageId: 'm1', body: raw(event('catalog.product.updated', { asin: 'ZQXJKWVBNM' })) }],
      broken,
    );

    // Assess
    const decision = plan.decisions[0];
    expect(decision).toMatchObject({ kind: 'poison', code: 'PLAN_FAILED' });
    expect(decision?.kind === 'poison' && decision.reason).not.toContain('ZQXJKWVBNM');
    expect(decision?.kind === 'poison' && decision.reason).toMatch(SAFE_REASON);
  });

  it.each([
    ['product', 'id'],
    ['promo', 'id'],
    ['reco', 'id'],
    ['review', 'tenant'],
    ['price', 'id'],
  ] as const)('a key builder refusing a %s %s never quotes it', (family, field) => {
    // Prepare: the builders are the planner's second line; their messages reach reasons too.
    const hostile = 'ZQXJKWVBNM}:{\u0000\n*';
    // `price` is not a cached family: the cast stands in for an event naming it.
    const entity = { family, tenant: 'default', id: 'B08X1YRSTR', [field]: hostile } as EntityRef;

    // Act
    const thrown = (() => {
      try {
        keys.entityEffect(entity);
        return undefined;
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect(thrown).toBeInstanceOf(InvalidIdentifierError);
    expect(thrown instanceof Error && thrown.message).not.toContain('ZQXJK');
    expect(thrown instanceof Error && thrown.message).toMatch(SAFE_REASON);
  });
});
