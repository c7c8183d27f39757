/**
 * Read side (src/client/): the in-process L1, an `lru-cache` bounded by entries and bytes,
 * kept coherent by an L1Subscriber (l1-subscriber.ts, DESIGN rule 5). Every entry is
 * registered with the subscriber under its fence (or reco generation), so a broadcast of that
 * fence drops it; an eviction or expiry tells the subscriber to forget it.
 *
 * Served only while the subscriber is coherent and the client's Redis is healthy; filled only
 * when the epoch taken before the L2/origin read has not moved (see `fill`).
 */
import { LRUCache } from 'lru-cache';
import type { L1Store } from './l1-subscriber.ts';

/** What L1 holds for one key. */
export interface L1Entry {
  readonly found: boolean;
  readonly data: unknown;
  readonly version: number;
  readonly storedAtMs: number;
  /** Fence (or generation) key the entry was derived under. */
  readonly fence: string;
  /** Approximate bytes (the stored string's length). */
  readonly bytes: number;
}

export interface L1Bounds {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/** The part of the subscriber the L1 uses. */
export interface L1Registry {
  register(key: string, fence: string): void;
  forget(key: string): void;
}

/** The lru-cache plus the hooks the subscriber and the client need. */
export class L1Cache implements L1Store {
  readonly #lru: LRUCache<string, L1Entry>;
  #registry: L1Registry | undefined;

  constructor(bounds: L1Bounds) {
    this.#lru = new LRUCache<string, L1Entry>({
      max: bounds.maxEntries,
      maxSize: bounds.maxBytes,
      sizeCalculation: (entry) => Math.max(1, entry.bytes),
      // Expired entries are dropped when touched; the subscriber is told on evictions and
      // expiries only (its own deletes and clears already updated its index).
      dispose: (_entry, key, reason) => {
        if (reason === 'evict' || reason === 'expire') this.#registry?.forget(key);
      },
    });
  }

  /** Connects the subscriber's fence index (after it is constructed with this store). */
  attach(registry: L1Registry): void {
    this.#registry = registry;
  }

  get(key: string): L1Entry | undefined {
    return this.#lru.get(key);
  }

  /** No side effects: no recency update, no expiry purge. */
  peek(key: string): L1Entry | undefined {
    return this.#lru.peek(key);
  }

  /** Stores `entry` for `ttlMs` and registers it under its fence. */
  set(key: string, entry: L1Entry, ttlMs: number): void {
    if (!(ttlMs > 0)) return;
    this.#registry?.register(key, entry.fence);
    this.#lru.set(key, entry, { ttl: Math.ceil(ttlMs) });
    // An entry larger than maxSize is refused by lru-cache: keep the index exact.
    if (!this.#lru.has(key)) this.#registry?.forget(key);
  }

  delete(key: string): boolean {
    return this.#lru.delete(key);
  }

  clear(): void {
    this.#lru.clear();
  }

  get size(): number {
    return this.#lru.size;
  }

  get bytes(): number {
    return this.#lru.calculatedSize;
  }
}
