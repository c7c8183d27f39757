/**
 * The demo Orchestrator's read mix, pure: which entity the next read asks for. Products and
 * reviews are drawn from a Zipf distribution over the catalog (rank 1 hottest: with the
 * default skew 1.0 over 10,000 ASINs the top 100 take about half the reads, the seeds'
 * flash-sale hot set), promotions per store section (also Zipf: the home sections are
 * busiest), recommendations per user (uniform users, seed ASIN from the catalog's Zipf).
 */
import type { ReadDims, ReadFamily } from '../client/cache-client.ts';

/** One read the demo issues. */
export interface DemoRead {
  readonly family: ReadFamily;
  readonly id: string;
  readonly dims: ReadDims;
  /** The user browsing (reco: the user the recommendations are for). */
  readonly user: string;
}

export interface WorkloadOptions {
  /** ASINs in the catalog. Default 10,000. */
  readonly catalogSize?: number;
  /** Zipf exponent s (0: uniform). Default 1.0. */
  readonly skew?: number;
  /** Users of the reco reads. Default 2,000. */
  readonly users?: number;
  /** Share of reads per family (normalised). Default product 0.5, promo 0.2, reco 0.15, review 0.15. */
  readonly mix?: Partial<Record<ReadFamily, number>>;
  /** Locales the reads use (must be the fleet's). Default en-US, ja-JP. */
  readonly locales?: readonly string[];
  readonly random?: () => number;
  /** Draws the user of a non-reco read; apart from `random` so a seed's read sequence stays the same. */
  readonly userRandom?: () => number;
}

/** The store sections of the promotions (Golden Week: manga-home is the busiest). */
export const STORE_SECTIONS: readonly string[] = Object.freeze([
  'manga-home',
  'manga-new-releases',
  'light-novels',
  'art-books',
  'collectibles',
  'books-home',
  'electronics',
  'home-kitchen',
]);

export const DEFAULT_MIX: Readonly<Record<ReadFamily, number>> = Object.freeze({
  product: 0.5,
  promo: 0.2,
  reco: 0.15,
  review: 0.15,
});

/** The catalog's i-th ASIN (rank i + 1): `B` + 9 digits. */
export const asinOf = (rank: number): string => `B${String(rank).padStart(9, '0')}`;

/** Samples ranks 0..n-1 with P(rank r) proportional to 1 / (r + 1)^s (inverse CDF, binary search). */
export class ZipfSampler {
  readonly #cdf: Float64Array;
  readonly #random: () => number;

  constructor(n: number, s: number, random: () => number = Math.random) {
    if (!(Number.isInteger(n) && n >= 1))
      throw new RangeError(`zipf n must be a whole number >= 1, got ${n}`);
    if (!(Number.isFinite(s) && s >= 0)) throw new RangeError(`zipf skew must be >= 0, got ${s}`);
    this.#random = random;
    this.#cdf = new Float64Array(n);
    let sum = 0;
    for (let r = 0; r < n; r++) {
      sum += 1 / (r + 1) ** s;
      this.#cdf[r] = sum;
    }
    for (let r = 0; r < n; r++) this.#cdf[r] = (this.#cdf[r] ?? 0) / sum;
  }

  get size(): number {
    return this.#cdf.length;
  }

  /** Probability mass of the first `k` ranks. */
  headShare(k: number): number {
    return k <= 0 ? 0 : (this.#cdf[Math.min(k, this.#cdf.length) - 1] ?? 1);
  }

  next(): number {
    const u = this.#random();
    let lo = 0;
    let hi = this.#cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#cdf[mid] ?? 1) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The demo's read generator. */
export class Workload {
  readonly #random: () => number;
  readonly #userRandom: () => number;
  readonly #catalog: ZipfSampler;
  readonly #sections: ZipfSampler;
  readonly #users: number;
  readonly #locales: readonly string[];
  readonly #thresholds: [ReadFamily, number][];

  constructor(options: WorkloadOptions = {}) {
    this.#random = options.random ?? Math.random;
    this.#userRandom = options.userRandom ?? Math.random;
    const skew = options.skew ?? 1.0;
    this.#catalog = new ZipfSampler(options.catalogSize ?? 10_000, skew, this.#random);
    this.#sections = new ZipfSampler(STORE_SECTIONS.length, skew, this.#random);
    this.#users = options.users ?? 2_000;
    if (!(Number.isInteger(this.#users) && this.#users >= 1)) throw new RangeError('users must be >= 1');
    this.#locales = options.locales ?? ['en-US', 'ja-JP'];
    if (this.#locales.length === 0) throw new RangeError('at least one locale');
    const mix = { ...DEFAULT_MIX, ...options.mix };
    const total = Object.values(mix).reduce((a, b) => a + Math.max(0, b), 0);
    if (!(total > 0)) throw new RangeError('the read mix needs a positive share');
    let acc = 0;
    this.#thresholds = (Object.keys(mix) as ReadFamily[]).map((f) => {
      acc += Math.max(0, mix[f]) / total;
      return [f, acc];
    });
  }

  /** The catalog's sampler (for the share of the hot set). */
  get catalog(): ZipfSampler {
    return this.#catalog;
  }

  #user(): string {
    return `user-${Math.floor(this.#userRandom() * this.#users)}`;
  }

  next(): DemoRead {
    const u = this.#random();
    const family = this.#thresholds.find(([, t]) => u < t)?.[0] ?? 'product';
    const locale = this.#locales[Math.floor(this.#random() * this.#locales.length)] ?? 'en-US';
    switch (family) {
      case 'product':
      case 'review':
        return { family, id: asinOf(this.#catalog.next()), dims: { locale }, user: this.#user() };
      case 'promo':
        return {
          family,
          id: STORE_SECTIONS[this.#sections.next()] ?? 'manga-home',
          dims: { locale },
          user: this.#user(),
        };
      case 'reco': {
        const user = `user-${Math.floor(this.#random() * this.#users)}`;
        return { family, id: user, dims: { seedAsin: asinOf(this.#catalog.next()) }, user };
      }
    }
  }
}
