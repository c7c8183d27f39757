/** The unit tests' one seeded PRNG (mulberry32), so distributions here are reproducible. */
export { seededRandom } from '../core/fixtures.ts';

/** Exact percentile by nearest rank (what HDR's getValueAtPercentile approximates). */
export function exactPercentile(sorted: readonly number[], percentile: number): number {
  const rank = Math.max(1, Math.ceil((percentile / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}
