/**
 * Read side (src/client/): the Orchestrator's cache client, what it calls instead of
 * hand-written cache-aside. One per process. The read path (docs/client.md has the diagram):
 *
 *   L1 (lru-cache, served only while the L1 subscriber is coherent and Redis answers)
 *   -> L2 (Redis GET of the value key; reco keys embed the user's generation)
 *   -> fresh: fill L1 if the epoch taken before the read did not move
 *   -> stale (past the soft TTL) and the family allows it: serve, one background refresh
 *   -> miss: lease-acquire-3.lua: the value (filled meanwhile), or the fleet-wide lease with
 *      the fence token (granted: call the origin, fill through populate-2.lua, release and
 *      notify), or "wait": sleep until the fill notice (no polling), read again; when the
 *      wait runs out, call the origin here, still filling with the token
 *   -> origin through the family's guard (timeout, bulkhead, breaker); a failure serves the
 *      stale value where the class allows (fail-safe), else throws OriginUnavailableError.
 *
 * Concurrent local reads of one key share one flight at all times. A refused populate (the
 * fence moved: an invalidation raced the load) returns the value uncached, in L1 neither.
 * Redis down: reads go to the origin within the guard's budget, nothing is filled, L1 is
 * flushed and bypassed until Redis answers again. Price fields are stripped before storing.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import type { CircuitBreakerPolicy, IPolicy } from 'cockatiel';
import { withScripts } from '../adapters/redis/lua-scripts.ts';
import type { LeaseAcquireReply, ScriptedClient } from '../adapters/redis/lua-scripts.ts';
import { createRedisConnection } from '../adapters/redis/redis-connection.ts';
import type { RedisConfig, RedisConnection } from '../adapters/redis/redis-connection.ts';
import { deepFreeze } from '../core/deep-freeze.ts';
import { ConfigError, InvalidIdentifierError } from '../core/errors.ts';
import type { CacheKey, FenceKey } from '../core/identifiers.ts';
import { createKeyBuilder } from '../core/key-builder.ts';
import type { CachedFamily, KeyBuilder, ValueKeyRef } from '../core/key-builder.ts';
import { KEY_CONTRACT, fenceTtlMs } from '../core/key-contract.ts';
import type { CachedFamilySpec } from '../core/key-contract.ts';
import { stripPriceFields } from '../refresh/cached-value-filter.ts';
import { NOT_FOUND_VERSION, decodeStored, encodeEnvelope } from './cached-value.ts';
import type { StoredValue } from './cached-value.ts';
import { OriginUnavailableError } from './client-errors.ts';
import { populate, readFence } from './fenced-populate.ts';
import type { FenceToken, PopulateOutcome } from './fenced-populate.ts';
import { FillNotices } from './fill-notices.ts';
import { L1Cache } from './l1-cache.ts';
import { L1Subscriber } from './l1-subscriber.ts';
import type { InvalidateMessage } from '../adapters/redis/broadcast-message.ts';
import { ORIGIN_DEFAULTS, OriginGuard } from './origin-guard.ts';
import type { BreakerStateName } from './origin-guard.ts';
import { NO_READ_SIDE_METRICS } from './read-side-metrics.ts';
import type { ReadSideMetrics } from './read-side-metrics.ts';
import { freshnessOf, mayServeStale, resolveReadPolicies } from './read-policy.ts';
import type { ReadPolicy } from './read-policy.ts';
import { FleetOriginBudget } from './fleet-origin-budget.ts';
import type { OriginBudgetOptions } from './fleet-origin-budget.ts';
import { PipelineWatermark } from './pipeline-watermark.ts';
import { PRESENCE_DEFAULTS } from './presence-rule.ts';
import type { PresenceOptions } from './presence-rule.ts';
import { WorkerPresence } from './worker-presence.ts';
import {
  DEFAULT_LAG_WINDOW_MS,
  FAMILY_TOPICS,
  cachesTrusted,
  familyWatermark,
  servableCached,
} from './pipeline-trust.ts';

/** The families the read side serves (price never: it is fetched live). */
export type ReadFamily = 'product' | 'promo' | 'reco' | 'review';

/** Value-shaping dimensions of a read. */
export interface ReadDims {
  /** Locale families; default the first configured locale. Must be a configured locale. */
  readonly locale?: string;
  /** Reco only: the seed ASIN. */
  readonly seedAsin?: string;
  /** Default: the client's tenant. */
  readonly tenant?: string;
}

/** What a loader returns for a found entity. */
export interface Loaded {
  readonly data: unknown;
  /** The origin's version (a positive safe integer): the older of two racing writes loses. */
  readonly version: number;
}

/** Calls the origin; resolves null for "not found" (cached briefly, fenced like any fill). */
export type Loader = (req: {
  readonly family: ReadFamily;
  readonly id: string;
  readonly dims: ReadDims;
  readonly signal: AbortSignal;
}) => Promise<Loaded | null>;

export interface ReadResult {
  /** The data (price fields stripped), or null when the origin said "not found" (`unknown | null`). */
  readonly value: unknown;
  /**
   * `unverified`: the pipeline guard could not verify a cached value (decision 0022) and the
   * origin budget (or the origin) did not allow the refetch, so the cached value was served.
   */
  readonly source: 'l1' | 'l2' | 'origin' | 'stale' | 'fail-safe' | 'unverified';
  readonly version?: number;
  /** Time since the value was stored, when known. */
  readonly ageMs?: number;
}

