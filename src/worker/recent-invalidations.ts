/**
 * The invalidations this worker applied recently, kept so they can be applied again when a
 * new Redis primary is detected (DESIGN rule 4): replication is asynchronous and WAIT is
 * best-effort, so a failover may have lost acknowledged deletes. Replaying is safe because
 * deletes and fence bumps are idempotent in effect. Pure: no Redis, the clocks are injected.
 *
 * What it must keep (rule 10: ElastiCache detects and promotes in tens of seconds):
 *   every effect confirmed after `safeSince() - windowMs`, where `safeSince()` is the last
 *   moment the worker knew its writes had reached a replica (a confirmed WAIT, or a
 *   replication sample showing the replica caught up). While the primary is unreachable or
 *   the replica lags, `safeSince()` stops moving, so nothing the replay may need expires,
 *   however long detection takes. `windowMs` covers the replication lag of a healthy
 *   replica (docs/operations.md: "Replay window").
 *
 * Memory is bounded by bytes (an estimate of what the kept effects hold), not by a count
 * that a burst outruns. When the cap drops an effect the replay may still need, the ring
 * remembers the newest dropped time and the families dropped, so the replay can tell it is
 * incomplete and escalate (failover-replay.ts) instead of silently missing deletes.
 */
import type { CacheKey } from '../core/identifiers.ts';
import type { EntityEffect, FamilyName, InvalidationPlan } from '../core/invalidation-plan.ts';

export interface RecentInvalidationsOptions {
  /** Replication lag covered before `safeSince()`, ms. Default 10 000. */
  readonly windowMs?: number;
  /** Memory cap, in estimated bytes. Default 64 MiB. */
  readonly maxBytes?: number;
  /**
   * The last time every write confirmed before it was known to be on a replica. Default:
   * now (the window then simply trails the clock).
   */
  readonly safeSince?: () => number;
  readonly now?: () => number;
}

export const RECENT_DEFAULTS = { windowMs: 10_000, maxBytes: 64 * 1024 * 1024 } as const;

/** Fixed cost of one kept effect (entry and effect objects, array slot), bytes. */
const ENTRY_OVERHEAD_BYTES = 160;
/** Per string held (V8 header, one byte per ASCII character after it). */
const STRING_OVERHEAD_BYTES = 24;

interface Entry {
  readonly atMs: number;
  readonly effect: EntityEffect;
  readonly bytes: number;
}

/** What a replay from a given moment has to apply, and whether the ring still holds it all. */
export interface ReplaySelection {
  /** Re-applies the effects and re-broadcasts them (no SQS messages behind it). */
  readonly plan: InvalidationPlan;
  /** True when the byte cap dropped effects the replay needed. */
  readonly incomplete: boolean;
  /** The families of the dropped effects (escalation scope); empty when complete. */
  readonly droppedFamilies: ReadonlySet<FamilyName>;
}

/** A byte-bounded, time-ordered queue of applied entity effects. */
export class RecentInvalidations {
  readonly #windowMs: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  readonly #safeSince: () => number;
  // A plain array used as a queue: entries are appended in time order and dropped from the front.
  #entries: Entry[] = [];
  #head = 0;
  #bytes = 0;
  /** Newest `atMs` the byte cap dropped; -Infinity when it never dropped anything. */
  #droppedNewestAtMs = Number.NEGATIVE_INFINITY;
  #droppedFamilies = new Set<FamilyName>();

  constructor(options: RecentInvalidationsOptions = {}) {
    this.#windowMs = options.windowMs ?? RECENT_DEFAULTS.windowMs;
    this.#maxBytes = options.maxBytes ?? RECENT_DEFAULTS.maxBytes;
    this.#now = options.now ?? Date.now;
    this.#safeSince = options.safeSince ?? this.#now;
  }

  /** The replication lag the window covers, ms. */
  get windowMs(): number {
    return this.#windowMs;
  }

  /** Remembers effects that Redis just confirmed. */
  record(effects: readonly EntityEffect[], atMs: number = this.#now()): void {
    for (const effect of effects) {
      const bytes = sizeOf(effect);
      this.#entries.push({ atMs, effect, bytes });
      this.#bytes += bytes;
    }
    this.#expire();
    while (this.#bytes > this.#maxBytes && this.size > 0) this.#drop(true);
    this.#compact();
  }

  /** Number of effects currently kept. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The earliest moment a replay may need: `safeSince() - windowMs`. */
  retainFromMs(): number {
    return Math.min(this.#now(), this.#safeSince()) - this.#windowMs;
  }

  /**
   * The effects confirmed at or after `fromMs`, merged per fence (keys unioned, critical if
   * any), oldest first, as a replay plan; and whether the byte cap dropped any of them.
   */
  replayFrom(fromMs: number): ReplaySelection {
    this.#expire();
    const merged = new Map<string, { effect: EntityEffect; keys: Set<CacheKey> }>();
    for (let i = this.#head; i < this.#entries.length; i++) {
      const { effect, atMs } = this.#entries[i] as Entry;
      if (atMs < fromMs) continue;
      const seen = merged.get(effect.fence);
      if (seen) {
        for (const k of effect.unlink) seen.keys.add(k);
        if (effect.critical && !seen.effect.critical) seen.effect = { ...seen.effect, critical: true };
      } else {
        merged.set(effect.fence, { effect, keys: new Set(effect.unlink) });
      }
    }
    const effects = [...merged.values()].map(({ effect, keys }) => ({ ...effect, unlink: [...keys] }));
    const incomplete = this.#droppedNewestAtMs >= fromMs;
    return {
      plan: {
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
      },
      incomplete,
      droppedFamilies: incomplete ? new Set(this.#droppedFamilies) : new Set(),
    };
  }

  /** Forgets what the cap dropped (after an escalation made those values unreachable). */
  clearDropped(): void {
    this.#droppedNewestAtMs = Number.NEGATIVE_INFINITY;
    this.#droppedFamilies.clear();
  }

  #expire(): void {
    const oldest = this.retainFromMs();
    while (this.#head < this.#entries.length && (this.#entries[this.#head] as Entry).atMs < oldest)
      this.#drop(false);
    // Dropped effects older than anything a replay can still ask for no longer matter.
    if (this.#droppedNewestAtMs < oldest) this.clearDropped();
  }

  #drop(byCap: boolean): void {
    const entry = this.#entries[this.#head] as Entry;
    this.#head++;
    this.#bytes -= entry.bytes;
    if (byCap) {
      this.#droppedNewestAtMs = Math.max(this.#droppedNewestAtMs, entry.atMs);
      this.#droppedFamilies.add(entry.effect.family);
    }
  }

  #compact(): void {
    // Reclaim the consumed front once it dominates, keeping record() amortised O(1).
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}

function sizeOf(effect: EntityEffect): number {
  let bytes = ENTRY_OVERHEAD_BYTES + 2 * STRING_OVERHEAD_BYTES + effect.fence.length + effect.slotTag.length;
  for (const key of effect.unlink) bytes += STRING_OVERHEAD_BYTES + key.length;
  return bytes;
}
