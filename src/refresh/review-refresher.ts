/**
 * The hourly refresh of hot review keys. The worker hands every `refresh.tick` of the
 * review-refresh queue to `handleTick`; sqs-consumer keeps the message invisible with
 * heartbeats while it runs and acks it when `handleTick` resolves with an ackable result
 * (see `isAckable`: not after `aborted`). A rejected `handleTick` (Redis unreachable) leaves
 * the message to come back.
 *
 * One tick:
 *   1. window = the tick's scheduled UTC hour; stale ticks (older than maxTickAgeMs) are skipped;
 *   2. window already completed -> `skipped-done`;
 *   3. take the window's run lock (adapters/redis/refresh-run-lock.ts) -> held elsewhere ->
 *      `skipped-duplicate`;
 *   4. the window's id list from the checkpoint, or built now (configured ASINs + top-N hot,
 *      validated, deduplicated) and stored; ids already done are skipped;
 *   5. fetch + fenced write of each remaining id within the origin budget (fenced-refresh.ts);
 *      each settled id goes to the checkpoint before the lane takes the next;
 *   6. completed -> outcome stored (window done), lock released; aborted -> lock released,
 *      checkpoint kept for the next delivery.
 */
import type { Logger } from 'pino';
import { redisCheckpoint } from '../adapters/redis/refresh-checkpoint.ts';
import { acquireRunLock, DEFAULT_LOCK_TIMING } from '../adapters/redis/refresh-run-lock.ts';
import type { RunLockTiming } from '../adapters/redis/refresh-run-lock.ts';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';
import { ConfigError } from '../core/errors.ts';
import type { ConfigProblem } from '../core/errors.ts';
import type { RefreshTick } from '../core/events/review-events.ts';
import { ASIN } from '../core/identifier-rules.ts';
import type { KeyBuilder } from '../core/key-builder.ts';
import type { KeyOutcome, RunTally } from './fenced-refresh.ts';
import { runKeys } from './fenced-refresh.ts';
import type { HotKeySource } from './hot-key-source.ts';
import { MAX_KEYS_PER_RUN, mergeHotKeys } from './hot-keys.ts';
import { budgetProblems } from './origin-budget.ts';
import type { OriginBudget } from './origin-budget.ts';
import { createOriginFetcher } from './origin-fetcher.ts';
import type { OriginFetcher } from './origin-fetcher.ts';
import type { RefreshProgress } from './refresh-progress.ts';
import type { RefreshResult, RefreshStatus } from './refresh-result.ts';
import { windowOf, WINDOW_MS } from './refresh-window.ts';
import { DEFAULT_KEY_RETRY } from './retry-policy.ts';
import type { KeyRetryPolicy } from './retry-policy.ts';

/** Time source (injectable for tests). */
export interface Clock {
  now(): number;
}

/** Dependencies and settings of the refresher; only the first block is required. */
export interface ReviewRefresherDeps {
  readonly redis: RedisClient;
  readonly keys: KeyBuilder;
  /** Base URL of the Reviews origin, e.g. http://127.0.0.1:4599. */
  readonly originBaseUrl: string;
  readonly hotKeys: HotKeySource;
  /** The Reviews origin's budget for this job. */
  readonly limits: OriginBudget;
  readonly logger: Logger;

  /** How many ids to take from the hotness signal. Default 1,000. */
  readonly topN?: number;
  /** ASINs always refreshed (pinned), e.g. the flash sale's list. Default none. */
  readonly configuredAsins?: readonly string[];
  /** Per-key retries within a run. Default DEFAULT_KEY_RETRY (3 attempts). */
  readonly retry?: KeyRetryPolicy;
  /** Where progress goes (the worker passes its metrics). Default nowhere. */
  readonly metrics?: RefreshProgress;
  readonly clock?: Clock;
  /** Run lock timing. Default DEFAULT_LOCK_TIMING (30 s TTL, renew every 10 s, wait 30 s). */
  readonly lock?: RunLockTiming;
  /** Lifetime of a window's checkpoint and outcome. Default 3 h; must exceed maxTickAgeMs. */
  readonly checkpointTtlMs?: number;
  /** Ticks scheduled longer ago than this are skipped. Default 2 h. */
  readonly maxTickAgeMs?: number;
  /** Deadline of one origin call. Default 5 s. */
  readonly fetchTimeoutMs?: number;
  /** Replaces the HTTP fetcher (tests). */
  readonly fetchOrigin?: OriginFetcher;
  readonly random?: () => number;
  /** Test seam: runs between the origin's answer and the fenced write. */
  readonly afterFetch?: (asin: string) => Promise<void>;
}

