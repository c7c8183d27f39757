/**
 * Every entity's version history as the origin knows it: which version became true when.
 * The read-staleness checker (src/consistency/read-staleness.ts) judges each read of the
 * demo Orchestrator against it: a read that returned version v is stale from the moment a
 * newer version became true.
 *
 * Memory is bounded twice: at most `maxVersionsPerEntity` versions per entity (the oldest
 * are dropped, and the entity is marked `truncated`: a read older than every kept version is
 * then known stale since at least the oldest kept change), and at most `maxEntities`
 * entities with a changed version (beyond that, new entities are not recorded and
 * `droppedEntities` counts them). Version 1 of an entity is true "since forever" (at 0): the
 * simulator materialises entities on first sight, so nothing older was ever served.
 */

/** The read families whose truth the history records, in the demo Orchestrator's terms. */
export type HistoryFamily = 'product' | 'promo' | 'reco' | 'review';

/** One version and the origin time (ms since epoch) it became true. */
export interface VersionPoint {
  readonly v: number;
  readonly at: number;
}

/** The history of one entity, oldest version first. */
export interface EntityHistory {
  readonly family: HistoryFamily;
  readonly id: string;
  readonly versions: readonly VersionPoint[];
  /** True when older versions were dropped by the per-entity bound. */
  readonly truncated: boolean;
}

/** What `GET /_sim/history` returns. */
export interface HistorySnapshot {
  readonly entities: readonly EntityHistory[];
  readonly maxVersionsPerEntity: number;
  readonly droppedEntities: number;
}

export const DEFAULT_MAX_VERSIONS_PER_ENTITY = 64;
export const DEFAULT_MAX_HISTORY_ENTITIES = 200_000;

interface Entry {
  versions: VersionPoint[];
  truncated: boolean;
}

/** A bounded record of version changes. */
export class VersionHistory {
  readonly #maxVersions: number;
  readonly #maxEntities: number;
  readonly #entries = new Map<string, Entry>();
  #dropped = 0;

  constructor(options: { maxVersionsPerEntity?: number; maxEntities?: number } = {}) {
    this.#maxVersions = Math.max(1, options.maxVersionsPerEntity ?? DEFAULT_MAX_VERSIONS_PER_ENTITY);
    this.#maxEntities = Math.max(1, options.maxEntities ?? DEFAULT_MAX_HISTORY_ENTITIES);
  }

  /** Records that `family`/`id` moved to version `v` at `at` (versions only grow). */
  record(family: HistoryFamily, id: string, v: number, at: number): void {
    const key = `${family}\u0000${id}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#entries.size >= this.#maxEntities) {
        this.#dropped++;
        return;
      }
      // Everything before the first recorded change was version v - 1, true since forever.
      entry = { versions: v > 1 ? [{ v: v - 1, at: 0 }] : [], truncated: false };
      this.#entries.set(key, entry);
    }
    entry.versions.push({ v, at });
    if (entry.versions.length > this.#maxVersions) {
      entry.versions.splice(0, entry.versions.length - this.#maxVersions);
      entry.truncated = true;
    }
  }

  /** Number of entities with a recorded change. */
  get size(): number {
    return this.#entries.size;
  }

  /** The histories, optionally of one family only. */
  snapshot(family?: HistoryFamily): HistorySnapshot {
    const entities: EntityHistory[] = [];
    for (const [key, entry] of this.#entries) {
      const sep = key.indexOf('\u0000');
      const f = key.slice(0, sep) as HistoryFamily;
      if (family !== undefined && f !== family) continue;
      entities.push({
        family: f,
        id: key.slice(sep + 1),
        versions: [...entry.versions],
        truncated: entry.truncated,
      });
    }
    return { entities, maxVersionsPerEntity: this.#maxVersions, droppedEntities: this.#dropped };
  }

  clear(): void {
    this.#entries.clear();
    this.#dropped = 0;
  }
}
