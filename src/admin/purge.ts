/**
 * Administrative purges (issue 14 item 1), run inside a worker behind its authenticated admin
 * API (admin-routes.ts). Each scope goes through the same effects as an event:
 *
 * - `key` (one exact value key) and `entity` (every variant of one entity): an
 *   InvalidationPlan with one EntityEffect, applied by `applyInvalidationPlan`, the worker's
 *   own effect path: UNLINK of the keys, the fence (or reco generation) bumped in the same
 *   script, and the L1 broadcast (keys + fence) published with the next sequence number, so
 *   every L1 drops them and a populate holding a fence token read before the purge is
 *   refused (populate-2.lua). Critical families (promo) WAIT for a replica as an event would.
 *   A reco entity is one INCR of the user's generation: O(1), whatever the number of keys.
 * - `family` (in one tenant or all) and `tenant` (every family of one tenant): the key shape
 *   carries no family- or tenant-wide epoch (key-contract.ts), so there is no O(1) purge;
 *   they reuse src/adapters/redis/family-purge.ts: incremental SCAN (never KEYS) + UNLINK of
 *   the values AND the fences on every primary, then the L1 sequence is bumped, so every L1
 *   flushes at its next heartbeat. A populate whose fence was unlinked is refused (a missing
 *   fence never matches a token). Cost: O(keys of the namespace) SCAN steps of `scanCount`
 *   (default 250), each short (docs/benchmarks.md: the longest command of a 100,000-key
 *   purge).
 *
 * `dryRun` computes the blast radius (the keys that exist and would go, counted with the
 * same SCAN pattern or EXISTS) and changes nothing. Every purge is rate-limited fleet-wide
 * (a per-minute counter in Redis; dry runs are free) and audited by the caller.
 */
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import type { InvalidationPlan, EntityEffect, FamilyName } from '../core/invalidation-plan.ts';
import type { CachedFamily, KeyBuilder } from '../core/key-builder.ts';
import { parseKey } from '../core/key-parser.ts';
import { KEY_CONTRACT, fenceTtlMs, type CachedFamilySpec } from '../core/key-contract.ts';
import { FleetError } from '../core/errors.ts';
import { purgeFamilies } from '../adapters/redis/family-purge.ts';
import type { EffectsResult } from '../adapters/redis/invalidation-effects.ts';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';
import { asFenceKey } from '../core/identifiers.ts';
import type { ParsedPurgeRequest } from './purge-request.ts';

/** The purge cannot run as asked (bad target, rate limit, busy): nothing was changed. */
export class PurgeRefusedError extends FleetError {
  readonly retryable: boolean;
  readonly code: 'PURGE_BAD_TARGET' | 'PURGE_RATE_LIMITED' | 'PURGE_BUSY';
  /** The HTTP status the admin API answers with. */
  readonly status: number;

  constructor(code: PurgeRefusedError['code'], message: string) {
    super(message);
    this.code = code;
    this.retryable = code !== 'PURGE_BAD_TARGET';
    this.status = code === 'PURGE_BAD_TARGET' ? 400 : code === 'PURGE_RATE_LIMITED' ? 429 : 409;
  }
}

/** What a purge did (or, dry, would do). */
export interface PurgeOutcome {
  readonly purgeId: string;
  readonly action: `purge.${ParsedPurgeRequest['scope']}`;
  /** What it names, e.g. `entity product/acme/B08X1YRSTR`, `family review tenant=acme`. */
  readonly target: string;
  /** `effects` (the event path) or `scan` (SCAN + UNLINK). */
  readonly method: 'effects' | 'generation' | 'scan';
  readonly dryRun: boolean;
  /** Keys deleted (or that would be). For `scan`, fences and generations included. */
  readonly keyCount: number;
  /** Some of the keys (at most 20), for the dry run's blast radius. */
  readonly sample: readonly string[];
  /** The fence (or generation) value after the bump, for key and entity purges. */
  readonly fenceValue?: number;
  /** Broadcast sequence (key/entity) or the bumped L1 sequence (scan). */
  readonly l1Seq?: number;
  /** False when a critical purge was applied but no replica confirmed it in time. */
  readonly replicaConfirmed?: boolean;
  readonly tookMs: number;
}

