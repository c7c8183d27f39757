/**
 * Why Redis did not confirm the effects of a plan, in the fleet's error model
 * (src/core/errors.ts). The effects adapter still resolves with a tagged result, never a
 * rejection; its failure variant carries one of these. Every one is retryable: the messages
 * stay in flight.
 *
 * `kind` is the retry label the worker's metrics use (`RetryKind`), one per `code`, so the
 * result can be narrowed on `error.kind` as on a tagged union.
 */
import { InfrastructureError } from '../../core/errors.ts';

/** Stable code per kind of effects failure. */
export const REDIS_EFFECTS_CODES = {
  'redis-error': 'REDIS_ERROR',
  'deadline-exceeded': 'REDIS_DEADLINE',
  'wait-shortfall': 'WAIT_SHORTFALL',
} as const;

export type RedisEffectsKind = keyof typeof REDIS_EFFECTS_CODES;
export type RedisEffectsCode = (typeof REDIS_EFFECTS_CODES)[RedisEffectsKind];

/** Base of the effects failures; narrow on `kind` (or `instanceof` a subclass). */
export abstract class RedisEffectsError extends InfrastructureError {
  abstract override readonly code: RedisEffectsCode;
  abstract readonly kind: RedisEffectsKind;
}

/** A Redis call failed (connection lost, READONLY, script error); the client error is the `cause`. */
export class RedisCommandError extends RedisEffectsError {
  readonly code = REDIS_EFFECTS_CODES['redis-error'];
  readonly kind = 'redis-error';

  constructor(cause: unknown) {
    super(`Redis call failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The whole call passed its deadline (a client that queues forever); its outcome is unknown. */
export class RedisDeadlineError extends RedisEffectsError {
  readonly code = REDIS_EFFECTS_CODES['deadline-exceeded'];
  readonly kind = 'deadline-exceeded';
  readonly deadlineMs: number;

  constructor(deadlineMs: number) {
    super(`effects not confirmed in ${deadlineMs} ms`);
    this.deadlineMs = deadlineMs;
  }
}

/**
 * `WAIT` confirmed fewer replicas than a critical plan requires. The deletes WERE applied on
 * the primary: `applied` holds that outcome (the adapter's applied result), only the
 * replica's confirmation is missing.
 */
export class WaitShortfallError<Applied = unknown> extends RedisEffectsError {
  readonly code = REDIS_EFFECTS_CODES['wait-shortfall'];
  readonly kind = 'wait-shortfall';
  readonly required: number;
  readonly acked: number;
  readonly waitTimeoutMs: number;
  readonly applied: Applied;

  constructor(shortfall: {
    readonly required: number;
    readonly acked: number;
    readonly waitTimeoutMs: number;
    readonly applied: Applied;
  }) {
    super(
      `WAIT: ${shortfall.acked} of ${shortfall.required} replicas confirmed within ${shortfall.waitTimeoutMs} ms`,
    );
    this.required = shortfall.required;
    this.acked = shortfall.acked;
    this.waitTimeoutMs = shortfall.waitTimeoutMs;
    this.applied = shortfall.applied;
  }
}
