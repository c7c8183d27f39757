/**
 * Read side (src/client/): the arithmetic of the decaying hotness score, pure. The Redis
 * script (src/adapters/redis/lua/hotness-record-1.lua) does the same steps atomically; this
 * module is its reference and what the unit tests exercise.
 *
 * The scheme: an id's score is ln(sum of w_i * e^(t_i / tau)) over its sampled reads i
 * (weight w_i at time t_i). Its weight decayed to `now` is e^(score - now / tau): a read
 * loses 1/e of its weight every tau (half-life tau * ln 2). Because every id shares the
 * factor e^(-now / tau), ranking by score IS ranking by decayed weight, at any time, with no
 * renormalisation job and no shared epoch; the log domain keeps the score a small number
 * (it grows by 1 per tau) instead of an exponential that would overflow.
 *
 * Sampling: 1 read in k is recorded, with weight k, so the expected recorded weight equals
 * the reads (an unbiased estimate) at 1/k of the Redis writes.
 */

/** Defaults of the recorder: tau 1 h (the refresh is hourly), 1 read in 16, 10,000 ids kept. */
export const HOTNESS_DEFAULTS = Object.freeze({
  tauMs: 3_600_000,
  sampleEvery: 16,
  maxMembers: 10_000,
  ttlMs: 7 * 24 * 3_600_000,
});

/** ln(e^a + e^b), without overflow. */
export function logAddExp(a: number, b: number): number {
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  return hi + Math.log(1 + Math.exp(lo - hi));
}

/** The score after one sample of `weight` at `nowMs` (undefined `current`: a new id). */
export function recordedScore(
  current: number | undefined,
  weight: number,
  nowMs: number,
  tauMs: number,
): number {
  const x = Math.log(weight) + nowMs / tauMs;
  return current === undefined ? x : logAddExp(current, x);
}

/** The weight a stored score stands for at `nowMs` (reads, decayed). */
export function decayedWeight(score: number, nowMs: number, tauMs: number): number {
  return Math.exp(score - nowMs / tauMs);
}

/** A sampler: `next()` answers the weight to record for this read (0: not sampled). */
export interface HotnessSampler {
  next(): number;
}

/**
 * Samples 1 read in `every` at random (weight `every`); `every` 1 records every read.
 * Random, not every k-th read: a periodic read pattern cannot hide an id from the counter.
 */
export function createSampler(every: number, random: () => number = Math.random): HotnessSampler {
  if (!(Number.isInteger(every) && every >= 1)) {
    throw new RangeError(`hotness sampleEvery must be a whole number >= 1, got ${every}`);
  }
  if (every === 1) return { next: () => 1 };
  const p = 1 / every;
  return { next: () => (random() < p ? every : 0) };
}
