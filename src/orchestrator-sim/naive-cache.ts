/**
 * The hand-written designs of the demo Orchestrator, behind the same `get` as the cache
 * client so the demo, the benchmarks and the scenarios (src/scenarios/) swap them. The
 * default is the naive mode, plain cache-aside as an Orchestrator writes it by hand. What it
 * does NOT do, on purpose (the scenarios compare against it):
 *   - no lease: every process and every concurrent read that misses calls the origin
 *     (the seeds' thundering herd);
 *   - no fence: the fill is a plain SET with the contract's TTL, so a value fetched before an
 *     invalidation and written after it resurrects the old version;
 *   - no L1 flush: the per-process L1 is a Map whose entries live their TTL (the seeds'
 *     60 in-process caches that cannot be told a promotion changed).
 * Two options turn it into the other rejected designs of the first seed:
 *   - `l2: false`: no shared cache at all, only the per-task TTL L1 (alternative 3);
 *   - `singleFlight: 'process'`: concurrent misses of one key in this process share one
 *     origin call, other processes do not (alternative 5's failure: single-flight inside the
 *     proxy, not across the fleet).
 * It writes the client's value frame (cached-value.ts) under the fleet's keys, so the
 * worker's deletes reach it and the auditor reads both modes alike; for reco it reads the
 * user's generation with a plain GET (0 when missing) to find the key.
 */
import type { CacheClient, Loader, ReadDims, ReadFamily, ReadResult } from '../client/cache-client.ts';
import { decodeStored, encodeStored } from '../client/cached-value.ts';
import type { ReadSideMetrics } from '../client/read-side-metrics.ts';
import { NO_READ_SIDE_METRICS } from '../client/read-side-metrics.ts';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';
import type { KeyBuilder } from '../core/key-builder.ts';
import { KEY_CONTRACT } from '../core/key-contract.ts';

export interface NaiveCacheOptions {
  /** Redis (L2); unused with `l2: false`. */
  readonly redis: RedisClient;
  readonly keys: KeyBuilder;
  /** Read and fill Redis (default true); false: the per-task L1 is the only cache. */
  readonly l2?: boolean;
  /** 'process': concurrent misses of a key in this process share one origin call. Default 'none'. */
  readonly singleFlight?: 'none' | 'process';
  readonly loaders: Partial<Record<ReadFamily, Loader>>;
  readonly tenant?: string;
  /** Entries of the TTL-only L1 Map; 0 for none. Default 10,000. */
  readonly l1MaxEntries?: number;
  /** TTL of an L1 entry. Default: the family's TTL (what `TTLCache(ttl=300)` does). */
  readonly l1TtlMs?: number;
  /** Deadline of one loader call. Default 2,000 ms. */
  readonly loaderTimeoutMs?: number;
  readonly metrics?: ReadSideMetrics;
  readonly now?: () => number;
}

/** A hand-written design, as a CacheClient (its `inspectL1` shows the Map; `l1Epoch` never moves). */
export function createNaiveCache(options: NaiveCacheOptions): CacheClient {
  const tenant = options.tenant ?? 'default';
  const metrics = options.metrics ?? NO_READ_SIDE_METRICS;
  const now = options.now ?? Date.now;
  const maxEntries = options.l1MaxEntries ?? 10_000;
  const timeoutMs = options.loaderTimeoutMs ?? 2_000;
  const l1 = new Map<string, { value: unknown; version: number; storedAtMs: number; expiresAtMs: number }>();
  const l1Key = (family: ReadFamily, id: string, dims: ReadDims): string =>
    `${family}|${id}|${dims.locale ?? ''}|${dims.seedAsin ?? ''}`;
  const useL2 = options.l2 ?? true;
  const flights = options.singleFlight === 'process' ? new Map<string, Promise<ReadResult>>() : undefined;

  async function valueKey(family: ReadFamily, id: string, dims: ReadDims): Promise<string> {
    const t = dims.tenant ?? tenant;
    if (family === 'reco') {
      const gen = await options.redis.get(options.keys.fenceKey({ family, tenant: t, id }));
      return options.keys.valueKey({
        family,
        tenant: t,
        id,
        seedAsin: dims.seedAsin ?? '',
        generation: gen === null ? 0 : Number(gen),
      });
    }
    return options.keys.valueKey({
      family,
      tenant: t,
      id,
      locale: dims.locale ?? options.keys.locales[0] ?? '',
    });
  }

  async function read(
    family: ReadFamily,
    id: string,
    dims: ReadDims,
    opts: { loader?: Loader },
  ): Promise<ReadResult> {
    const started = performance.now();
    const spec = KEY_CONTRACT[family];
    const lk = l1Key(family, id, dims);
    const local = maxEntries > 0 ? l1.get(lk) : undefined;
    if (local !== undefined && local.expiresAtMs > now()) {
      metrics.readSideHit(family, 'l1');
      return { value: local.value, source: 'l1', version: local.version, ageMs: now() - local.storedAtMs };
    }
    if (local !== undefined) l1.delete(lk);
    const key = useL2 ? await valueKey(family, id, dims) : undefined;
    const raw = key === undefined ? null : await options.redis.get(key);
    const stored = raw === null ? undefined : decodeStored(raw);
    const remember = (value: unknown, version: number, storedAtMs: number): void => {
      if (maxEntries <= 0) return;
      if (l1.size >= maxEntries) {
        const oldest = l1.keys().next();
        if (oldest.done !== true) l1.delete(oldest.value);
      }
      l1.set(lk, { value, version, storedAtMs, expiresAtMs: now() + (options.l1TtlMs ?? spec.ttlMs) });
    };
    if (stored !== undefined) {
      metrics.readSideHit(family, 'l2');
      const value = stored.found ? stored.data : null;
      const storedAtMs = stored.storedAtMs ?? now();
      remember(value, stored.version, storedAtMs);
      return { value, source: 'l2', version: stored.version, ageMs: now() - storedAtMs };
    }
    const loader = opts.loader ?? options.loaders[family];
    if (loader === undefined) throw new Error(`naive cache: no loader for ${family}`);
    metrics.originCall(family);
    const loaded = await loader({ family, id, dims, signal: AbortSignal.timeout(timeoutMs) });
    const storedAtMs = now();
    const version = loaded?.version ?? 0;
    const jitter = Math.floor(Math.random() * spec.jitterMs);
    if (key !== undefined)
      await options.redis.set(
        key,
        encodeStored(
          loaded === null
            ? { found: false, version, storedAtMs }
            : { found: true, data: loaded.data, version, storedAtMs },
        ),
        'PX',
        spec.ttlMs + jitter,
      );
    const value = loaded === null ? null : loaded.data;
    remember(value, version, storedAtMs);
    metrics.readSideMiss(family, performance.now() - started);
    return { value, source: 'origin', version, ageMs: 0 };
  }

  return {
    get(family, id, dims = {}, opts = {}): Promise<ReadResult> {
      if (flights === undefined) return read(family, id, dims, opts);
      const fk = l1Key(family, id, dims);
      const inFlight = flights.get(fk);
      if (inFlight !== undefined) return inFlight;
      const flight = read(family, id, dims, opts).finally(() => flights.delete(fk));
      flights.set(fk, flight);
      return flight;
    },
    inspectL1(family, id, dims = {}) {
      const e = l1.get(l1Key(family, id, dims));
      return e === undefined ? undefined : { version: e.version, storedAtMs: e.storedAtMs };
    },
    l1Epoch: 0,
    ready: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
