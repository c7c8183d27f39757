/**
 * What one sampled event obliges the cache to have done: one audit target per entity the
 * event invalidates, with every key the worker deletes for it (the same key builder and
 * contract the worker plans with, so the auditor cannot look at other keys than those the
 * fleet is responsible for) and the version below which a cached value is stale. Pure.
 */
import type { CacheEvent } from '../core/events/cache-event.ts';
import type { CacheKey, FenceKey } from '../core/identifiers.ts';
import type { CachedFamily, KeyBuilder } from '../core/key-builder.ts';
import { familiesInvalidatedBy } from '../core/key-contract.ts';
import { parseKey } from '../core/key-parser.ts';

/** One value key of a target, with the locale it is shaped by (what L1 is asked about). */
export interface TargetKey {
  readonly key: CacheKey;
  readonly locale: string;
}

/**
 * How a cached value of the target is judged (staleness-rule.ts):
 * - `event-version`: the event's version is the cached value's version (product, review);
 * - `origin-version`: the value's version counts another entity than the event's (a promotion
 *   event names the promotion, the cache holds store sections), so the expected version is
 *   read from the origin when the auditor's origin budget allows, else only the store time
 *   decides;
 * - `generation`: reco values are not enumerable (their keys embed the user's generation and
 *   a seed ASIN); the user's generation must have been bumped since the change.
 */
export type JudgedBy = 'event-version' | 'origin-version' | 'generation';

/** One entity an event invalidates, as the auditor checks it. */
export interface AuditTarget {
  readonly eventId: string;
  readonly eventType: CacheEvent['type'];
  readonly family: CachedFamily;
  readonly tenant: string;
  readonly id: string;
  /** The event's origin time, ms since epoch: the windows count from here. */
  readonly originTimeMs: number;
  /** The event's version (for `origin-version`, the other entity's: only reported). */
  readonly eventVersion: number;
  readonly judgedBy: JudgedBy;
  /** Every value key the worker deletes for the entity (empty for reco). */
  readonly keys: readonly TargetKey[];
  /** The entity's fence (reco: the user's generation key). */
  readonly fence: FenceKey;
}

/** How each family's cached values are judged (see {@link JudgedBy}). */
const JUDGED_BY: Readonly<Record<CachedFamily, JudgedBy>> = {
  product: 'event-version',
  review: 'event-version',
  promo: 'origin-version',
  reco: 'generation',
};

/** The targets of one event (none for an event that invalidates nothing, e.g. `refresh.tick`). */
export function auditTargets(event: CacheEvent, originTimeMs: number, keys: KeyBuilder): AuditTarget[] {
  const extraLocales = 'locales' in event ? event.locales : undefined;
  const targets: AuditTarget[] = [];
  for (const { spec, trigger } of familiesInvalidatedBy(event.type)) {
    const raw: unknown = (event as Readonly<Record<string, unknown>>)[trigger.idField];
    const ids = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? [...new Set(raw as string[])] : [];
    for (const id of ids) {
      const entity = { family: spec.family, tenant: event.tenant, id };
      const effect = keys.entityEffect(entity, extraLocales);
      targets.push({
        eventId: event.eventId,
        eventType: event.type,
        family: spec.family,
        tenant: event.tenant,
        id,
        originTimeMs,
        eventVersion: event.version,
        judgedBy: JUDGED_BY[spec.family],
        keys: effect.unlink.map((key) => ({ key, locale: localeOf(key, keys.namespace) })),
        fence: effect.fence,
      });
    }
  }
  return targets;
}

function localeOf(key: CacheKey, namespace: string): string {
  const parsed = parseKey(key, namespace);
  // The builder's own keys always parse (it checks its shapes when it is created).
  if (parsed === null || parsed.kind !== 'value' || !('locale' in parsed)) {
    throw new Error('a variant key of the key builder did not parse as a locale value key');
  }
  return parsed.locale;
}
