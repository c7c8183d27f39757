/**
 * The cache contract: ONE declarative entry per key family, the single source of truth for
 * key shape, TTL class and jitter, consistency class, criticality, and which events
 * invalidate the family and how. The key builder (key-builder.ts), the key parser
 * (key-parser.ts), the planner and the read side all derive from this table.
 *
 * Key layout (`ns` = configured namespace, default `mc`; `{...}` is the Redis hash tag):
 *
 *   value   ns:{tenant:family:id}:v<schema>:<locale>          mc:{acme:product:B08X1YRSTR}:v1:ja-JP
 *   fence   ns:{tenant:family:id}:fence                       mc:{acme:product:B08X1YRSTR}:fence
 *   reco    ns:{tenant:reco:user}:v<schema>:g<gen>:<seedAsin> mc:{acme:reco:user42}:v1:g7:B08X1YRSTR
 *   gen     ns:{tenant:reco:user}:gen                         mc:{acme:reco:user42}:gen
 *
 * Why this shape:
 * - The hash tag holds the whole entity (tenant, family, id), so in cluster mode an entity's
 *   variants and its fence live in one slot and one Lua script can touch them all, while
 *   different entities still spread over the slots.
 * - The fence (and the reco generation) carry no schema version or locale: one bump guards
 *   every variant of the entity, across a schema rollout too.
 * - Every variable segment is validated by identifier-rules.ts and contains neither `:` nor
 *   braces, so a key parses back unambiguously and no identifier can leave its family.
 * - Reco keys include the user's generation: one INCR of the generation key makes every
 *   reco key of the user unreachable in O(1) (they then expire by TTL); no SCAN, no index.
 */
import type { EventType } from './events/cache-event.ts';
import type { CacheEvent } from './events/cache-event.ts';
import type { FamilyName } from './invalidation-plan.ts';
import { deepFreeze } from './deep-freeze.ts';

/** How fresh a family must be. */
export type ConsistencyClass =
  /** Event-driven deletes plus a short TTL bound the staleness. */
  | 'bounded-staleness'
  /** A stale read is acceptable until the next event or TTL. */
  | 'eventual'
  /** Deletes must be durable (WAIT for the replica) and L1 must drop immediately. */
  | 'strong-invalidation'
  /** Always read from the origin. */
  | 'never-cached';

/** How an entity's keys are invalidated. */
export type InvalidationStrategy =
  /** UNLINK every variant key and INCR the entity's fence. */
  | 'unlink+fence'
  /** INCR the entity's generation, which is part of every key: old keys become unreachable. */
  | 'generation';

/** Kinds of entity ids, each with its own identifier rule. */
export type EntityIdKind = 'asin' | 'storeSection' | 'userId';
/** Value-shaping dimensions that appear in value keys. */
export type Dimension = 'locale';

type EventOf<T extends EventType> = Extract<CacheEvent, { type: T }>;
/** An event type and the field of that event that holds the entity id(s). */
export type InvalidationTrigger = {
  [T in EventType]: {
    readonly event: T;
    readonly idField: Extract<keyof EventOf<T>, 'asin' | 'storeSections' | 'userId'>;
  };
}[EventType];

/** Contract entry of a cached family. */
export interface CachedFamilySpec {
  readonly family: Exclude<FamilyName, 'price'>;
  readonly cached: true;
  /** The logical key from the seeds, for humans. */
  readonly logicalKey: string;
  readonly idKind: EntityIdKind;
  /** Dimensions in the value key; the builder expands every configured value of each. */
  readonly dimensions: readonly Dimension[];
  /** The value schema version written today. */
  readonly schemaVersion: number;
  /** Versions that may still be in Redis (during a rollout); invalidation deletes them all. */
  readonly liveSchemaVersions: readonly number[];
  readonly ttlMs: number;
  /** Random extra TTL in [0, jitterMs], so keys written together do not expire together. */
  readonly jitterMs: number;
  readonly consistency: Exclude<ConsistencyClass, 'never-cached'>;
  /** Critical families need their deletes confirmed on the replica (WAIT) before the ack. */
  readonly critical: boolean;
  readonly strategy: InvalidationStrategy;
  readonly invalidatedBy: readonly InvalidationTrigger[];
  /** True when the family is also refreshed on the hourly `refresh.tick` (by the refresher). */
  readonly scheduledRefresh: boolean;
}

/** Contract entry of a family that must never be cached. */
export interface UncachedFamilySpec {
  readonly family: 'price';
  readonly cached: false;
  readonly logicalKey: null;
  readonly consistency: 'never-cached';
  readonly critical: false;
}

export type FamilySpec = CachedFamilySpec | UncachedFamilySpec;

const MINUTE = 60_000;

