import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  EffectTimeoutError,
  EventValidationError,
  InvalidEventError,
  InvalidIdentifierError,
  MalformedEventError,
  OversizedEventError,
  PoisonError,
  RedisUnavailableError,
  ReplicationShortfallError,
  TransientEffectError,
  TransientError,
  UnknownEventTypeError,
  UnsupportedSchemaVersionError,
  errorCode,
  isPoison,
  isRetryable,
} from '../../../src/core/errors.ts';

describe('error classes', () => {
  const cause = new Error('ECONNREFUSED');
  it.each([
    [new OversizedEventError(70_000, 65_536), 'EVENT_OVERSIZED', 'poison'],
    [new MalformedEventError('x'), 'EVENT_MALFORMED', 'poison'],
    [new UnknownEventTypeError('x.y'), 'EVENT_UNKNOWN_TYPE', 'poison'],
    [new UnsupportedSchemaVersionError('x'), 'EVENT_UNSUPPORTED_SCHEMA_VERSION', 'poison'],
    [new EventValidationError(['a: b']), 'EVENT_INVALID', 'poison'],
    [new EventValidationError(['a: b'], { badIdentifier: true }), 'EVENT_BAD_IDENTIFIER', 'poison'],
    [new InvalidIdentifierError('asin', 'bad'), 'INVALID_IDENTIFIER', 'poison'],
    [new TransientEffectError('x', { cause }), 'EFFECT_TRANSIENT', 'transient'],
    [new RedisUnavailableError('down', { cause }), 'REDIS_UNAVAILABLE', 'transient'],
    [new EffectTimeoutError('slow', { cause }), 'EFFECT_TIMEOUT', 'transient'],
    [new ReplicationShortfallError(0, 1), 'WAIT_SHORTFALL', 'transient'],
    [new ConfigError([{ variable: 'X', message: 'y' }]), 'CONFIG_INVALID', 'fatal'],
  ] as const)('%s has code %s and is %s', (error, code, kind) => {
    // Act / Assess
    expect(error.code).toBe(code);
    expect(errorCode(error)).toBe(code);
    expect(error.name).toBe(error.constructor.name);
    expect(error).toBeInstanceOf(Error);
    expect(isPoison(error)).toBe(kind === 'poison');
    expect(isRetryable(error)).toBe(kind === 'transient');
    expect(error.retryable).toBe(kind === 'transient');
    expect(error instanceof TransientError).toBe(kind === 'transient');
    expect(error instanceof PoisonError).toBe(kind === 'poison');
  });

  it('keeps the cause', () => {
    // Prepare
    const cause = new Error('socket closed');

    // Act
    const error = new RedisUnavailableError('redis unreachable', { cause });

    // Assess
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(TransientEffectError);
  });

  it('groups every edge rejection under InvalidEventError', () => {
    // Assess
    expect(new OversizedEventError(1, 0)).toBeInstanceOf(InvalidEventError);
    expect(new InvalidIdentifierError('asin', 'x')).not.toBeInstanceOf(InvalidEventError);
  });

  it('treats unknown errors as retryable: replaying a delete is safe, dropping one is not', () => {
    // Act / Assess
    expect(isRetryable(new Error('?'))).toBe(true);
    expect(isPoison(new Error('?'))).toBe(false);
    expect(errorCode('string thrown')).toBe('UNKNOWN');
  });

  it('reports the WAIT shortfall figures', () => {
    // Act
    const error = new ReplicationShortfallError(0, 1);

    // Assess
    expect(error.message).toBe('WAIT confirmed 0 of 1 replicas');
    expect([error.acknowledged, error.required]).toEqual([0, 1]);
  });

  it('freezes the problems of a ConfigError and lists them in the message', () => {
    // Act
    const error = new ConfigError([
      { variable: 'A', message: 'is required' },
      { variable: 'B', message: 'must be a number' },
    ]);

    // Assess
    expect(Object.isFrozen(error.problems)).toBe(true);
    expect(error.message).toBe(
      'invalid configuration (2 problems):\n  - A: is required\n  - B: must be a number',
    );
  });
});
