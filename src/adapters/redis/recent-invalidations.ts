/**
 * The invalidations applied in the last few seconds, kept in the worker so they can be
 * re-applied when a new Redis primary is detected (DESIGN rule 4): replication is
 * asynchronous and WAIT is best-effort, so a failover may have lost acknowledged deletes.
 * Replaying is safe because deletes and fence bumps are idempotent in effect.
 * Pure: no Redis, the clock is injected.
 */
import type { CacheKey } from '../../core/identifiers.ts';
import type { EntityEffect, InvalidationPlan } from '../../core/invalidation-plan.ts';

export interface RecentInvalidationsOptions {
  /** How far back to keep, in ms. Default 10 000: well past replication lag plus failover. */
  readonly windowMs?: number;
  /** Hard cap on kept effects, so a burst cannot grow memory without bound. Default 50 000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export const RECENT_DEFAULTS = { windowMs: 10_000, maxEntries: 50_000 } as const;

interface Entry {
  readonly atMs: number;
  readonly effect: EntityEffect;
}

/** A bounded, time-windowed ring of applied entity effects. */
export class RecentInvalidations {
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  // A plain array used as a queue: entries are appended in time order and dropped from the front.
  #entries: Entry[] = [];
  #head = 0;
  #evictedInWindow = 0;

  constructor(options: RecentInvalidationsOptions = {}) {
    this.#windowMs = options.windowMs ?? RECENT_DEFAULTS.windowMs;
    this.#maxEntries = options.maxEntries ?? RECENT_DEFAULTS.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** Remembers effects that Redis just confirmed. */
  record(effects: readonly EntityEffect[], atMs: number = this.#now()): void {
    for (const effect of effects) this.#entries.push({ atMs, effect });
    this.#expire(this.#now());
    while (this.size > this.#maxEntries) {
      this.#head++;
      this.#evictedInWindow++;
    }
    this.#compact();
  }

  /** Number of effects currently kept. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /**
   * Effects dropped by the size cap while still inside the window since the last
   * `replayable()`: when > 0 a replay is incomplete and the caller should escalate
   * (e.g. bump every fence of the affected families or flush the namespace).
   */
  get evictedInWindow(): number {
    return this.#evictedInWindow;
  }

  /** The effects of the window, merged per fence (keys unioned), oldest first. */
  replayable(): EntityEffect[] {
    this.#expire(this.#now());
    this.#evictedInWindow = 0;
    const merged = new Map<string, { effect: EntityEffect; keys: Set<CacheKey> }>();
    for (let i = this.#head; i < this.#entries.length; i++) {
      const { effect } = this.#entries[i] as Entry;
      const seen = merged.get(effect.fence);
      if (seen) {
        for (const k of effect.unlink) seen.keys.add(k);
        if (effect.critical && !seen.effect.critical) seen.effect = { ...seen.effect, critical: true };
      } else {
        merged.set(effect.fence, { effect, keys: new Set(effect.unlink) });
      }
    }
    return [...merged.values()].map(({ effect, keys }) => ({ ...effect, unlink: [...keys] }));
  }

  /** A plan that re-applies the window and re-broadcasts it (no SQS messages behind it). */
  replayPlan(): InvalidationPlan {
    const effects = this.replayable();
    return {
      decisions: [],
      effects,
      broadcast:
        effects.length === 0
          ? null
          : {
              keys: effects.flatMap((e) => e.unlink),
              fences: effects.map((e) => e.fence),
              eventIds: ['replay'],
              originTimeMs: this.#now(),
            },
      critical: effects.some((e) => e.critical),
    };
  }

  #expire(nowMs: number): void {
    const oldest = nowMs - this.#windowMs;
    while (this.#head < this.#entries.length && (this.#entries[this.#head] as Entry).atMs < oldest)
      this.#head++;
  }

  #compact(): void {
    // Reclaim the consumed front once it dominates, keeping record() amortised O(1).
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