export interface CacheClientOptions {
  /** Redis as the worker's: standalone, Sentinel or cluster. */
  readonly redis: RedisConfig;
  /** Key namespace (the fleet's REDIS_KEY_NAMESPACE). */
  readonly namespace: string;
  /** The fleet's WORKER_LOCALES: a read with another locale is refused (nothing would invalidate it). */
  readonly locales: readonly string[];
  /** Default 'default'. */
  readonly tenant?: string;
  /** L1 bounds, or false for none. Default 10,000 entries / 50 MiB. */
  readonly l1?: { readonly maxEntries: number; readonly maxBytes: number } | false;
  readonly loaders: Partial<Record<ReadFamily, Loader>>;
  readonly origin?: {
    /** After this, a servable stale value is returned while the load goes on. Default 250 ms. */
    softTimeoutMs?: number;
    /** The loader's deadline (its signal aborts). Also the lease TTL and the wait bound. Default 2000 ms. */
    hardTimeoutMs?: number;
    /** Concurrent loader calls per family in this process. Default 32. */
    concurrency?: number;
    breaker?: { failureRatio?: number; halfOpenAfterMs?: number; samplingMs?: number; minimumRps?: number };
  };
  readonly metrics?: ReadSideMetrics;
  readonly logger?: Logger;
  /** Per-family stale policy overrides (read-policy.ts); promo cannot opt into stale reads. */
  readonly readPolicy?: Partial<Record<ReadFamily, Partial<ReadPolicy>>>;
  /** Deadline of one Redis command of a read; past it the read goes on without Redis. Default 250 ms. */
  readonly redisTimeoutMs?: number;
  /** The L1 subscriber's silence rule (the publishers' heartbeat interval). Defaults 1000 ms × 3. */
  readonly l1Subscriber?: { readonly heartbeatIntervalMs?: number; readonly missedHeartbeats?: number };
  /**
   * Told, synchronously, when the L1 has dropped a broadcast's keys and fences, and when it
   * was flushed (the subscriber's reasons or the client's own): when this process's L1 heard
   * each invalidation (the scenarios' stale-read split, src/scenarios/stale-read-split.ts).
   */
  readonly l1Events?: {
    readonly invalidated?: (message: InvalidateMessage) => void;
    readonly flushed?: (reason: string) => void;
  };
  /**
   * The pipeline guard (decision 0022): trust L1 and L2 only while the workers' canary
   * watermark proves delivery within the family's lag window; otherwise serve only values
   * filled within the window and refetch the rest (through the lease, fenced). Absent: off,
   * the caches are trusted as before (a fleet that publishes no canaries would otherwise be
   * distrusted for ever).
   */
  readonly pipelineGuard?: {
    /** The workers' `WORKER_CANARY_INTERVAL_MS` (> 0): the trust rule's margin. */
    readonly canaryIntervalMs: number;
    /** Per-family lag window W, ms. Default: the dev lag SLOs (product/reco 2 s, promo 1 s, review 5 s). */
    readonly lagWindowMs?: Partial<Record<ReadFamily, number>>;
    /**
     * Worker presence (decision 0024): a worker silent for more than `missedIntervals` x
     * `intervalMs` without having said "leaving" is presumed dead holding messages, and the
     * caches are unproven (as with a stale watermark) until its last presence + visibility +
     * heartbeat + margin. Defaults: the workers' defaults (PRESENCE_DEFAULTS, presence-rule.ts);
     * a fleet with other `WORKER_VISIBILITY_TIMEOUT_S` / `WORKER_HEARTBEAT_INTERVAL_S` /
     * `WORKER_PRESENCE_INTERVAL_MS` passes them. `false`: off.
     */
    readonly presence?: false | Partial<PresenceOptions>;
  };
  /** A fleet-wide origin budget per family (decision 0022). Absent: no budget. */
  readonly originBudget?: OriginBudgetOptions;
}

export interface CacheClient {
  get(family: ReadFamily, id: string, dims?: ReadDims, opts?: { loader?: Loader }): Promise<ReadResult>;
  /** For the auditor and tests: what L1 holds for a key (no side effects). */
  inspectL1(
    family: ReadFamily,
    id: string,
    dims?: ReadDims,
  ): { version: number; storedAtMs: number } | undefined;
  /** Increments on every L1 flush. */
  readonly l1Epoch: number;
  /** Resolves once the L1 subscriber and the fill notices are subscribed (reads work before). */
  ready(): Promise<void>;
  /** Idempotent: a second call returns the first call's promise; every step runs. */
  close(): Promise<void>;
}

export const CLIENT_DEFAULTS = {
  tenant: 'default',
  l1MaxEntries: 10_000,
  l1MaxBytes: 50 * 1024 * 1024,
  redisTimeoutMs: 250,
  /** Consecutive Redis failures that make reads skip Redis (and flush L1)... */
  redisFailuresToOpen: 2,
  /** ...for this long, before one read tries Redis again. */
  redisHalfOpenAfterMs: 1_000,
  /** Jitter of a cached "not found" (ms). */
  negativeJitterMs: 2_000,
} as const;

/** Creates the process's cache client; validates the options (all problems at once). */
export function createCacheClient(options: CacheClientOptions): CacheClient {
  return new ReadSideClient(options);
}

interface Target {
  readonly family: ReadFamily;
  readonly spec: CachedFamilySpec;
  readonly policy: ReadPolicy;
  readonly id: string;
  readonly dims: ReadDims;
  readonly tenant: string;
  readonly l1Key: string;
  readonly fence: FenceKey;
  readonly locale?: string;
  readonly seedAsin?: string;
}

