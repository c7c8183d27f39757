/**
 * Read side (src/client/): origin protection, in one wrapper (bentocache's habit: policy in
 * one place). Per origin family, with cockatiel: a hard timeout that aborts the loader, a
 * bulkhead (concurrency limit, with a small queue), and a circuit breaker that opens when
 * the failure ratio over a sampling window passes its threshold and half-opens after
 * `halfOpenAfterMs`. So a cold cache or a Redis outage sends at most `concurrency` calls at a
 * time to a family's origin, and a failing origin sees one probe per interval, not a storm.
 * The soft timeout is the client's (cache-client.ts): it needs to know whether a stale value
 * may be served instead.
 */
import {
  BulkheadRejectedError,
  BrokenCircuitError,
  CircuitState,
  SamplingBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleAll,
  timeout,
  wrap,
} from 'cockatiel';
import type { CircuitBreakerPolicy, IPolicy } from 'cockatiel';
import { OriginUnavailableError } from './client-errors.ts';
import type { OriginFailureReason } from './client-errors.ts';

export interface OriginGuardOptions {
  /** Loader deadline; the loader's signal aborts then. Default 2000 ms. */
  readonly hardTimeoutMs?: number;
  /** Concurrent loader calls per family in this process. Default 32. */
  readonly concurrency?: number;
  readonly breaker?: {
    /** Failure ratio over the sampling window that opens the breaker. Default 0.5. */
    readonly failureRatio?: number;
    /** Time an open breaker waits before letting one probe through. Default 5000 ms. */
    readonly halfOpenAfterMs?: number;
    /** Sampling window. Default 10 s. */
    readonly samplingMs?: number;
    /** Calls per second below which the breaker never opens. Default 2. */
    readonly minimumRps?: number;
  };
}

export const ORIGIN_DEFAULTS = {
  softTimeoutMs: 250,
  hardTimeoutMs: 2_000,
  concurrency: 32,
  /** Callers queued behind a full bulkhead before rejections start. */
  queue: 256,
  failureRatio: 0.5,
  halfOpenAfterMs: 5_000,
  samplingMs: 10_000,
  minimumRps: 2,
} as const;

export type BreakerStateName = 'closed' | 'open' | 'half-open' | 'isolated';

/** One family's guard. */
export class OriginGuard {
  readonly family: string;
  readonly #breaker: CircuitBreakerPolicy;
  readonly #policy: IPolicy;

  constructor(family: string, options: OriginGuardOptions = {}, onState?: (s: BreakerStateName) => void) {
    this.family = family;
    const b = options.breaker ?? {};
    this.#breaker = circuitBreaker(handleAll, {
      halfOpenAfter: b.halfOpenAfterMs ?? ORIGIN_DEFAULTS.halfOpenAfterMs,
      breaker: new SamplingBreaker({
        threshold: b.failureRatio ?? ORIGIN_DEFAULTS.failureRatio,
        duration: b.samplingMs ?? ORIGIN_DEFAULTS.samplingMs,
        minimumRps: b.minimumRps ?? ORIGIN_DEFAULTS.minimumRps,
      }),
    });
    if (onState) this.#breaker.onStateChange((s) => onState(stateName(s)));
    this.#policy = wrap(
      this.#breaker,
      bulkhead(options.concurrency ?? ORIGIN_DEFAULTS.concurrency, ORIGIN_DEFAULTS.queue),
      timeout(options.hardTimeoutMs ?? ORIGIN_DEFAULTS.hardTimeoutMs, TimeoutStrategy.Aggressive),
    );
  }

  get state(): BreakerStateName {
    return stateName(this.#breaker.state);
  }

  /** Runs `load` under the guard; failures become OriginUnavailableError with the cause. */
  async run<T>(load: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await this.#policy.execute(({ signal }) => load(signal));
    } catch (error) {
      throw new OriginUnavailableError(this.family, reasonOf(error), { cause: error });
    }
  }
}

function reasonOf(error: unknown): OriginFailureReason {
  if (error instanceof BrokenCircuitError) return 'breaker-open';
  if (error instanceof BulkheadRejectedError) return 'concurrency-limit';
  if (error instanceof TaskCancelledError) return 'timeout';
  return 'loader-failed';
}

function stateName(s: CircuitState): BreakerStateName {
  switch (s) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.Open:
      return 'open';
    case CircuitState.HalfOpen:
      return 'half-open';
    default:
      return 'isolated';
  }
}
