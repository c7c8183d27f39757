/**
 * A warm-up job: prefill the given ids of a family before a traffic spike (a flash sale, a
 * new node, a deployment), with the same machinery as the scheduled refresh: origin calls
 * within the budget, fenced, versioned writes with the family's TTL plus jitter, price
 * fields never written. No lock and no checkpoint: an operator runs it and watches it; a
 * second run simply rewrites (versions and fences keep that harmless).
 */
import type { Logger } from 'pino';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';
import type { IdentifierRule } from '../core/identifier-rules.ts';
import { ASIN, STORE_SECTION } from '../core/identifier-rules.ts';
import type { KeyBuilder } from '../core/key-builder.ts';
import type { FetchableFamily } from './cached-value-filter.ts';
import { runKeys } from './fenced-refresh.ts';
import type { KeyOutcome } from './fenced-refresh.ts';
import type { OriginBudget } from './origin-budget.ts';
import type { OriginFetcher } from './origin-fetcher.ts';
import type { KeyRetryPolicy } from './retry-policy.ts';

/** The identifier rule of each warmable family's ids. */
export const ID_RULE: Readonly<Record<FetchableFamily, IdentifierRule>> = Object.freeze({
  review: ASIN,
  product: ASIN,
  promo: STORE_SECTION,
});

/** Progress after each settled id. */
export interface WarmProgress {
  readonly settled: number;
  readonly total: number;
  readonly written: number;
  readonly failed: number;
  readonly originCalls: number;
}

/** What a warm-up did. */
export interface WarmUpSummary {
  readonly family: FetchableFamily;
  readonly keys: number;
  readonly written: number;
  readonly refused: number;
  readonly missing: number;
  readonly failed: number;
  /** Ids not attempted because the job was interrupted. */
  readonly notAttempted: number;
  /** Values written (ids x locales). */
  readonly valuesWritten: number;
  readonly originCalls: number;
  readonly durationMs: number;
  /** Origin calls per second over the whole job. */
  readonly originRequestsPerSecond: number;
  readonly budget: OriginBudget;
  readonly failures: readonly { readonly id: string; readonly code: string }[];
}

export interface WarmUpOptions {
  readonly redis: RedisClient;
  readonly keys: KeyBuilder;
  readonly family: FetchableFamily;
  readonly tenant: string;
  readonly ids: readonly string[];
  readonly fetchOrigin: OriginFetcher;
  readonly budget: OriginBudget;
  readonly retry: KeyRetryPolicy;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: WarmProgress) => void;
}

/** Runs the warm-up of `options.ids` (already validated and deduplicated). */
export async function runWarmUp(options: WarmUpOptions): Promise<WarmUpSummary> {
  const started = performance.now();
  const failures: { id: string; code: string }[] = [];
  const counts = { settled: 0, written: 0, failed: 0, originCalls: 0 };
  let variants = 0;
  const onOutcome = (outcome: KeyOutcome): void => {
    counts.settled++;
    counts.originCalls += outcome.attempts;
    if (outcome.status === 'written') {
      counts.written++;
      variants += outcome.variants;
    } else if (outcome.status === 'failed') {
      counts.failed++;
      if (failures.length < 100) failures.push({ id: outcome.id, code: outcome.code });
    }
    options.onProgress?.({ ...counts, total: options.ids.length });
  };
  const tally = await runKeys(
    {
      redis: options.redis,
      keys: options.keys,
      family: options.family,
      tenant: options.tenant,
      fetchOrigin: options.fetchOrigin,
      budget: options.budget,
      retry: options.retry,
      logger: options.logger,
    },
    options.ids,
    { ...(options.signal === undefined ? {} : { signal: options.signal }), onOutcome },
  );
  const durationMs = performance.now() - started;
  return {
    family: options.family,
    keys: options.ids.length,
    written: tally.written,
    refused: tally.refused,
    missing: tally.missing,
    failed: tally.failed,
    notAttempted: tally.aborted,
    valuesWritten: variants,
    originCalls: tally.originCalls,
    durationMs,
    originRequestsPerSecond: durationMs > 0 ? (tally.originCalls * 1000) / durationMs : 0,
    budget: options.budget,
    failures,
  };
}