interface ValueKeys {
  readonly value: CacheKey;
  readonly lease: string;
}

interface Epochs {
  readonly subscriber: number;
  readonly own: number;
}

class ReadSideClient implements CacheClient {
  readonly #options: CacheClientOptions;
  readonly #keys: KeyBuilder;
  readonly #tenant: string;
  readonly #policies: Readonly<Record<CachedFamily, ReadPolicy>>;
  readonly #metrics: ReadSideMetrics;
  readonly #log: Logger | undefined;
  readonly #connection: RedisConnection;
  readonly #scripts: ScriptedClient;
  readonly #l1: L1Cache | undefined;
  readonly #subscriber: L1Subscriber | undefined;
  readonly #notices: FillNotices;
  readonly #guards = new Map<ReadFamily, OriginGuard>();
  readonly #redisBreaker: CircuitBreakerPolicy;
  readonly #redisPolicy: IPolicy;
  readonly #flights = new Map<string, Promise<ReadResult>>();
  readonly #revalidating = new Set<string>();
  readonly #background = new Set<Promise<unknown>>();
  readonly #softTimeoutMs: number;
  readonly #leaseTtlMs: number;
  readonly #fillChannel: string;
  readonly #owner = randomUUID();
  readonly #watermark: PipelineWatermark | undefined;
  readonly #presence: WorkerPresence | undefined;
  readonly #budget: FleetOriginBudget | undefined;
  readonly #lagWindowMs: Readonly<Record<ReadFamily, number>>;
  readonly #trustMarginMs: number;
  readonly #trusted = new Map<ReadFamily, boolean>();
  #leases = 0;
  #ownEpoch = 0;
  #l1Epoch = 0;
  #closing: Promise<void> | undefined;

