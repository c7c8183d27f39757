/**
 * Reading every tier that may hold an audited entity, as a client would see it:
 * - a Redis node (the primary, through the fleet's own connection config, and the replica
 *   when asked): one MGET of every variant key (they share the entity's hash tag, so it is
 *   one slot in cluster mode), or, for reco, the user's generation;
 * - the L1 of read-side processes, through their authenticated `GET /l1`
 *   (l1-inspection-route.ts). Reco L1 entries are keyed by seed ASIN and are not enumerable:
 *   they are not read (their generation is, on Redis).
 * A reader throws when its tier cannot be read; the auditor counts that, never a "consistent".
 */
import { decodeStored } from '../client/cached-value.ts';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';
import type { AuditTarget } from './audit-target.ts';
import type { L1InspectionBody } from './l1-inspection-route.ts';
import type { Observation } from './staleness-rule.ts';

/** A tier, as metrics label it. */
export type Tier = 'primary' | 'replica' | 'l1';

/** What one tier holds for one key of a target. */
export interface TierReading {
  readonly tier: Tier;
  /** Which node or process: `redis://host:port`, a reader's admin URL. */
  readonly source: string;
  /** The Redis key (for L1 the key the value would have in Redis). */
  readonly key: string;
  readonly observed: Observation;
}

/** Reads one tier. */
export interface TierReader {
  readonly tier: Tier;
  readonly source: string;
  /** Every reading of `target` on this tier; only `keys` when given (a re-check). */
  read(target: AuditTarget, keys?: ReadonlySet<string>): Promise<TierReading[]>;
}

/** A Redis node (or cluster) as a tier. */
export function redisTier(tier: 'primary' | 'replica', source: string, client: RedisClient): TierReader {
  return {
    tier,
    source,
    async read(target, only) {
      if (target.judgedBy === 'generation') {
        if (only !== undefined && !only.has(target.fence)) return [];
        const raw = await client.get(target.fence);
        const value = raw === null ? Number.NaN : Number(raw);
        const observed: Observation =
          raw === null
            ? { kind: 'absent' }
            : Number.isFinite(value)
              ? { kind: 'generation', value }
              : { kind: 'unreadable' };
        return [{ tier, source, key: target.fence, observed }];
      }
      const keys = target.keys.map((k) => k.key).filter((k) => only === undefined || only.has(k));
      if (keys.length === 0) return [];
      const values = await client.mget(...keys);
      return keys.map((key, i) => ({ tier, source, key, observed: fromRedis(values[i] ?? null) }));
    },
  };
}

function fromRedis(raw: string | null): Observation {
  if (raw === null) return { kind: 'absent' };
  const stored = decodeStored(raw);
  if (stored === undefined) return { kind: 'unreadable' };
  return {
    kind: 'value',
    found: stored.found,
    version: stored.version,
    ...(stored.storedAtMs === undefined ? {} : { storedAtMs: stored.storedAtMs }),
  };
}

/** Settings of an L1 tier reader. */
export interface L1TierOptions {
  /** The process's admin base URL, e.g. `http://127.0.0.1:9480`. */
  readonly url: string;
  /** `Authorization` and any other header an admin call carries. */
  readonly headers: () => Record<string, string>;
  /** Per-call deadline, ms. */
  readonly timeoutMs: number;
}

/** A read-side process's L1 as a tier. */
export function l1Tier(options: L1TierOptions): TierReader {
  const base = options.url.replace(/\/+$/, '');
  return {
    tier: 'l1',
    source: base,
    async read(target, only) {
      const keys = target.keys.filter((k) => only === undefined || only.has(k.key));
      if (target.judgedBy === 'generation' || keys.length === 0) return [];
      const query = new URLSearchParams({
        family: target.family,
        id: target.id,
        tenant: target.tenant,
        locales: keys.map((k) => k.locale).join(','),
      });
      const res = await fetch(`${base}/l1?${query.toString()}`, {
        headers: { accept: 'application/json', ...options.headers() },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`L1 inspection at ${base} answered ${res.status}`);
      }
      const body = (await res.json()) as L1InspectionBody;
      const byLocale = new Map(body.entries.map((e) => [e.locale, e]));
      return keys.map(({ key, locale }) => {
        const e = byLocale.get(locale);
        const observed: Observation =
          e === undefined || 'absent' in e
            ? { kind: 'absent' }
            : { kind: 'value', found: e.version > 0, version: e.version, storedAtMs: e.storedAtMs };
        return { tier: 'l1', source: base, key, observed };
      });
    },
  };
}