/** The refresher the worker calls. */
export interface ReviewRefresher {
  handleTick(tick: RefreshTick, options?: { readonly signal?: AbortSignal }): Promise<RefreshResult>;
}

/** Defaults of the optional settings. */
export const REFRESH_DEFAULTS = Object.freeze({
  topN: 1_000,
  checkpointTtlMs: 3 * WINDOW_MS,
  maxTickAgeMs: 2 * WINDOW_MS,
  fetchTimeoutMs: 5_000,
});

const MAX_REPORTED_FAILURES = 100;
const PROGRESS_EVERY_MS = 1_000;

/** Validates every setting at once (ConfigError lists all problems) and builds the refresher. */
export function createReviewRefresher(deps: ReviewRefresherDeps): ReviewRefresher {
  const settings = {
    topN: deps.topN ?? REFRESH_DEFAULTS.topN,
    configured: deps.configuredAsins ?? [],
    retry: deps.retry ?? DEFAULT_KEY_RETRY,
    lock: deps.lock ?? DEFAULT_LOCK_TIMING,
    checkpointTtlMs: deps.checkpointTtlMs ?? REFRESH_DEFAULTS.checkpointTtlMs,
    maxTickAgeMs: deps.maxTickAgeMs ?? REFRESH_DEFAULTS.maxTickAgeMs,
  };
  const problems = refresherProblems(deps, settings);
  if (problems.length > 0) throw new ConfigError(problems);

  const clock = deps.clock ?? { now: Date.now };
  const metrics = deps.metrics;
  const baseLogger = deps.logger.child({ component: 'review-refresher' });
  const fetchOrigin =
    deps.fetchOrigin ??
    createOriginFetcher(deps.originBaseUrl, {
      timeoutMs: deps.fetchTimeoutMs ?? REFRESH_DEFAULTS.fetchTimeoutMs,
    });

  async function handleTick(
    tick: RefreshTick,
    options: { signal?: AbortSignal } = {},
  ): Promise<RefreshResult> {
    const started = clock.now();
    const window = windowOf(tick.scheduledAt);
    const log = baseLogger.child({ eventId: tick.eventId, tenant: tick.tenant, window });
    const keys = deps.keys.refreshWindowKeys(tick.tenant, window);
    const checkpoint = redisCheckpoint(deps.redis, keys, settings.checkpointTtlMs);
    const skipped = (status: RefreshStatus, extra: Partial<RefreshResult> = {}): RefreshResult => {
      const result = { ...emptyResult(status, window), durationMs: clock.now() - started, ...extra };
      log.info({ status }, 'refresh tick skipped');
      return result;
    };

    if (started - Date.parse(tick.scheduledAt) > settings.maxTickAgeMs) return skipped('skipped-stale');
    if ((await checkpoint.completed()) !== undefined) return skipped('skipped-done');

    const lock = await acquireRunLock(deps.redis, keys.lock, settings.lock, {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onRenewError: (err) => log.warn({ err }, 'run lock renewal failed'),
    });
    if (lock === undefined) {
      return options.signal?.aborted === true
        ? skipped('aborted', { abortReason: 'shutdown' })
        : skipped('skipped-duplicate');
    }
    try {
      // The previous holder may have finished while we waited for its lock.
      if ((await checkpoint.completed()) !== undefined) return skipped('skipped-done');

      const { ids, created } = await checkpoint.plan(async () => {
        const ranked = await deps.hotKeys.top('review', tick.tenant, settings.topN);
        const merged = mergeHotKeys(ranked, settings.configured, ASIN);
        log.info(
          { hot: ranked.length, configured: settings.configured.length, ...merged, ids: merged.ids.length },
          'refresh key list built',
        );
        return merged.ids;
      });
      const done = await checkpoint.doneIds();
      const remaining = ids.filter((id) => !done.has(id));
      const alreadyDone = ids.length - remaining.length;
      log.info({ total: ids.length, remaining: remaining.length, resumed: !created }, 'refresh run started');

      const runSignal = AbortSignal.any([
        lock.lost,
        ...(options.signal === undefined ? [] : [options.signal]),
      ]);
      const failures: { id: string; code: string }[] = [];
      let settledOk = alreadyDone;
      let failedCount = 0;
      let lastProgress = 0;
      const progress = (force: boolean): void => {
        const now = clock.now();
        if (!force && now - lastProgress < PROGRESS_EVERY_MS) return;
        lastProgress = now;
        metrics?.refreshProgress({ written: settledOk, failed: failedCount, total: ids.length });
        if (!force)
          log.info({ settled: settledOk, failed: failedCount, total: ids.length }, 'refresh progress');
      };
      const onOutcome = async (outcome: KeyOutcome): Promise<void> => {
        switch (outcome.status) {
          case 'written':
          case 'refused':
          case 'missing':
            await checkpoint.markDone(outcome.id);
            settledOk++;
            break;
          case 'failed':
            await checkpoint.markFailed(outcome.id, outcome.code);
            failedCount++;
            if (failures.length < MAX_REPORTED_FAILURES)
              failures.push({ id: outcome.id, code: outcome.code });
            log.warn(
              { asin: outcome.id, code: outcome.code, attempts: outcome.attempts },
              'refresh key failed',
            );
            break;
          case 'aborted':
            break;
        }
        progress(false);
      };

      const tally: RunTally = await runKeys(
        {
          redis: deps.redis,
          keys: deps.keys,
          family: 'review',
          tenant: tick.tenant,
          fetchOrigin,
          budget: deps.limits,
          retry: settings.retry,
          logger: log,
          ...(deps.random === undefined ? {} : { random: deps.random }),
          ...(deps.afterFetch === undefined ? {} : { afterFetch: deps.afterFetch }),
        },
        remaining,
        { signal: runSignal, onOutcome },
      );
      progress(true);

      const aborted = runSignal.aborted && tally.aborted > 0;
      const result: RefreshResult = {
        status: aborted ? 'aborted' : 'completed',
        window,
        total: ids.length,
        written: tally.written,
        failed: tally.failed,
        refused: tally.refused,
        missing: tally.missing,
        skippedAlreadyDone: alreadyDone,
        originCalls: tally.originCalls,
        durationMs: clock.now() - started,
        failures,
        ...(aborted
          ? { abortReason: lock.lost.aborted ? ('lock-lost' as const) : ('shutdown' as const) }
          : {}),
      };
      if (!aborted)
        await checkpoint.markCompleted({ ...result, completedAt: new Date(clock.now()).toISOString() });
      log.info(
        { ...result, failures: failures.length },
        aborted ? 'refresh run aborted' : 'refresh run completed',
      );
      return result;
    } finally {
      await lock
        .release()
        .catch((err: unknown) => log.warn({ err }, 'run lock release failed; it expires by TTL'));
    }
  }

  return Object.freeze({ handleTick });
}