/** The contract itself (defaults from the seeds). Frozen: change it here, nowhere else. */
export const KEY_CONTRACT = deepFreeze({
  product: {
    family: 'product',
    cached: true,
    logicalKey: 'product:{asin}',
    idKind: 'asin',
    dimensions: ['locale'],
    schemaVersion: 1,
    liveSchemaVersions: [1],
    ttlMs: 5 * MINUTE,
    jitterMs: 30_000,
    consistency: 'bounded-staleness',
    critical: false,
    strategy: 'unlink+fence',
    invalidatedBy: [
      { event: 'catalog.product.updated', idField: 'asin' },
      { event: 'catalog.product.deleted', idField: 'asin' },
    ],
    scheduledRefresh: false,
  },
  reco: {
    family: 'reco',
    cached: true,
    logicalKey: 'reco:{user_id}:{seed_asin}',
    idKind: 'userId',
    dimensions: [],
    schemaVersion: 1,
    liveSchemaVersions: [1],
    ttlMs: 15 * MINUTE,
    jitterMs: 60_000,
    consistency: 'eventual',
    critical: false,
    strategy: 'generation',
    invalidatedBy: [{ event: 'session.started', idField: 'userId' }],
    scheduledRefresh: false,
  },
  promo: {
    family: 'promo',
    cached: true,
    logicalKey: 'promo:{store_section}',
    idKind: 'storeSection',
    dimensions: ['locale'],
    schemaVersion: 1,
    liveSchemaVersions: [1],
    ttlMs: 15 * MINUTE,
    jitterMs: 60_000,
    // The seeds' incident: an expired coupon shown to 40,000 users. Deletes must survive failover.
    consistency: 'strong-invalidation',
    critical: true,
    strategy: 'unlink+fence',
    invalidatedBy: [
      { event: 'promotion.changed', idField: 'storeSections' },
      { event: 'promotion.activated', idField: 'storeSections' },
      { event: 'promotion.expired', idField: 'storeSections' },
    ],
    scheduledRefresh: false,
  },
  review: {
    family: 'review',
    cached: true,
    logicalKey: 'review:{asin}',
    idKind: 'asin',
    dimensions: ['locale'],
    schemaVersion: 1,
    liveSchemaVersions: [1],
    ttlMs: 60 * MINUTE,
    jitterMs: 5 * MINUTE,
    consistency: 'eventual',
    critical: false,
    strategy: 'unlink+fence',
    invalidatedBy: [{ event: 'review.summary-changed', idField: 'asin' }],
    scheduledRefresh: true,
  },
  price: {
    family: 'price',
    cached: false,
    logicalKey: null,
    consistency: 'never-cached',
    critical: false,
  },
} as const satisfies { readonly [F in FamilyName]: FamilySpec & { readonly family: F } });

/** Every family name, in contract order. */
export const FAMILY_NAMES: readonly FamilyName[] = Object.freeze(Object.keys(KEY_CONTRACT) as FamilyName[]);

/** Contract entries of the cached families only. */
export const CACHED_FAMILIES: readonly CachedFamilySpec[] = Object.freeze(
  (Object.values(KEY_CONTRACT) as readonly FamilySpec[]).filter((s): s is CachedFamilySpec => s.cached),
);

type Targets = readonly { readonly spec: CachedFamilySpec; readonly trigger: InvalidationTrigger }[];

// Computed once: this is on every event's path.
const TARGETS_BY_TYPE: ReadonlyMap<string, Targets> = (() => {
  const map = new Map<string, { spec: CachedFamilySpec; trigger: InvalidationTrigger }[]>();
  for (const spec of CACHED_FAMILIES) {
    for (const trigger of spec.invalidatedBy) {
      const list = map.get(trigger.event) ?? [];
      list.push({ spec, trigger });
      map.set(trigger.event, list);
    }
  }
  return map;
})();

/** The families an event type invalidates, with the event field holding the entity id(s). */
export function familiesInvalidatedBy(type: EventType): Targets {
  return TARGETS_BY_TYPE.get(type) ?? [];
}

/** Fences never live less than this: far longer than any populate can take between read and write. */
export const MIN_FENCE_TTL_MS = 60 * 60 * 1000;

/**
 * How long an entity's fence (or reco generation) lives after its last bump, or after a
 * reader created it. Fences expire so that memory does not grow with every entity ever
 * invalidated or read. Safety does not rest on this length: a fence may also vanish early
 * (eviction, a failover that lost the last bump), and every bump is max(current + 1, the
 * Redis clock in µs), so the value after any disappearance is one no reader ever held; a
 * populate finding its fence missing is refused (docs/decisions/0007-fences-never-reissued.md).
 * The length is a cost trade-off: long enough that a fence rarely vanishes under a populate
 * in flight (a refusal, so a miss), twice the longest value TTL so a reco generation
 * normally outlives the keys written under it.
 */
export function fenceTtlMs(spec: CachedFamilySpec): number {
  return Math.max(MIN_FENCE_TTL_MS, 2 * (spec.ttlMs + spec.jitterMs));
}
