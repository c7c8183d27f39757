/**
 * The machinery shared by the scheduled refresh and the warm-up: for each id, read the
 * entity's fence, fetch the origin within the budget, keep only cacheable fields, and write
 * every locale variant through the fence (`populate`, DESIGN rule 3) with the family's TTL
 * plus jitter, versioned with the origin's `version` (rule 2).
 *
 * Order per attempt: readFence -> origin GET -> populate. An invalidation after the fence
 * read bumps the fence, and the write is refused instead of resurrecting what we fetched.
 *
 * Retries: a key is tried up to `retry.maxAttempts` times; the back-off waits OUTSIDE the
 * budget queue (it holds no concurrency slot), and every attempt goes through the queue, so
 * retries count against the origin's rate like any call.
 *
 * Abort: lanes take no new id once `signal` aborts; a key waiting for a rate slot or a
 * back-off is dropped as `aborted` (not done, not failed: the next run takes it); a key whose
 * origin call already started finishes its write and its `onOutcome`, so a checkpoint kept
 * by `onOutcome` is consistent when `runKeys` returns.
 */
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { populate, readFence } from '../client/fenced-populate.ts';
import type { PopulateOutcome } from '../client/fenced-populate.ts';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';
import type { KeyBuilder } from '../core/key-builder.ts';
import { fenceTtlMs } from '../core/key-contract.ts';
import type { CachedFamilySpec } from '../core/key-contract.ts';
import { toCacheableValue } from './cached-value-filter.ts';
import type { FetchableFamily } from './cached-value-filter.ts';
import { createBudgetQueue } from './origin-budget.ts';
import type { OriginBudget } from './origin-budget.ts';
import type { OriginFetcher } from './origin-fetcher.ts';
import { retryDelayMs } from './retry-policy.ts';
import type { KeyRetryPolicy } from './retry-policy.ts';

/** What happened to one id. */
export type KeyOutcome =
  | { readonly id: string; readonly status: 'written'; readonly attempts: number; readonly variants: number }
  /** The fence moved (an invalidation won) or a newer version is stored: nothing older written. */
  | {
      readonly id: string;
      readonly status: 'refused';
      readonly attempts: number;
      readonly why: PopulateOutcome;
    }
  /** The origin answered 404: nothing to cache. */
  | { readonly id: string; readonly status: 'missing'; readonly attempts: number }
  | { readonly id: string; readonly status: 'failed'; readonly attempts: number; readonly code: string }
  /** Not finished because the run was aborted; neither done nor failed. */
  | { readonly id: string; readonly status: 'aborted'; readonly attempts: number };

/** Totals of one `runKeys`. */
export interface RunTally {
  written: number;
  refused: number;
  missing: number;
  failed: number;
  aborted: number;
  /** Origin calls started (attempts), for the achieved request rate. */
  originCalls: number;
}

/** Dependencies of the machinery. */
export interface FencedRefreshDeps {
  readonly redis: RedisClient;
  readonly keys: KeyBuilder;
  readonly family: FetchableFamily;
  readonly tenant: string;
  /** Locale variants written per id; default the key builder's locales. */
  readonly locales?: readonly string[];
  readonly fetchOrigin: OriginFetcher;
  readonly budget: OriginBudget;
  readonly retry: KeyRetryPolicy;
  readonly logger: Logger;
  readonly random?: () => number;
  /** Test seam: runs after the origin answered and before the write (e.g. to race an invalidation). */
  readonly afterFetch?: (id: string) => Promise<void>;
}

/** Options of one `runKeys`. */
export interface RunKeysOptions {
  readonly signal?: AbortSignal;
  /** Called once per id as soon as it is settled, before the lane takes its next id. */
  readonly onOutcome?: (outcome: KeyOutcome) => void | Promise<void>;
}

