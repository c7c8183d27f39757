/**
 * The origin's version history as the drill saw it: every change it made through the origin
 * simulator, with the version the entity took and when it became true (the event's
 * `occurredAt`). An entity never changed is at version 1 since before the drill (the
 * simulator's rule: any valid id exists at version 1). Pure.
 *
 * Entities are named by the READ family and id (what a reader asks for): a promotion change
 * of section S is `promo:S`, a session of user U is `reco:U`.
 */
import type { ReadFamily } from '../client/cache-client.ts';

export interface VersionChange {
  readonly version: number;
  /** When the version became true at the origin (ms since epoch). */
  readonly atMs: number;
}

export class VersionHistory {
  readonly #byEntity = new Map<string, VersionChange[]>();

  static entity(family: ReadFamily, id: string): string {
    return `${family}:${id}`;
  }

  /** Records that `family:id` took `version` at `atMs` (changes of one entity arrive in order). */
  record(family: ReadFamily, id: string, version: number, atMs: number): void {
    const key = VersionHistory.entity(family, id);
    const list = this.#byEntity.get(key) ?? [];
    list.push({ version, atMs });
    if (list.length > 1 && (list.at(-2)?.version ?? 0) > version) list.sort((a, b) => a.version - b.version);
    this.#byEntity.set(key, list);
  }

  /** The changes of an entity, oldest first (empty: version 1 all along). */
  changes(family: ReadFamily, id: string): readonly VersionChange[] {
    return this.#byEntity.get(VersionHistory.entity(family, id)) ?? [];
  }

  /** The version true at `atMs`. */
  versionAt(family: ReadFamily, id: string, atMs: number): number {
    let v = 1;
    for (const c of this.changes(family, id)) {
      if (c.atMs > atMs) break;
      v = c.version;
    }
    return v;
  }

  /** The latest version. */
  latest(family: ReadFamily, id: string): number {
    return this.changes(family, id).at(-1)?.version ?? 1;
  }

  /** When `version` of the entity was superseded (the next version became true), or undefined. */
  supersededAt(family: ReadFamily, id: string, version: number): number | undefined {
    return this.changes(family, id).find((c) => c.version > version)?.atMs;
  }

  get entities(): number {
    return this.#byEntity.size;
  }
}
