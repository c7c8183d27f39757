/**
 * Deterministic failure injection: with rate r, the n-th call of an endpoint fails when
 * floor(n·r) grows, so exactly ⌊N·r⌋ of N calls fail, evenly spread (rate 0.1 → calls 10,
 * 20, 30...). Random draws would make "10% of calls fail" flaky to assert.
 */
import { perEndpoint } from './origin-endpoints.ts';
import type { OriginEndpoint } from './origin-endpoints.ts';

// Integer parts per million keep n·r exact (0.1 · 30 is 3.0000000000000004 in floats).
const PPM = 1_000_000;

/** Decides which calls of each endpoint answer 503. */
export class FailureInjector {
  readonly #calls = perEndpoint(() => 0);

  /** Counts one call of `endpoint` and says whether it must fail at `rate` (0..1). */
  shouldFail(endpoint: OriginEndpoint, rate: number): boolean {
    const n = ++this.#calls[endpoint];
    const ppm = Math.round(rate * PPM);
    return Math.floor((n * ppm) / PPM) > Math.floor(((n - 1) * ppm) / PPM);
  }

  /** Restarts the sequence of `endpoint` (or of all endpoints). */
  reset(endpoint?: OriginEndpoint): void {
    for (const name of Object.keys(this.#calls) as OriginEndpoint[])
      if (endpoint === undefined || endpoint === name) this.#calls[name] = 0;
  }
}
