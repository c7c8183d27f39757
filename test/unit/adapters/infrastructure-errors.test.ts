import { describe, expect, it } from 'vitest';
import {
  REDIS_EFFECTS_CODES,
  RedisCommandError,
  RedisDeadlineError,
  RedisEffectsError,
  WaitShortfallError,
} from '../../../src/adapters/redis/redis-errors.ts';
import { SqsOperationError } from '../../../src/adapters/sqs/sqs-errors.ts';
import {
  FleetError,
  InfrastructureError,
  PoisonError,
  errorCode,
  isPoison,
  isRetryable,
} from '../../../src/core/errors.ts';

const cause = new Error('ECONNREFUSED');
const shortfall = () =>
  new WaitShortfallError({ required: 1, acked: 0, waitTimeoutMs: 500, applied: 'applied' });

describe('infrastructure errors: wrapped at the adapter boundary into the one error model', () => {
  it.each([
    ['SqsOperationError', new SqsOperationError('DeleteMessageBatch', cause), 'SQS_OPERATION_FAILED'],
    ['RedisCommandError', new RedisCommandError(cause), 'REDIS_ERROR'],
    ['RedisDeadlineError', new RedisDeadlineError(10_000), 'REDIS_DEADLINE'],
    ['WaitShortfallError', shortfall(), 'WAIT_SHORTFALL'],
  ] as const)('%s has code %s, is retryable and never poison', (name, error, code) => {
    // Act / Assess
    expect(error.code).toBe(code);
    expect(errorCode(error)).toBe(code);
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(FleetError);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect(error).not.toBeInstanceOf(PoisonError);
    expect(error.retryable).toBe(true);
    expect(isRetryable(error)).toBe(true);
    expect(isPoison(error)).toBe(false);
  });

  it('keeps the SDK error of a failed SQS call as its cause', () => {
    // Prepare
    const sdk = Object.assign(new Error('The specified queue does not exist.'), {
      name: 'QueueDoesNotExist',
    });

    // Act
    const error = new SqsOperationError('GetQueueAttributes', sdk);

    // Assess
    expect(error.cause).toBe(sdk);
    expect(error.operation).toBe('GetQueueAttributes');
    expect(error.message).toBe(
      'SQS GetQueueAttributes failed: QueueDoesNotExist: The specified queue does not exist.',
    );
  });

  it.each([
    [new RedisCommandError(cause), 'redis-error'],
    [new RedisDeadlineError(10_000), 'deadline-exceeded'],
    [shortfall(), 'wait-shortfall'],
  ] as const)('a Redis effects failure keeps its retry kind: %s is %s', (error, kind) => {
    // Act / Assess
    expect(error).toBeInstanceOf(RedisEffectsError);
    expect(error.kind).toBe(kind);
    expect(error.code).toBe(REDIS_EFFECTS_CODES[kind]);
  });

  it('keeps the Redis client error as the cause, and its text in the message', () => {
    // Act
    const error = new RedisCommandError(cause);

    // Assess
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('Redis call failed: ECONNREFUSED');
    expect(new RedisCommandError('socket closed').message).toBe('Redis call failed: socket closed');
  });

  it('reports the deadline and the WAIT shortfall figures, and what the shortfall applied', () => {
    // Act
    const late = new RedisDeadlineError(10_000);
    const short = shortfall();

    // Assess
    expect([late.message, late.deadlineMs]).toEqual(['effects not confirmed in 10000 ms', 10_000]);
    expect(short.message).toBe('WAIT: 0 of 1 replicas confirmed within 500 ms');
    expect(short).toMatchObject({ required: 1, acked: 0, waitTimeoutMs: 500, applied: 'applied' });
  });

  it('narrows a failure on its kind, as on a tagged union', () => {
    // Prepare
    const failures: (RedisCommandError | RedisDeadlineError | WaitShortfallError<string>)[] = [
      new RedisCommandError(cause),
      shortfall(),
    ];

    // Act
    const applied = failures.map((f) => (f.kind === 'wait-shortfall' ? f.applied : null));

    // Assess
    expect(applied).toEqual([null, 'applied']);
  });
});
