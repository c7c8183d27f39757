/** SQS failures wrapped at the boundary into the fleet's error model (src/core/errors.ts). */
import { InfrastructureError } from '../../core/errors.ts';

/** An SQS call failed; the SDK error is kept as `cause`. Retryable: the messages come back. */
export class SqsOperationError extends InfrastructureError {
  readonly code = 'SQS_OPERATION_FAILED';
  /** The SQS action that failed, e.g. `DeleteMessageBatch`. */
  readonly operation: string;

  constructor(operation: string, cause: unknown) {
    super(`SQS ${operation} failed: ${String(cause)}`, { cause });
    this.operation = operation;
  }
}
