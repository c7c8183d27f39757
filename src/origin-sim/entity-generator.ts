/**
 * Bodies of the simulated entities, derived from (id, version). A new version yields a
 * visibly different body (title suffix, rating, items), so a test can tell a stale cached
 * value from a fresh one. Prices live only in `priceOf`: the product body never carries one,
 * because prices must never be cached.
 */
import { intBetween, pick, seededRandom } from './deterministic-random.ts';
import type { EntityState } from './entity-store.ts';

const ADJECTIVES = ['Deluxe', 'Compact', 'Classic', 'Limited', 'Essential', 'Ultra'] as const;
const NOUNS = ['Manga Box Set', 'Art Book', 'Light Novel', 'Figure', 'Poster Pack', 'Omnibus'] as const;
const CATEGORIES = ['books', 'manga', 'collectibles', 'home-kitchen', 'electronics'] as const;
const PHRASES = [
  'great art',
  'fast delivery',
  'worth the price',
  'beautiful print',
  'gripping story',
  'sturdy packaging',
  'good translation',
  'vivid colours',
] as const;

/** Product detail as the Product Catalog serves it (no price). */
export interface Product {
  readonly asin: string;
  readonly title: string;
  readonly brand: string;
  readonly category: string;
  readonly description: string;
  readonly version: number;
  readonly updatedAt: string;
}

/** The promotion currently attached to a store section. */
export interface Promotion {
  readonly storeSection: string;
  readonly promotionId: string;
  readonly title: string;
  readonly discountPercent: number;
  readonly active: boolean;
  readonly version: number;
  readonly updatedAt: string;
}

/** Recommendations for a user, seeded by one ASIN. */
export interface Recommendations {
  readonly userId: string;
  readonly seedAsin: string;
  readonly items: readonly string[];
  readonly version: number;
  readonly updatedAt: string;
}

/** Review summary of one product. */
export interface ReviewSummary {
  readonly asin: string;
  readonly averageRating: number;
  readonly reviewCount: number;
  readonly topPhrases: readonly string[];
  readonly version: number;
}

/** Current price of one product (never cached). */
export interface Price {
  readonly asin: string;
  readonly priceCents: number;
  readonly currency: 'USD';
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The product body for `asin` at its current version. */
export function productOf(asin: string, state: EntityState): Product {
  const random = seededRandom(`product:${asin}:${state.version}`);
  const stable = seededRandom(`product:${asin}`);
  return {
    asin,
    title: `${pick(stable, ADJECTIVES)} ${pick(stable, NOUNS)} (rev ${state.version})`,
    brand: `Studio ${asin.slice(0, 3)}`,
    category: pick(stable, CATEGORIES),
    description: `Edition ${intBetween(random, 1, 99)} of ${asin}.`,
    version: state.version,
    updatedAt: iso(state.changedAt),
  };
}

/** The promotion body for `storeSection`, naming the promotion last changed there. */
export function promotionOf(storeSection: string, state: EntityState): Promotion {
  const random = seededRandom(`promotion:${storeSection}:${state.version}`);
  const discountPercent = intBetween(random, 5, 50);
  return {
    storeSection,
    promotionId: state.ref ?? `${storeSection}-deals`,
    title: `${discountPercent}% off in ${storeSection}`,
    discountPercent,
    active: state.active,
    version: state.version,
    updatedAt: iso(state.changedAt),
  };
}

const ASIN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomAsin(random: () => number): string {
  let asin = 'B0';
  for (let i = 0; i < 8; i++) asin += ASIN_ALPHABET[Math.floor(random() * ASIN_ALPHABET.length)] ?? 'X';
  return asin;
}

/** The recommendations for (`userId`, `seedAsin`); `state` is the user's, bumped per session. */
export function recommendationsOf(userId: string, seedAsin: string, state: EntityState): Recommendations {
  const random = seededRandom(`reco:${userId}:${seedAsin}:${state.version}`);
  const items = Array.from({ length: intBetween(random, 3, 8) }, () => randomAsin(random));
  return { userId, seedAsin, items, version: state.version, updatedAt: iso(state.changedAt) };
}

/** The review summary of `asin` at its current version. */
export function reviewSummaryOf(asin: string, state: EntityState): ReviewSummary {
  const random = seededRandom(`review:${asin}:${state.version}`);
  // Three distinct phrases: a partial Fisher-Yates shuffle, stable for a given seed.
  const pool: string[] = [...PHRASES];
  const phrases: string[] = [];
  for (let i = 0; i < 3; i++) phrases.push(...pool.splice(Math.floor(random() * pool.length), 1));
  return {
    asin,
    averageRating: Math.round((3 + random() * 2) * 10) / 10,
    reviewCount: intBetween(random, 1, 5000) + state.version,
    topPhrases: phrases,
    version: state.version,
  };
}

/** The price of `asin`: stable per ASIN, from 4.99 to 99.99 USD. */
export function priceOf(asin: string): Price {
  const random = seededRandom(`price:${asin}`);
  return { asin, priceCents: intBetween(random, 4, 99) * 100 + 99, currency: 'USD' };
}