  constructor(options: CacheClientOptions) {
    validate(options);
    this.#options = options;
    this.#keys = createKeyBuilder({ namespace: options.namespace, locales: options.locales });
    this.#tenant = options.tenant ?? CLIENT_DEFAULTS.tenant;
    this.#policies = resolveReadPolicies(options.readPolicy);
    this.#metrics = options.metrics ?? NO_READ_SIDE_METRICS;
    this.#log = options.logger?.child({ component: 'cache-client' });
    this.#softTimeoutMs = options.origin?.softTimeoutMs ?? ORIGIN_DEFAULTS.softTimeoutMs;
    this.#leaseTtlMs = options.origin?.hardTimeoutMs ?? ORIGIN_DEFAULTS.hardTimeoutMs;
    this.#fillChannel = this.#keys.fillChannel();

    const redisTimeoutMs = options.redisTimeoutMs ?? CLIENT_DEFAULTS.redisTimeoutMs;
    // The pub/sub connections (L1 subscriber, fill notices) keep a roomier deadline.
    const tuning = { commandTimeoutMs: Math.max(1_000, redisTimeoutMs * 4), maxRetriesPerRequest: 1 };
    const redis = { ...options.redis, tuning: { ...tuning, ...options.redis.tuning } } as RedisConfig;
    // The read path's deadline is ioredis's own command timeout: a per-command timer policy
    // cost 5-7 µs of every L2 hit (about half its overhead over a plain GET, bench:client).
    this.#connection = createRedisConnection({
      ...redis,
      tuning: { ...redis.tuning, commandTimeoutMs: redisTimeoutMs },
    });
    this.#connection.events.on('error', (error) => this.#log?.debug({ err: error }, 'redis error'));
    this.#scripts = withScripts(this.#connection.client);

    this.#redisBreaker = circuitBreaker(handleAll, {
      halfOpenAfter: CLIENT_DEFAULTS.redisHalfOpenAfterMs,
      breaker: new ConsecutiveBreaker(CLIENT_DEFAULTS.redisFailuresToOpen),
    });
    this.#redisBreaker.onBreak(() => {
      this.#log?.warn('redis unavailable: L1 flushed and bypassed, reads go to the origin');
      this.#flushOwn('redis-unavailable');
    });
    this.#redisPolicy = this.#redisBreaker;

    const onError = (error: Error): void => this.#log?.debug({ err: error }, 'subscriber error');
    this.#notices = new FillNotices(redis, this.#fillChannel, onError);
    const guard = options.pipelineGuard;
    this.#lagWindowMs = { ...DEFAULT_LAG_WINDOW_MS, ...guard?.lagWindowMs };
    this.#trustMarginMs = guard?.canaryIntervalMs ?? 0;
    this.#presence =
      guard === undefined || guard.presence === false
        ? undefined
        : new WorkerPresence(
            { ...PRESENCE_DEFAULTS, ...guard.presence },
            { logger: this.#log, onPresumedDead: () => this.#metrics.workerPresumedDead?.() },
          );
    const presence = this.#presence;
    this.#watermark =
      guard === undefined
        ? undefined
        : new PipelineWatermark(redis, options.namespace, {
            onError,
            ...(presence === undefined ? {} : { onOther: (raw: string) => void presence.receive(raw) }),
          });
    this.#budget =
      options.originBudget === undefined
        ? undefined
        : new FleetOriginBudget(
            this.#connection.client,
            options.namespace,
            options.originBudget,
            () => this.#redisBreaker.state === CircuitState.Closed,
          );
    if (options.l1 !== false) {
      const bounds = options.l1 ?? {
        maxEntries: CLIENT_DEFAULTS.l1MaxEntries,
        maxBytes: CLIENT_DEFAULTS.l1MaxBytes,
      };
      this.#l1 = new L1Cache(bounds);
      this.#subscriber = new L1Subscriber({
        redis,
        channel: this.#keys.l1Channel(),
        l1: this.#l1,
        ...(options.l1Subscriber?.heartbeatIntervalMs === undefined
          ? {}
          : { heartbeatIntervalMs: options.l1Subscriber.heartbeatIntervalMs }),
        ...(options.l1Subscriber?.missedHeartbeats === undefined
          ? {}
          : { missedHeartbeats: options.l1Subscriber.missedHeartbeats }),
      });
      this.#l1.attach(this.#subscriber);
      this.#subscriber.on('error', onError);
      this.#subscriber.on('flush', (event) => {
        this.#l1Epoch++;
        this.#metrics.l1Flush?.(event.reason);
        this.#reportL1Size();
        options.l1Events?.flushed?.(event.reason);
      });
      const invalidated = options.l1Events?.invalidated;
      if (invalidated !== undefined) this.#subscriber.on('invalidate', invalidated);
    }
  }

  get l1Epoch(): number {
    return this.#l1Epoch;
  }

  async ready(): Promise<void> {
    await Promise.all([this.#subscriber?.start(), this.#notices.ready(), this.#watermark?.ready()]);
  }

  get(
    family: ReadFamily,
    id: string,
    dims: ReadDims = {},
    opts: { loader?: Loader } = {},
  ): Promise<ReadResult> {
    if (this.#closing) return Promise.reject(new Error('cache client closed'));
    let target: Target;
    try {
      target = this.#target(family, id, dims);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const hit = this.#fromL1(target);
    if (hit) return Promise.resolve(hit);
    const inFlight = this.#flights.get(target.l1Key);
    if (inFlight) {
      this.#metrics.coalescedRead?.(family);
      return inFlight;
    }
    const loader = opts.loader ?? this.#options.loaders[family];
    const flight = this.#read(target, loader, performance.now()).finally(() =>
      this.#flights.delete(target.l1Key),
    );
    this.#flights.set(target.l1Key, flight);
    return flight;
  }

  inspectL1(
    family: ReadFamily,
    id: string,
    dims: ReadDims = {},
  ): { version: number; storedAtMs: number } | undefined {
    const entry = this.#l1?.peek(this.#target(family, id, dims).l1Key);
    return entry ? { version: entry.version, storedAtMs: entry.storedAtMs } : undefined;
  }

  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      // Every step runs even if an earlier one failed (the shutdown order of docs/client.md).
      const steps: (() => Promise<unknown>)[] = [
        () => Promise.allSettled([...this.#background]),
        () => this.#subscriber?.close() ?? Promise.resolve(),
        () => this.#notices.close(),
        () => this.#watermark?.close() ?? Promise.resolve(),
        () => this.#connection.close(),
      ];
      for (const step of steps) {
        try {
          await step();
        } catch (error) {
          this.#log?.warn({ err: error }, 'cache client close step failed');
        }
      }
      this.#l1?.clear();
    })());
  }

  // --- the read path -------------------------------------------------------------------

  #target(family: ReadFamily, id: string, dims: ReadDims): Target {
    if (!Object.hasOwn(this.#policies, family)) {
      throw new InvalidIdentifierError('family', 'not a read-side family (price is never cached)');
    }
    const spec = KEY_CONTRACT[family];
    const tenant = dims.tenant ?? this.#tenant;
    const entity = { family, tenant, id } as const;
    const fence = this.#keys.fenceKey(entity);
    const base = { family, spec, policy: this.#policies[family], id, dims, tenant, fence };
    if (family === 'reco') {
      const seedAsin = dims.seedAsin;
      if (seedAsin === undefined) throw new InvalidIdentifierError('seed ASIN', 'required for reco reads');
      // The reco value key embeds the generation, unknown until Redis is read; the L1 key is
      // the generation key plus the seed, and every entry is registered under the generation,
      // so a bump drops them all (the broadcast lists the generation in `fences`).
      this.#keys.valueKey({ ...entity, family, seedAsin, generation: 0 }); // validates the seed
      return { ...base, seedAsin, l1Key: `${fence}:${seedAsin}` };
    }
    const locale = dims.locale ?? this.#keys.locales[0]!;
    if (!this.#keys.locales.includes(locale)) {
      throw new InvalidIdentifierError('locale', 'must be one of the configured locales');
    }
    return { ...base, locale, l1Key: this.#keys.valueKey({ ...entity, family, locale }) };
  }

  #valueRef(t: Target, generation: number): ValueKeyRef {
    return t.family === 'reco'
      ? { family: 'reco', tenant: t.tenant, id: t.id, seedAsin: t.seedAsin!, generation }
      : { family: t.family, tenant: t.tenant, id: t.id, locale: t.locale! };
  }

  #l1Usable(): boolean {
    return (
      this.#l1 !== undefined &&
      this.#subscriber !== undefined &&
      this.#subscriber.coherent &&
      this.#redisBreaker.state === CircuitState.Closed
    );
  }

  #fromL1(t: Target): ReadResult | undefined {
    if (!this.#l1Usable()) return undefined;
    const entry = this.#l1!.get(t.l1Key);
    if (!entry) return undefined;
    // Not verified by the pipeline guard: read L2 (and refetch if needed), keep the entry.
    if (!this.#servable(t.family, entry.storedAtMs)) return undefined;
    this.#metrics.readSideHit(t.family, 'l1');
    return {
      value: entry.found ? entry.data : null,
      source: 'l1',
      version: entry.version,
      ageMs: Date.now() - entry.storedAtMs,
    };
  }

  #epochs(): Epochs {
    return { subscriber: this.#subscriber?.epoch ?? 0, own: this.#ownEpoch };
  }

  async #read(t: Target, loader: Loader | undefined, started: number): Promise<ReadResult> {
    const epochs = this.#epochs();
    let keys: ValueKeys;
    let stored: StoredValue | undefined;
    try {
      keys = await this.#valueKeys(t);
      const key = keys.value;
      const raw = await this.#redis(() => this.#connection.client.get(key));
      stored = raw === null ? undefined : decodeStored(raw);
    } catch (error) {
      this.#log?.debug({ err: error, family: t.family }, 'L2 read failed: reading the origin');
      return this.#load(t, loader, started, { valueKey: undefined, epochs, fallback: undefined });
    }
    if (stored && !this.#servable(t.family, stored.storedAtMs)) {
      // The pipeline guard: this value may have missed an invalidation older than the window.
      this.#metrics.unverifiedRefetch?.(t.family);
      return this.#leased(t, keys, loader, started, epochs, stored, true);
    }
    if (stored) {
      const ageMs = stored.storedAtMs === undefined ? undefined : Date.now() - stored.storedAtMs;
      if (freshnessOf(stored.storedAtMs, Date.now(), t.policy) === 'fresh') {
        this.#fillL1(t, stored, epochs);
        this.#metrics.readSideHit(t.family, 'l2');
        return resultOf(stored, 'l2');
      }
      if (mayServeStale(t.policy, 'revalidate', ageMs ?? 0)) {
        this.#revalidate(t, keys, loader);
        this.#metrics.staleServed?.(t.family, ageMs ?? 0, 'revalidate');
        return resultOf(stored, 'stale');
      }
    }
    return this.#leased(t, keys, loader, started, epochs, stored);
  }

  /** The value key and its lease key; for reco after reading (or creating) the user's generation. */
  async #valueKeys(t: Target): Promise<ValueKeys> {
    const generation =
      t.family === 'reco'
        ? Number(await this.#redis(() => readFence(this.#connection.client, t.fence, fenceTtlMs(t.spec))))
        : 0;
    const ref = this.#valueRef(t, generation);
    return { value: this.#keys.valueKey(ref), lease: this.#keys.leaseKey(ref) };
  }

  /** The miss path through the fleet-wide lease; see the module header. */
  async #leased(
    t: Target,
    keys: ValueKeys,
    loader: Loader | undefined,
    started: number,
    epochs: Epochs,
    initialFallback: StoredValue | undefined,
    verify = false,
  ): Promise<ReadResult> {
    const { value: valueKey, lease: leaseKey } = keys;
    const deadline = performance.now() + this.#leaseTtlMs;
    let fallback = initialFallback;
    const fresh = (stored: StoredValue | undefined): stored is StoredValue =>
      stored !== undefined &&
      freshnessOf(stored.storedAtMs, Date.now(), t.policy) === 'fresh' &&
      (!verify || this.#servable(t.family, stored.storedAtMs));
    const hit = (stored: StoredValue): ReadResult => {
      this.#fillL1(t, stored, epochs);
      this.#metrics.readSideHit(t.family, 'l2');
      return resultOf(stored, 'l2');
    };
    for (;;) {
      const waiter = this.#notices.register(valueKey);
      const owner = `${this.#owner}:${++this.#leases}`;
      let reply: LeaseAcquireReply;
      try {
        // A stale copy in hand: the lease is wanted although the value exists.
        const force = fallback === undefined ? '' : '1';
        reply = await this.#acquireLease(t, valueKey, leaseKey, owner, force);
      } catch {
        waiter.cancel();
        return this.#load(t, loader, started, { valueKey: undefined, epochs, fallback, verify });
      }
      const [kind, payload] = reply;
      if (kind === 'value') {
        waiter.cancel();
        const stored = decodeStored(payload);
        if (fresh(stored)) return hit(stored);
        if (stored) {
          fallback = stored; // went stale meanwhile: ask again, for the lease this time
          continue;
        }
        // An unreadable value: load, and let the fill's version rule decide.
        return this.#load(t, loader, started, { valueKey, epochs, fallback, token: undefined, verify });
      }
      const token = payload as FenceToken;
      if (kind === 'granted') {
        waiter.cancel();
        return this.#load(t, loader, started, {
          valueKey,
          epochs,
          fallback,
          token,
          lease: { key: leaseKey, value: `${token}:${owner}` },
          verify,
        });
      }
      // A servable stale copy caps the wait at the soft timeout: serve it rather than sleep
      // (not a copy the pipeline guard is verifying: the holder's fill is what is wanted).
      const servable =
        !verify && fallback !== undefined && mayServeStale(t.policy, 'fail-safe', ageOf(fallback));
      const left = deadline - performance.now();
      const bound = servable ? Math.min(this.#softTimeoutMs, left) : left;
      const outcome = bound > 0 ? await waiter.wait(bound) : (waiter.cancel(), 'timeout');
      this.#metrics.leaseWait?.(t.family, outcome === 'notified' ? 'notified' : 'timeout');
      if (outcome === 'closed') throw new Error('cache client closed');
      if (outcome === 'timeout' && servable && fallback !== undefined) {
        this.#metrics.staleServed?.(t.family, ageOf(fallback), 'soft-timeout');
        return resultOf(fallback, 'stale');
      }
      if (outcome === 'timeout') {
        // The holder is slow or gone: call the origin here (this flight is the process's
        // single-flight), still fenced with the token read before the call.
        return this.#load(t, loader, started, { valueKey, epochs, fallback, token, verify });
      }
      // Notified: the holder filled (or was refused). Read again; ask for the lease only if
      // the value is still missing or stale.
      try {
        const raw = await this.#redis(() => this.#connection.client.get(valueKey));
        const stored = raw === null ? undefined : decodeStored(raw);
        if (fresh(stored)) return hit(stored);
        fallback = stored ?? fallback;
      } catch {
        return this.#load(t, loader, started, { valueKey: undefined, epochs, fallback, verify });
      }
    }
  }

  /** Calls the origin under its guard and fills (when a token is held). */
  async #load(
    t: Target,
    loader: Loader | undefined,
    started: number,
    fill: {
      valueKey: CacheKey | undefined;
      epochs: Epochs;
      fallback: StoredValue | undefined;
      token?: FenceToken | undefined;
      lease?: { key: string; value: string };
      /** The fallback is a cached value the pipeline guard could not verify (decision 0022). */
      verify?: boolean;
    },
  ): Promise<ReadResult> {
    const { fallback } = fill;
    const verify = fill.verify === true && fallback !== undefined;
    const fallbackAge = fallback === undefined ? Number.POSITIVE_INFINITY : ageOf(fallback);
    const canFailSafe = fallback !== undefined && mayServeStale(t.policy, 'fail-safe', fallbackAge);
    // Out of origin tokens, a read with something to serve instead serves it at once (the
    // origin budget wins over freshness); one with nothing waits a bounded time for a token.
    // The value's store time is taken before the origin call: the value holds every change
    // made before then, so "filled at f" (the pipeline guard's rule) is never later than true.
    const loadStartedAtMs = Date.now();
    const work = this.#callOrigin(t, loader, !(verify || canFailSafe)).then(
      async (loaded) => {
        const result = await this.#fill(t, loaded, { ...fill, loadStartedAtMs });
        this.#metrics.readSideMiss(t.family, performance.now() - started);
        return result;
      },
      async (error: unknown): Promise<ReadResult> => {
        // Release the lease on failure too: waiters look again at once (one of them takes the
        // lease and meets the same breaker) instead of sleeping until the lease expires.
        await this.#release(fill.lease, fill.valueKey);
        const budget = error instanceof OriginUnavailableError && error.reason === 'budget-exhausted';
        if (budget && fallback !== undefined && (verify || canFailSafe)) {
          if (verify) this.#metrics.unverifiedServed?.(t.family, 'budget-exhausted');
          else this.#metrics.budgetExhausted?.(t.family, 'served-stale');
          return resultOf(fallback, verify ? 'unverified' : 'stale');
        }
        if (budget) this.#metrics.budgetExhausted?.(t.family, 'failed');
        if (canFailSafe) {
          if (verify) {
            this.#metrics.unverifiedServed?.(t.family, 'origin-failed');
            return resultOf(fallback, 'unverified');
          }
          this.#metrics.failSafeServed?.(t.family, fallbackAge);
          return resultOf(fallback, 'fail-safe');
        }
        throw error;
      },
    );
    // The guard's refetch never answers with the unverified copy on a slow origin.
    if (!canFailSafe || verify) return work;
    // A servable stale value: past the soft timeout, serve it while the load goes on.
    let timer: NodeJS.Timeout | undefined;
    const soft = new Promise<'soft'>((resolve) => {
      timer = setTimeout(() => resolve('soft'), this.#softTimeoutMs);
    });
    const first = await Promise.race([work, soft]).finally(() => clearTimeout(timer));
    if (first !== 'soft') return first;
    this.#track(work);
    this.#metrics.staleServed?.(t.family, fallbackAge, 'soft-timeout');
    return resultOf(fallback, 'stale');
  }

  async #callOrigin(t: Target, loader: Loader | undefined, waitForToken: boolean): Promise<Loaded | null> {
    if (!loader) throw new OriginUnavailableError(t.family, 'no-loader');
    await this.#token(t.family, waitForToken);
    const guard = this.#guard(t.family);
    return guard.run((signal) => {
      this.#metrics.originCall(t.family);
      return loader({ family: t.family, id: t.id, dims: t.dims, signal });
    });
  }

  /** Stores what the origin said (fenced), fills L1 only if stored and the epochs held. */
  async #fill(
    t: Target,
    loaded: Loaded | null,
    fill: {
      valueKey: CacheKey | undefined;
      epochs: Epochs;
      token?: FenceToken | undefined;
      lease?: { key: string; value: string };
      /** When the origin call began: the stored value's time (decision 0022). */
      loadStartedAtMs?: number;
    },
  ): Promise<ReadResult> {
    const storedAtMs = fill.loadStartedAtMs ?? Date.now();
    const found = loaded !== null;
    const data = found ? (stripPriceFields(loaded.data) ?? null) : null;
    const version = found ? loaded.version : NOT_FOUND_VERSION;
    const value: StoredValue = found ? { found, data, version, storedAtMs } : { found, version, storedAtMs };
    const { valueKey, token } = fill;
    let outcome: PopulateOutcome | 'skipped' = 'skipped';
    const cacheable = !found || (Number.isSafeInteger(version) && version > 0);
    if (valueKey !== undefined && token !== undefined && cacheable) {
      const envelope = encodeEnvelope(value, storedAtMs);
      try {
        outcome = await this.#redis(() =>
          populate(this.#connection.client, valueKey, t.fence, token, envelope, {
            ttlMs: found ? t.spec.ttlMs : t.policy.negativeTtlMs,
            jitterMs: found ? t.spec.jitterMs : CLIENT_DEFAULTS.negativeJitterMs,
            version,
          }),
        );
      } catch (error) {
        this.#log?.debug({ err: error, family: t.family }, 'fill failed');
      }
    }
    await this.#release(fill.lease, valueKey);
    if (outcome === 'stored') this.#fillL1(t, value, fill.epochs);
    else if (outcome !== 'skipped')
      this.#log?.debug({ family: t.family, outcome }, 'fill refused: not cached');
    return { value: data, source: 'origin', version };
  }

  async #release(
    lease: { key: string; value: string } | undefined,
    valueKey: CacheKey | undefined,
  ): Promise<void> {
    if (!lease || valueKey === undefined) return;
    await this.#redis(() =>
      this.#scripts.mcLeaseRelease(lease.key, lease.value, this.#fillChannel, valueKey),
    ).catch(() => undefined);
  }

  /** One background refresh of a stale value, fleet-wide through the lease. */
  #revalidate(t: Target, keys: ValueKeys, loader: Loader | undefined): void {
    const { value: valueKey, lease: leaseKey } = keys;
    if (this.#revalidating.has(valueKey) || this.#closing) return;
    this.#revalidating.add(valueKey);
    const epochs = this.#epochs();
    const owner = `${this.#owner}:${++this.#leases}`;
    const run = (async () => {
      const [kind, token] = await this.#acquireLease(t, valueKey, leaseKey, owner, '1');
      if (kind !== 'granted') return; // another reader of the fleet refreshes it
      let loaded: Loaded | null;
      const loadStartedAtMs = Date.now();
      try {
        loaded = await this.#callOrigin(t, loader, false);
      } catch (error) {
        await this.#release({ key: leaseKey, value: `${token}:${owner}` }, valueKey);
        if (error instanceof OriginUnavailableError && error.reason === 'budget-exhausted')
          this.#metrics.budgetExhausted?.(t.family, 'refresh-skipped');
        throw error;
      }
      await this.#fill(t, loaded, {
        valueKey,
        epochs,
        token: token as FenceToken,
        lease: { key: leaseKey, value: `${token}:${owner}` },
        loadStartedAtMs,
      });
    })()
      .catch((error: unknown) => this.#log?.debug({ err: error, family: t.family }, 'revalidation failed'))
      .finally(() => this.#revalidating.delete(valueKey));
    this.#track(run);
  }

  #fillL1(t: Target, stored: StoredValue, epochs: Epochs): void {
    const l1 = this.#l1;
    const subscriber = this.#subscriber;
    if (!l1 || !subscriber || !this.#l1Usable()) return;
    // The fill race: a broadcast (or a flush) since the read began moved an epoch.
    if (!subscriber.canFill(epochs.subscriber) || epochs.own !== this.#ownEpoch) return;
    const storedAtMs = stored.storedAtMs ?? Date.now();
    const lifeMs = stored.found ? t.policy.softTtlMs : t.policy.negativeTtlMs;
    const ttlMs = lifeMs - (Date.now() - storedAtMs);
    const data = stored.found ? deepFreeze(stored.data) : null;
    const bytes = stored.found ? approximateBytes(data) : 16;
    l1.set(
      t.l1Key,
      { found: stored.found, data, version: stored.version, storedAtMs, fence: t.fence, bytes },
      ttlMs,
    );
    this.#reportL1Size();
  }

  /** Decision 0022: whether a cached value filled at `storedAtMs` may be served now. */
  #servable(family: ReadFamily, storedAtMs: number | undefined): boolean {
    const watermark = this.#watermark;
    if (watermark === undefined) return true;
    const nowMs = Date.now();
    const windowMs = this.#lagWindowMs[family];
    const trusted =
      cachesTrusted({
        nowMs,
        watermarkMs: familyWatermark(FAMILY_TOPICS[family], watermark.newest()),
        windowMs,
        marginMs: this.#trustMarginMs,
      }) && !(this.#presence?.unproven() ?? false); // decision 0024: no silent worker in the way
    if (this.#trusted.get(family) !== trusted) {
      this.#trusted.set(family, trusted);
      this.#metrics.pipelineTrusted?.(family, trusted);
      this.#log?.info({ family, trusted }, 'pipeline guard: caches trusted changed');
    }
    return servableCached(trusted, storedAtMs, nowMs, windowMs, this.#trustMarginMs);
  }

  /** One token of the family's origin budget; waits up to the budget's bound when asked to. */
  async #token(family: ReadFamily, wait: boolean): Promise<void> {
    const budget = this.#budget;
    if (budget === undefined || !budget.has(family)) return;
    const until = performance.now() + (wait ? budget.maxWaitMs : 0);
    for (;;) {
      const answer = await budget.take(family);
      if (answer.ok) return;
      const left = until - performance.now();
      if (left <= 0) throw new OriginUnavailableError(family, 'budget-exhausted');
      await new Promise((r) => setTimeout(r, Math.min(answer.retryInMs, left)));
    }
  }

  #flushOwn(reason: string): void {
    this.#ownEpoch++;
    if (!this.#l1) return;
    this.#l1.clear();
    this.#l1Epoch++;
    this.#metrics.l1Flush?.(reason);
    this.#reportL1Size();
    this.#options.l1Events?.flushed?.(reason);
  }

  #reportL1Size(): void {
    if (this.#l1) this.#metrics.l1Size?.(this.#l1.size, this.#l1.bytes);
  }

  #guard(family: ReadFamily): OriginGuard {
    let guard = this.#guards.get(family);
    if (!guard) {
      const o = this.#options.origin ?? {};
      guard = new OriginGuard(
        family,
        {
          ...(o.hardTimeoutMs === undefined ? {} : { hardTimeoutMs: o.hardTimeoutMs }),
          ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }),
          ...(o.breaker === undefined ? {} : { breaker: o.breaker }),
        },
        (state: BreakerStateName) => {
          this.#metrics.breakerState?.(family, state);
          this.#log?.info({ family, state }, 'origin breaker');
        },
      );
      this.#guards.set(family, guard);
    }
    return guard;
  }

  /** lease-acquire-3.lua for `valueKey`: the value, or the lease (with the fence token), or a wait. */
  async #acquireLease(
    t: Target,
    valueKey: string,
    leaseKey: string,
    owner: string,
    force: '' | '1',
  ): Promise<LeaseAcquireReply> {
    return (await this.#redis(() =>
      this.#scripts.mcLeaseAcquire(
        valueKey,
        t.fence,
        leaseKey,
        fenceTtlMs(t.spec),
        this.#leaseTtlMs,
        owner,
        force,
      ),
    )) as LeaseAcquireReply;
  }

  /** One Redis command of a read, under the Redis breaker and the read's Redis deadline. */
  #redis<T>(command: () => Promise<T>): Promise<T> {
    return this.#redisPolicy.execute(() => command());
  }

  #track(work: Promise<unknown>): void {
    const p = work.catch(() => undefined);
    this.#background.add(p);
    void p.finally(() => this.#background.delete(p));
  }
}