export interface PurgerOptions {
  readonly client: RedisClient;
  readonly keys: KeyBuilder;
  /** The worker's effect path (applyInvalidationPlan with its settings). */
  readonly applyEffects: (plan: InvalidationPlan) => Promise<EffectsResult>;
  /** Called after a key/entity purge's effects were applied (the failover replay ring). */
  readonly onApplied?: (plan: InvalidationPlan) => void;
  /** Purges (not dry runs) allowed per minute across the fleet. Default 30. */
  readonly perMinute?: number;
  /** Keys asked per SCAN step. Default 250 (docs/benchmarks.md: shorter steps, same total time). */
  readonly scanCount?: number;
  readonly now?: () => number;
}

const SAMPLE = 20;
/** Keys asked per SCAN step of a family or tenant purge. */
export const PURGE_SCAN_COUNT = 250;
const CACHED: readonly CachedFamily[] = ['product', 'promo', 'review', 'reco'];

export class Purger {
  readonly #o: PurgerOptions;
  #scanRunning = false;

  constructor(options: PurgerOptions) {
    this.#o = options;
  }

  async purge(request: ParsedPurgeRequest): Promise<PurgeOutcome> {
    const started = (this.#o.now ?? Date.now)();
    const purgeId = randomUUID();
    const base = { purgeId, action: `purge.${request.scope}` as const, dryRun: request.dryRun };
    const took = (): number => (this.#o.now ?? Date.now)() - started;
    if (request.scope === 'key' || request.scope === 'entity') {
      const { effect, target } = this.#effectOf(request);
      const existing = await this.#existing(effect);
      if (request.dryRun) {
        return {
          ...base,
          target,
          method: methodOf(effect),
          keyCount: existing.count,
          sample: existing.sample,
          tookMs: took(),
        };
      }
      await this.#takeRateSlot();
      const plan: InvalidationPlan = {
        decisions: [],
        effects: [effect],
        broadcast: {
          keys: effect.unlink,
          fences: [effect.fence],
          eventIds: [`purge-${purgeId}`],
          originTimeMs: started,
        },
        critical: effect.critical,
      };
      const result = await this.#o.applyEffects(plan);
      const applied = result.ok
        ? result
        : result.error.kind === 'wait-shortfall'
          ? result.error.applied
          : undefined;
      if (applied === undefined) throw result.ok ? new Error('unreachable') : result.error;
      this.#o.onApplied?.(plan);
      return {
        ...base,
        target,
        method: methodOf(effect),
        keyCount: effect.unlink.length === 0 ? existing.count : applied.deleted,
        sample: existing.sample,
        ...fenceOf(applied.fenceValues.get(effect.fence)),
        ...(applied.seq === null ? {} : { l1Seq: applied.seq }),
        ...(effect.critical ? { replicaConfirmed: result.ok } : {}),
        tookMs: took(),
      };
    }
    const { patterns, target } = this.#patternsOf(request);
    if (request.dryRun) {
      const counted = await this.#count(patterns.map((p) => p.pattern));
      return {
        ...base,
        target,
        method: 'scan',
        keyCount: counted.count,
        sample: counted.sample,
        tookMs: took(),
      };
    }
    if (this.#scanRunning)
      throw new PurgeRefusedError('PURGE_BUSY', 'a family or tenant purge is already running on this worker');
    await this.#takeRateSlot();
    this.#scanRunning = true;
    try {
      let keyCount = 0;
      for (const { family, pattern } of patterns) {
        keyCount += await purgeFamilies(this.#o.client, {
          keys: { familyPattern: () => pattern },
          families: new Set<FamilyName>([family]),
          channel: this.#o.keys.l1Channel(),
          scanCount: this.#o.scanCount ?? PURGE_SCAN_COUNT,
        });
      }
      const seq = Number(await this.#o.client.get(this.#o.keys.l1Channel().seqKey));
      return {
        ...base,
        target,
        method: 'scan',
        keyCount,
        sample: [],
        ...(Number.isFinite(seq) ? { l1Seq: seq } : {}),
        tookMs: took(),
      };
    } finally {
      this.#scanRunning = false;
    }
  }

  #effectOf(request: Extract<ParsedPurgeRequest, { scope: 'key' | 'entity' }>): {
    effect: EntityEffect;
    target: string;
  } {
    const keys = this.#o.keys;
    if (request.scope === 'entity') {
      const entity = { family: request.family, tenant: request.tenant, id: request.id };
      const effect = guarded(() => keys.entityEffect(entity));
      return { effect, target: `entity ${request.family}/${request.tenant}/${request.id}` };
    }
    const parsed = parseKey(request.key, keys.namespace);
    if (parsed === null)
      throw new PurgeRefusedError(
        'PURGE_BAD_TARGET',
        `not a cache key of namespace ${keys.namespace} (see docs/key-contract.md)`,
      );
    if (parsed.kind !== 'value')
      throw new PurgeRefusedError(
        'PURGE_BAD_TARGET',
        'a fence or generation key: purge the entity (--family --tenant --id) instead',
      );
    const entity = { family: parsed.family, tenant: parsed.tenant, id: parsed.id };
    const whole = guarded(() => keys.entityEffect(entity));
    const spec = KEY_CONTRACT[parsed.family] as CachedFamilySpec;
    // One key goes; the fence still moves, so a populate of it in flight is refused.
    const effect: EntityEffect = {
      ...whole,
      unlink: spec.strategy === 'generation' ? [] : [request.key as EntityEffect['unlink'][number]],
      fence: asFenceKey(whole.fence),
      fenceTtlMs: fenceTtlMs(spec),
    };
    return { effect, target: `key ${request.key}` };
  }

  #patternsOf(request: Extract<ParsedPurgeRequest, { scope: 'family' | 'tenant' }>): {
    patterns: { family: CachedFamily; pattern: string }[];
    target: string;
  } {
    const ns = this.#o.keys.namespace;
    const tenant = request.tenant;
    if (tenant !== undefined)
      guarded(() => this.#o.keys.fenceKey({ family: 'product', tenant, id: 'B000000000' }));
    const families = request.scope === 'family' ? [request.family] : CACHED;
    return {
      patterns: families.map((family) => ({
        family,
        pattern: tenant === undefined ? this.#o.keys.familyPattern(family) : `${ns}:{${tenant}:${family}:*}*`,
      })),
      target:
        request.scope === 'family'
          ? `family ${request.family}${tenant === undefined ? ' (every tenant)' : ` tenant=${tenant}`}`
          : `tenant ${request.tenant} (every family)`,
    };
  }

  async #existing(effect: EntityEffect): Promise<{ count: number; sample: string[] }> {
    if (effect.unlink.length > 0) {
      const flags = await Promise.all(effect.unlink.map((k) => this.#o.client.exists(k)));
      const present = effect.unlink.filter((_, i) => flags[i] === 1);
      return { count: present.length, sample: present.slice(0, SAMPLE) };
    }
    // A generation family: every value key of the entity becomes unreachable.
    return this.#count([`${this.#o.keys.namespace}:{${effect.slotTag}}:v*`]);
  }

  /** Counts the keys matching `patterns` on every primary, with the purge's own SCAN. */
  async #count(patterns: readonly string[]): Promise<{ count: number; sample: string[] }> {
    const client = this.#o.client;
    const nodes = client instanceof Cluster ? client.nodes('master') : [client];
    let count = 0;
    const sample: string[] = [];
    for (const pattern of patterns) {
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(
            cursor,
            'MATCH',
            pattern,
            'COUNT',
            this.#o.scanCount ?? PURGE_SCAN_COUNT,
          );
          cursor = next;
          count += found.length;
          for (const k of found) if (sample.length < SAMPLE) sample.push(k);
        } while (cursor !== '0');
      }
    }
    return { count, sample };
  }

  /** One slot of the fleet-wide per-minute budget, or PURGE_RATE_LIMITED. */
  async #takeRateSlot(): Promise<void> {
    const perMinute = this.#o.perMinute ?? 30;
    const minute = Math.floor((this.#o.now ?? Date.now)() / 60_000);
    const key = `${this.#o.keys.namespace}:{admin}:purge-rate:${minute}`;
    const [[, used]] = (await this.#o.client.multi().incr(key).pexpire(key, 120_000).exec()) as [
      [Error | null, number],
    ];
    if (used > perMinute)
      throw new PurgeRefusedError(
        'PURGE_RATE_LIMITED',
        `at most ${perMinute} purges a minute across the fleet; try again in a minute`,
      );
  }
}

function methodOf(effect: EntityEffect): PurgeOutcome['method'] {
  return effect.unlink.length === 0 ? 'generation' : 'effects';
}

const fenceOf = (v: number | undefined): { fenceValue?: number } =>
  v === undefined ? {} : { fenceValue: v };

/** Runs a key builder call; its identifier errors become PURGE_BAD_TARGET (no input echoed). */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof FleetError && !err.retryable)
      throw new PurgeRefusedError('PURGE_BAD_TARGET', err.message);
    throw err;
  }
}
