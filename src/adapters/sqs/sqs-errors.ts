/** SQS failures wrapped at the boundary, keeping the SDK error as `cause`. */
export class SqsOperationError extends Error {
  readonly code = 'SQS_OPERATION_FAILED';
  readonly retryable = true;
  override readonly name = 'SqsOperationError';

  constructor(operation: string, detail: string, cause?: unknown) {
    super(`SQS ${operation} failed: ${detail}`, { cause });
  }
}
