/** Builders of valid events and SQS bodies for the core unit tests (no I/O). */
import { randomUUID } from 'node:crypto';
import { mulberry32 } from '../../../src/origin-sim/deterministic-random.ts';

export const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:catalog-events';
export const OCCURRED_AT = '2025-03-01T12:00:00.000Z';
export const OCCURRED_AT_MS = Date.parse(OCCURRED_AT);

type Fields = Record<string, unknown>;

/** A valid event of `type` with sensible defaults, overridable field by field. */
export function event(type: string, fields: Fields = {}): Fields {
  const defaults: Record<string, Fields> = {
    'catalog.product.updated': { asin: 'B08X1YRSTR' },
    'catalog.product.deleted': { asin: 'B08X1YRSTR' },
    'promotion.changed': { storeSections: ['electronics'] },
    'promotion.activated': { storeSections: ['electronics'] },
    'promotion.expired': { storeSections: ['electronics'] },
    'session.started': { userId: 'user42' },
    'review.summary-changed': { asin: 'B08X1YRSTR' },
    'refresh.tick': { scheduledAt: '2025-03-01T12:00:00Z' },
    'pipeline.canary': { topic: 'catalog' },
  };
  return {
    schemaVersion: 1,
    type,
    eventId: randomUUID(),
    occurredAt: OCCURRED_AT,
    version: 1,
    ...defaults[type],
    ...fields,
  };
}

/** The event as a raw-delivery SQS body. */
export const raw = (e: Fields): string => JSON.stringify(e);

/** The event wrapped in an SNS notification envelope, as SQS receives it. */
export function snsBody(e: Fields, envelope: Fields = {}): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: TOPIC_ARN,
    Message: JSON.stringify(e),
    Timestamp: '2025-03-01T12:00:00.250Z',
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/cert.pem',
    UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
    ...envelope,
  });
}

/** Deterministic PRNG (the origin simulator's mulberry32) so property-style tests are reproducible. */
export const seededRandom = mulberry32;

/** Characters that must never reach a key unescaped, plus ordinary ones to make near-misses. */
export const HOSTILE_ALPHABET = [
  ...'ABCXYZ0189abcxyz-_',
  ':',
  '{',
  '}',
  '*',
  '?',
  '[',
  ']',
  '\\',
  ' ',
  '\n',
  '\r',
  '\t',
  '\0',
  '.',
  '/',
  '@',
  '|',
  '\u0410', // Cyrillic A
  '\u0392', // Greek Beta
  '\uFF21', // fullwidth A
  '\u200B', // zero-width space
  '\u212A', // Kelvin sign
  '\uD83D\uDE00', // emoji (surrogate pair)
];

/** A random string over the hostile alphabet, length 0..maxLength. */
export function hostileString(random: () => number, maxLength: number): string {
  const length = Math.floor(random() * (maxLength + 1));
  let s = '';
  for (let i = 0; i < length; i += 1)
    s += HOSTILE_ALPHABET[Math.floor(random() * HOSTILE_ALPHABET.length)] ?? '';
  return s;
}
