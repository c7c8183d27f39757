/**
 * The one error model of the fleet: every error raised on purpose is a {@link FleetError} with
 * a stable `code` (for metrics, logs and the DLQ reason attribute), `retryable`, and the
 * original `cause`. Failures of SQS and Redis are wrapped into it at the adapter boundary.
 *
 * Two families decide what the worker does with a message:
 * - {@link PoisonError}: the input itself is wrong (validation, unknown type, oversized, bad
 *   identifier). Retrying cannot help, so the message goes to the DLQ with its reason. These
 *   messages become DLQ reasons, so they hold fixed text and numbers, never input.
 * - {@link InfrastructureError}: a dependency is wrong for now (an SQS call failed, Redis
 *   down or slow, a WAIT shortfall). The message stays in flight and comes back later.
 * Anything else (an unknown error) is treated as retryable by {@link isRetryable}: replaying
 * an invalidation is harmless (deletes are idempotent), dead-lettering a valid one is not.
 *
 * {@link ConfigError} is neither: it stops the process at start-up.
 */

/** Base of every error the fleet raises on purpose. */
export abstract class FleetError extends Error {
  /** Stable machine-readable code; never reworded once published. */
  abstract readonly code: string;
  /** Whether trying the same input again later can succeed. */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The input can never succeed: dead-letter it with its reason, never retry. */
export abstract class PoisonError extends FleetError {
  readonly retryable = false;
}

/** A message body that is not a valid event (any reason). */
export abstract class InvalidEventError extends PoisonError {}

/** The body is larger than the edge accepts. */
export class OversizedEventError extends InvalidEventError {
  readonly code = 'EVENT_OVERSIZED';
  readonly sizeBytes: number;
  readonly limitBytes: number;

  constructor(sizeBytes: number, limitBytes: number) {
    super(`message body is ${sizeBytes} bytes, the limit is ${limitBytes}`);
    this.sizeBytes = sizeBytes;
    this.limitBytes = limitBytes;
  }
}

/** The body is not JSON, not an object, or an SNS envelope that does not hold a notification. */
export class MalformedEventError extends InvalidEventError {
  readonly code = 'EVENT_MALFORMED';
}

/** The `type` field names no event this worker knows. */
export class UnknownEventTypeError extends InvalidEventError {
  readonly code = 'EVENT_UNKNOWN_TYPE';
  readonly eventType: string;

  constructor(eventType: string) {
    // The message never quotes the type: it is input, and reasons must not carry input.
    super(`unknown event type (${eventType.length} characters, not one of the supported types)`);
    this.eventType = eventType;
  }
}

/** The event's `schemaVersion` is one this worker cannot read. */
export class UnsupportedSchemaVersionError extends InvalidEventError {
  readonly code = 'EVENT_UNSUPPORTED_SCHEMA_VERSION';
}

/** The event is a known type but its fields do not validate (wrong type, missing, extra). */
export class EventValidationError extends InvalidEventError {
  readonly code: 'EVENT_INVALID' | 'EVENT_BAD_IDENTIFIER' = 'EVENT_INVALID';
  /** One line per problem, `path: what is wrong`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: { cause?: unknown; badIdentifier?: boolean }) {
    super(problems.join('; '), options);
    this.problems = problems;
    // Bad identifiers get their own code: they are the attack surface of the key families.
    if (options?.badIdentifier === true) this.code = 'EVENT_BAD_IDENTIFIER';
  }
}

/** A key builder was handed an identifier that could escape its key family. */
export class InvalidIdentifierError extends PoisonError {
  readonly code = 'INVALID_IDENTIFIER';
  readonly kind: string;

  constructor(kind: string, message: string) {
    super(`invalid ${kind}: ${message}`);
    this.kind = kind;
  }
}

/**
 * A dependency (SQS, Redis) failed or did not answer in time: the input is fine, so the
 * message stays in flight and comes back. The adapters define the concrete classes
 * (src/adapters/sqs/sqs-errors.ts, src/adapters/redis/redis-errors.ts) and keep the client's
 * error as `cause`. Their messages may quote the dependency's error text: they are never a
 * dead-letter reason (only {@link PoisonError} messages are), and they never quote a message body.
 */
export abstract class InfrastructureError extends FleetError {
  readonly retryable = true;
}

/** One configuration problem: which variable and what to do about it. */
export interface ConfigProblem {
  readonly variable: string;
  readonly message: string;
}

/** The configuration is invalid; carries every problem found, not just the first. */
export class ConfigError extends FleetError {
  readonly code = 'CONFIG_INVALID';
  readonly retryable = false;
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n'),
    );
    this.problems = Object.freeze([...problems]);
  }
}

/** True when the error says the input itself is bad (dead-letter, never retry). */
export const isPoison = (error: unknown): error is PoisonError => error instanceof PoisonError;

/** True unless the error is known to be permanent; unknown errors are retried (see header). */
export const isRetryable = (error: unknown): boolean => !(error instanceof FleetError) || error.retryable;

/** The stable code of any error, `UNKNOWN` for foreign ones. */
export const errorCode = (error: unknown): string => (error instanceof FleetError ? error.code : 'UNKNOWN');
