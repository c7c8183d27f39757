/**
 * The run lock of a refresh window: exactly one run per window across the fleet. The key is
 * the window's `lock` (KeyBuilder.refreshWindowKeys); the scripts are loaded by lua-scripts.ts.
 *
 * Protocol:
 *   take     SET lock <token> NX PX ttl              (token: random, per attempt)
 *   renew    refresh-lock-renew-1.lua every ttl/3     (only while GET lock == token)
 *   release  refresh-lock-release-1.lua               (compare-and-delete)
 * A contender that finds the lock taken retries for up to `waitMs` (default one TTL): a live
 * holder keeps renewing and the contender gives up ("skipped-duplicate"); a dead holder's lock
 * expires within one TTL and the contender (typically the dead run's own redelivered tick)
 * takes over and resumes from the checkpoint. A holder whose renewal finds the lock gone
 * learns it through `lost` and must stop.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { withScripts } from './lua-scripts.ts';
import type { RedisClient } from './redis-connection.ts';

/** Timing of the run lock. */
export interface RunLockTiming {
  /** Lock TTL; a crashed holder blocks the window for at most this long. */
  readonly ttlMs: number;
  /** Renewal period; must be well under the TTL. */
  readonly renewEveryMs: number;
  /** How long a contender keeps trying before it reports the window as taken. */
  readonly waitMs: number;
}

/** Default: 30 s TTL, renewed every 10 s, contenders wait one TTL. */
export const DEFAULT_LOCK_TIMING: RunLockTiming = Object.freeze({
  ttlMs: 30_000,
  renewEveryMs: 10_000,
  waitMs: 30_000,
});

/** A lock we hold. */
export interface HeldLock {
  readonly token: string;
  /** Aborts when the lock is lost (renewal found another owner, or could not renew for a TTL). */
  readonly lost: AbortSignal;
  /** Stops renewing and releases (compare-and-delete); idempotent; true when it was still ours. */
  release(): Promise<boolean>;
}

/**
 * Takes the lock at `key`, waiting up to `timing.waitMs` for a current holder to go away.
 * Resolves undefined when someone else holds it throughout, or when `signal` aborts.
 */
export async function acquireRunLock(
  client: RedisClient,
  key: string,
  timing: RunLockTiming,
  options: { readonly signal?: AbortSignal; readonly onRenewError?: (error: unknown) => void } = {},
): Promise<HeldLock | undefined> {
  const redis = withScripts(client);
  const token = randomUUID();
  const deadline = performance.now() + timing.waitMs;
  const pollMs = Math.max(20, Math.min(250, Math.floor(timing.ttlMs / 4)));
  for (;;) {
    if ((await redis.set(key, token, 'PX', timing.ttlMs, 'NX')) === 'OK') break;
    if (options.signal?.aborted === true || performance.now() + pollMs > deadline) return undefined;
    try {
      await sleep(pollMs, undefined, options.signal === undefined ? {} : { signal: options.signal });
    } catch {
      return undefined;
    }
  }

  const lost = new AbortController();
  let lastRenewed = performance.now();
  const timer = setInterval(() => {
    redis.mcRefreshLockRenew(key, token, timing.ttlMs).then(
      (renewed) => {
        if (renewed === 1) lastRenewed = performance.now();
        else lost.abort(new Error('run lock taken over'));
      },
      (error: unknown) => {
        options.onRenewError?.(error);
        // Unconfirmed for a whole TTL: another run may legitimately hold it now.
        if (performance.now() - lastRenewed >= timing.ttlMs)
          lost.abort(new Error('run lock not renewed for a TTL'));
      },
    );
  }, timing.renewEveryMs);
  timer.unref();
  let releasing: Promise<boolean> | undefined;
  return {
    token,
    lost: lost.signal,
    release: () => {
      clearInterval(timer);
      return (releasing ??= redis.mcRefreshLockRelease(key, token).then((n) => n === 1));
    },
  };
}