function emptyResult(status: RefreshStatus, window: string): RefreshResult {
  return {
    status,
    window,
    total: 0,
    written: 0,
    failed: 0,
    refused: 0,
    missing: 0,
    skippedAlreadyDone: 0,
    originCalls: 0,
    durationMs: 0,
    failures: [],
  };
}

function refresherProblems(
  deps: ReviewRefresherDeps,
  s: {
    topN: number;
    retry: KeyRetryPolicy;
    lock: RunLockTiming;
    checkpointTtlMs: number;
    maxTickAgeMs: number;
  },
): ConfigProblem[] {
  const problems = budgetProblems(deps.limits);
  const p = (variable: string, message: string): void => void problems.push({ variable, message });
  if (!URL.canParse(deps.originBaseUrl)) p('originBaseUrl', 'must be an http(s) URL');
  if (!Number.isInteger(s.topN) || s.topN < 0 || s.topN > MAX_KEYS_PER_RUN)
    p('topN', `must be an integer from 0 to ${MAX_KEYS_PER_RUN}`);
  if (!Number.isInteger(s.retry.maxAttempts) || s.retry.maxAttempts < 1 || s.retry.maxAttempts > 10)
    p('retry.maxAttempts', 'must be an integer from 1 to 10');
  if (!(s.retry.baseDelayMs >= 0) || !(s.retry.maxDelayMs >= s.retry.baseDelayMs))
    p('retry', 'needs 0 <= baseDelayMs <= maxDelayMs');
  if (!(s.lock.ttlMs >= 100)) p('lock.ttlMs', 'must be at least 100 ms');
  if (!(s.lock.renewEveryMs > 0 && s.lock.renewEveryMs * 2 <= s.lock.ttlMs))
    p('lock.renewEveryMs', 'must be positive and at most half of lock.ttlMs (a renewal may be late)');
  if (!(s.lock.waitMs >= 0)) p('lock.waitMs', 'must be >= 0');
  if (!(s.maxTickAgeMs > 0)) p('maxTickAgeMs', 'must be positive');
  if (!(s.checkpointTtlMs > s.maxTickAgeMs))
    p('checkpointTtlMs', 'must exceed maxTickAgeMs, or a late tick could redo a completed window');
  return problems;
}
