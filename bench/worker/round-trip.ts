/**
 * The Redis round trip a connection sees, measured with sequential PINGs: what (b), one
 * awaited command after another, pays per command. Printed beside (b)'s ratio, so a ratio
 * says which round trip it was taken at.
 */
import type { Redis } from 'ioredis';
import { percentile } from './stats.ts';

export interface RoundTrip {
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
}

/** `count` sequential PINGs on `redis`; µs. */
export async function measureRoundTrip(redis: Redis, count = 200): Promise<RoundTrip> {
  await redis.ping();
  const xs: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await redis.ping();
    xs.push((performance.now() - t0) * 1000);
  }
  xs.sort((a, b) => a - b);
  return {
    meanUs: xs.reduce((s, x) => s + x, 0) / xs.length,
    p50Us: percentile(xs, 50),
    p90Us: percentile(xs, 90),
  };
}

/** `mean 512 µs (p50 1 084, p90 1 130)`. */
export const roundTripText = (r: RoundTrip): string =>
  `mean ${Math.round(r.meanUs)} µs (p50 ${Math.round(r.p50Us)}, p90 ${Math.round(r.p90Us)})`;