function resultOf(stored: StoredValue, source: ReadResult['source']): ReadResult {
  return {
    value: stored.found ? stored.data : null,
    source,
    version: stored.version,
    ...(stored.storedAtMs === undefined ? {} : { ageMs: Date.now() - stored.storedAtMs }),
  };
}

function ageOf(stored: StoredValue): number {
  return stored.storedAtMs === undefined ? Number.POSITIVE_INFINITY : Date.now() - stored.storedAtMs;
}

function approximateBytes(data: unknown): number {
  try {
    return JSON.stringify(data)?.length ?? 16;
  } catch {
    return 16;
  }
}

function validate(options: CacheClientOptions): void {
  const problems: { variable: string; message: string }[] = [];
  const positive = (variable: string, v: number | undefined): void => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0))
      problems.push({ variable, message: 'must be > 0' });
  };
  if (options.l1 !== undefined && options.l1 !== false) {
    positive('l1.maxEntries', options.l1.maxEntries);
    positive('l1.maxBytes', options.l1.maxBytes);
  }
  positive('origin.softTimeoutMs', options.origin?.softTimeoutMs);
  positive('origin.hardTimeoutMs', options.origin?.hardTimeoutMs);
  positive('origin.concurrency', options.origin?.concurrency);
  positive('redisTimeoutMs', options.redisTimeoutMs);
  const guard = options.pipelineGuard;
  if (guard !== undefined) {
    positive('pipelineGuard.canaryIntervalMs', guard.canaryIntervalMs);
    const windows = { ...DEFAULT_LAG_WINDOW_MS, ...guard.lagWindowMs };
    for (const [family, w] of Object.entries(windows)) {
      if (!(Number.isFinite(w) && w > guard.canaryIntervalMs))
        problems.push({
          variable: `pipelineGuard.lagWindowMs.${family}`,
          message: `must be longer than pipelineGuard.canaryIntervalMs (${guard.canaryIntervalMs} ms): the trust rule's margin`,
        });
    }
    if (guard.presence !== undefined && guard.presence !== false) {
      const p = { ...PRESENCE_DEFAULTS, ...guard.presence };
      for (const name of [
        'intervalMs',
        'missedIntervals',
        'visibilityTimeoutMs',
        'visibilityHeartbeatMs',
      ] as const)
        positive(`pipelineGuard.presence.${name}`, p[name]);
      if (!(Number.isFinite(p.handOverMarginMs) && p.handOverMarginMs >= 0))
        problems.push({ variable: 'pipelineGuard.presence.handOverMarginMs', message: 'must be >= 0' });
      if (
        !(
          p.visibilityTimeoutMs + p.visibilityHeartbeatMs + p.handOverMarginMs >
          p.intervalMs * p.missedIntervals
        )
      )
        problems.push({
          variable: 'pipelineGuard.presence',
          message:
            'visibilityTimeoutMs + visibilityHeartbeatMs + handOverMarginMs must be longer than intervalMs x missedIntervals (a silent worker is presumed dead only after that)',
        });
    }
  }
  for (const family of Object.keys(options.loaders)) {
    if (!['product', 'promo', 'reco', 'review'].includes(family))
      problems.push({
        variable: `loaders.${family}`,
        message: 'not a read-side family (price is never cached)',
      });
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