/** Refreshes `ids` within the budget; resolves when every id is settled or the run aborted. */
export async function runKeys(
  deps: FencedRefreshDeps,
  ids: readonly string[],
  options: RunKeysOptions = {},
): Promise<RunTally> {
  const queue = createBudgetQueue(deps.budget);
  const tally: RunTally = { written: 0, refused: 0, missing: 0, failed: 0, aborted: 0, originCalls: 0 };
  const spec = deps.keys.contract[deps.family] as CachedFamilySpec;
  // A missing fence is created by the read, with the TTL the worker's bumps give it.
  const fenceTtl = fenceTtlMs(spec);
  const locales = deps.locales ?? deps.keys.locales;
  const random = deps.random ?? Math.random;
  const signal = options.signal;
  let next = 0;

  const attempt = async (id: string): Promise<KeyOutcome | { retry: string }> => {
    const entity = { family: deps.family, tenant: deps.tenant, id } as const;
    const fence = deps.keys.fenceKey(entity);
    // The fence is read BEFORE waiting for the slot, so the slot's start is the origin call
    // itself (what the origin's rate is measured on). An invalidation during the wait only
    // turns the write into a refusal, which is the safe side.
    const token = await readFence(deps.redis, fence, fenceTtl);
    // The abort is checked when the slot is granted, not passed to p-queue: p-queue would also
    // abandon a call already running, whose id would then be fetched again by the next run.
    const outcome = await queue.add(() => {
      if (signal?.aborted === true) return Promise.resolve(undefined);
      tally.originCalls++;
      return deps.fetchOrigin(deps.family, id);
    });
    if (outcome === undefined) return { id, status: 'aborted', attempts: 0 };
    if (outcome.kind === 'not-found') return { id, status: 'missing', attempts: 0 };
    if (outcome.kind === 'error') {
      if (outcome.retryable) return { retry: outcome.code };
      return { id, status: 'failed', attempts: 0, code: outcome.code };
    }
    const filtered = toCacheableValue(deps.family, id, outcome.body);
    if (!filtered.ok) {
      deps.logger.warn({ id, reason: filtered.reason }, 'origin body not cacheable');
      return { id, status: 'failed', attempts: 0, code: 'ORIGIN_BAD_BODY' };
    }
    await deps.afterFetch?.(id);
    const json = JSON.stringify(filtered.value);
    let refusedWhy: PopulateOutcome | undefined;
    for (const locale of locales) {
      const key = deps.keys.valueKey({ ...entity, locale });
      const result = await populate(deps.redis, key, fence, token, json, {
        ttlMs: spec.ttlMs,
        jitterMs: spec.jitterMs,
        version: filtered.version,
        random,
      });
      if (result !== 'stored') refusedWhy ??= result;
    }
    return refusedWhy === undefined
      ? { id, status: 'written', attempts: 0, variants: locales.length }
      : { id, status: 'refused', attempts: 0, why: refusedWhy };
  };

  const settle = async (id: string): Promise<KeyOutcome> => {
    let lastCode = 'UNKNOWN';
    for (let n = 1; n <= deps.retry.maxAttempts; n++) {
      if (n > 1) {
        try {
          await sleep(
            retryDelayMs(n - 1, deps.retry, random),
            undefined,
            signal === undefined ? {} : { signal },
          );
        } catch {
          return { id, status: 'aborted', attempts: n - 1 };
        }
      }
      let result: KeyOutcome | { retry: string };
      try {
        result = await attempt(id);
      } catch (error) {
        if (signal?.aborted === true) return { id, status: 'aborted', attempts: n - 1 };
        // Redis errors (fence read, populate) are transient: the whole attempt is retried.
        result = { retry: 'REDIS_ERROR' };
        deps.logger.debug({ id, err: error }, 'refresh attempt failed');
      }
      if (!('retry' in result)) return { ...result, attempts: result.status === 'aborted' ? n - 1 : n };
      lastCode = result.retry;
    }
    return { id, status: 'failed', attempts: deps.retry.maxAttempts, code: lastCode };
  };

  const lane = async (): Promise<void> => {
    while (signal?.aborted !== true) {
      const id = ids[next++];
      if (id === undefined) return;
      const outcome = await settle(id);
      tally[outcome.status]++;
      await options.onOutcome?.(outcome);
    }
  };

  // Lanes only feed the queue; the queue enforces the budget. Twice the concurrency keeps
  // every slot busy while other lanes write to Redis or back off.
  const lanes = Math.min(ids.length, deps.budget.concurrency * 2);
  await Promise.all(Array.from({ length: lanes }, lane));
  tally.aborted += Math.max(0, ids.length - next);
  return tally;
}
