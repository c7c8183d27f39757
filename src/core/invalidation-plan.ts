/**
 * The plan for one SQS batch: what the pure planner decides and the Redis adapter executes.
 * This file is the contract between `core/` (which builds plans) and `adapters/redis/`
 * (which applies them in one round trip). It holds types only.
 */
import type { CacheEvent } from './events/cache-event.ts';
import type { CacheKey, FenceKey } from './identifiers.ts';

/** Key families of the cache contract. `price` is declared but never cached. */
export type FamilyName = 'product' | 'reco' | 'promo' | 'review' | 'price';

/**
 * Effects on one entity (an ASIN, a store section, a user). Every key here shares one
 * hash tag, so in cluster mode the whole effect runs as one atomic script on one slot.
 */
export interface EntityEffect {
  readonly family: FamilyName;
  /** The hash tag content shared by `unlink` and `fence`, e.g. `acme:product:B08X1YRSTR`. */
  readonly slotTag: string;
  /** Exact keys to delete (every variant of the entity). Empty for generation-only families. */
  readonly unlink: readonly CacheKey[];
  /**
   * Counter bumped (INCR) on invalidation. For keyed families it is the fence every populate
   * checks; for `reco` it is the user's generation, part of every reco key of that user, so
   * one INCR invalidates all of them in constant time.
   */
  readonly fence: FenceKey;
  /** TTL set on the fence at each bump, ms (see `fenceTtlMs` in key-contract.ts). */
  readonly fenceTtlMs: number;
  /** True when the family is critical: the batch must WAIT for the replica before acking. */
  readonly critical: boolean;
}

/** What the L1 broadcast announces (the sequence number is assigned in Redis). */
export interface BroadcastDraft {
  /** Exact keys L1 caches must drop. */
  readonly keys: readonly CacheKey[];
  /** Fence/generation keys bumped: L1 drops every entry guarded by one of them. */
  readonly fences: readonly FenceKey[];
  readonly eventIds: readonly string[];
  /** Earliest origin time among the events, ms since epoch. */
  readonly originTimeMs: number;
}

/** The per-message decision. Poison never reaches Redis; it is dead-lettered with a reason. */
export type MessageDecision =
  | {
      readonly kind: 'apply';
      readonly messageId: string;
      readonly eventId: string;
      readonly family: FamilyName;
      /** The event's tenant (lag is also kept per tenant, outside CloudWatch dimensions). */
      readonly tenant: string;
      /** The event's origin time, ms since epoch: start of the per-family lag measurement. */
      readonly originTimeMs?: number;
      /** SNS publish time, ms since epoch, when the message came through SNS. */
      readonly snsPublishedAtMs?: number;
      /** SQS `SentTimestamp`, ms since epoch, when the attribute was received. */
      readonly sqsSentAtMs?: number;
    }
  | { readonly kind: 'poison'; readonly messageId: string; readonly reason: string; readonly code: string }
  | {
      readonly kind: 'ignore';
      readonly messageId: string;
      readonly eventId: string;
      readonly why: string;
      /** The parsed event, so its consumer (the refresh tick handler) need not parse it again. */
      readonly event: CacheEvent;
    };

/** The plan for one batch: merged, deduplicated effects plus one decision per message. */
export interface InvalidationPlan {
  readonly decisions: readonly MessageDecision[];
  readonly effects: readonly EntityEffect[];
  readonly broadcast: BroadcastDraft | null;
  /** True when any effect is critical. */
  readonly critical: boolean;
}
