import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  EventValidationError,
  FleetError,
  InfrastructureError,
  InvalidEventError,
  InvalidIdentifierError,
  MalformedEventError,
  OversizedEventError,
  PoisonError,
  UnknownEventTypeError,
  UnsupportedSchemaVersionError,
  errorCode,
  isPoison,
  isRetryable,
} from '../../../src/core/errors.ts';

/** A concrete infrastructure error, as an adapter defines one. */
class DependencyDownError extends InfrastructureError {
  readonly code = 'DEPENDENCY_DOWN';
}

describe('error classes', () => {
  it.each([
    [new OversizedEventError(70_000, 65_536), 'EVENT_OVERSIZED', 'poison'],
    [new MalformedEventError('x'), 'EVENT_MALFORMED', 'poison'],
    [new UnknownEventTypeError('x.y'), 'EVENT_UNKNOWN_TYPE', 'poison'],
    [new UnsupportedSchemaVersionError('x'), 'EVENT_UNSUPPORTED_SCHEMA_VERSION', 'poison'],
    [new EventValidationError(['a: b']), 'EVENT_INVALID', 'poison'],
    [new EventValidationError(['a: b'], { badIdentifier: true }), 'EVENT_BAD_IDENTIFIER', 'poison'],
    [new InvalidIdentifierError('asin', 'bad'), 'INVALID_IDENTIFIER', 'poison'],
    [new DependencyDownError('down'), 'DEPENDENCY_DOWN', 'infrastructure'],
    [new ConfigError([{ variable: 'X', message: 'y' }]), 'CONFIG_INVALID', 'fatal'],
  ] as const)('%s has code %s and is %s', (error, code, kind) => {
    // Act / Assess
    expect(error.code).toBe(code);
    expect(errorCode(error)).toBe(code);
    expect(error.name).toBe(error.constructor.name);
    expect(error).toBeInstanceOf(FleetError);
    expect(isPoison(error)).toBe(kind === 'poison');
    expect(isRetryable(error)).toBe(kind === 'infrastructure');
    expect(error.retryable).toBe(kind === 'infrastructure');
    expect(error instanceof InfrastructureError).toBe(kind === 'infrastructure');
    expect(error instanceof PoisonError).toBe(kind === 'poison');
  });

  it('keeps the cause', () => {
    // Prepare
    const cause = new Error('socket closed');

    // Act
    const error = new DependencyDownError('redis unreachable', { cause });

    // Assess
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(InfrastructureError);
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

  it('never quotes the input in a poison message (it becomes the DLQ reason)', () => {
    // Prepare
    const marker = 'ZQXJKWVBNM';

    // Act
    const error = new UnknownEventTypeError(`${marker}.changed`);

    // Assess
    expect(error.message).not.toContain(marker);
    expect(error.eventType).toBe(`${marker}.changed`);
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
