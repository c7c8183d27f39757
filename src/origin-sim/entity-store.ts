/**
 * In-memory versions of the simulated entities. Only the version and lifecycle flags are
 * stored; bodies are derived from (id, version) by entity-generator.ts, so memory stays
 * proportional to the entities ever touched, not to the catalogue.
 */
import type { HistoryFamily, VersionHistory } from './version-history.ts';

/** The kinds of entity that carry their own version. */
export type EntityKind = 'product' | 'promotion-section' | 'promotion' | 'recommendation-user' | 'review';

/** What the store knows of one entity. */
export interface EntityState {
  /** Grows by one on every change; 1 on first sight. */
  readonly version: number;
  /** When the entity was first seen or last changed (ms since epoch). */
  readonly changedAt: number;
  /** A deleted product answers 404 until it is updated again. */
  readonly deleted: boolean;
  /** Whether a promotion currently applies (activated/expired events flip it). */
  readonly active: boolean;
  /** A related id: the promotion last changed in a store section. */
  readonly ref?: string;
}

/** Flags a change may set alongside the version bump. */
export interface EntityChangeFlags {
  readonly deleted?: boolean;
  readonly active?: boolean;
  readonly ref?: string;
}

/** The read family whose truth each versioned kind is (the promotion itself is read through its sections). */
const HISTORY_FAMILY: Readonly<Record<EntityKind, HistoryFamily | undefined>> = {
  product: 'product',
  'promotion-section': 'promo',
  promotion: undefined,
  'recommendation-user': 'reco',
  review: 'review',
};

/** Versions of every entity touched so far. */
export class EntityStore {
  readonly #states = new Map<string, EntityState>();
  readonly #now: () => number;
  readonly #history: VersionHistory | undefined;

  /** `history`, when given, records every version change with the time it became true. */
  constructor(now: () => number = Date.now, history?: VersionHistory) {
    this.#now = now;
    this.#history = history;
  }

  /** The entity's state, created at version 1 on first read (any valid id exists). */
  get(kind: EntityKind, id: string): EntityState {
    const key = `${kind}:${id}`;
    const known = this.#states.get(key);
    if (known) return known;
    const fresh: EntityState = Object.freeze({
      version: 1,
      changedAt: this.#now(),
      deleted: false,
      active: true,
    });
    this.#states.set(key, fresh);
    return fresh;
  }

  /** Bumps the entity's version (materialising it first) and applies `flags`. */
  change(kind: EntityKind, id: string, flags: EntityChangeFlags = {}): EntityState {
    const current = this.get(kind, id);
    const next: EntityState = Object.freeze({
      version: current.version + 1,
      changedAt: this.#now(),
      deleted: flags.deleted ?? false,
      active: flags.active ?? current.active,
      ...((flags.ref ?? current.ref) !== undefined ? { ref: flags.ref ?? current.ref } : {}),
    });
    this.#states.set(`${kind}:${id}`, next);
    const family = HISTORY_FAMILY[kind];
    if (family !== undefined) this.#history?.record(family, id, next.version, next.changedAt);
    return next;
  }

  /** Number of entities materialised. */
  get size(): number {
    return this.#states.size;
  }
}
