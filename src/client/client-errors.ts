/**
 * Read side (src/client/): what a read throws when it cannot answer (decision 0010: every
 * error raised on purpose is a FleetError with a stable code and the cause). A read throws
 * only when the cache holds nothing servable AND the origin could not answer within the
 * budget; everything else (Redis down, a refused fill) is absorbed.
 */
import { InfrastructureError } from '../core/errors.ts';

/** Why the origin did not answer. */
export type OriginFailureReason =
  | 'breaker-open'
  | 'concurrency-limit'
  | 'timeout'
  | 'loader-failed'
  | 'no-loader'
  /** The fleet-wide origin budget had no token within the wait bound (decision 0022). */
  | 'budget-exhausted';

/** The origin could not answer this read and nothing could be served in its place. */
export class OriginUnavailableError extends InfrastructureError {
  readonly code = 'ORIGIN_UNAVAILABLE';
  readonly family: string;
  readonly reason: OriginFailureReason;

  constructor(family: string, reason: OriginFailureReason, options?: { cause?: unknown }) {
    super(`origin of ${family} unavailable (${reason})`, options);
    this.family = family;
    this.reason = reason;
  }
}
