/**
 * The auditor's only origin load: for a target whose cached version counts another entity
 * than the event's (a promotion event names the promotion; the cache holds store sections,
 * each with its own version), the expected version is read from the origin once per target,
 * when the event is taken in (the origin changes before it publishes, so the version it
 * answers then is the change's or a later one). A token bucket bounds the calls to
 * `ratePerSecond` (burst: one second's worth); past it the target is judged by store time
 * only (staleness-rule.ts), never by waiting for budget. It never retries.
 */

/** Origin path of each family whose version the origin is asked for. */
const PATHS: Readonly<Record<string, string>> = {
  promo: 'promotions',
  product: 'products',
  review: 'reviews',
};

export interface OriginVersionsOptions {
  /** The origin's base URL (the origin simulator locally). */
  readonly url: string;
  /** Calls per second at most (> 0). */
  readonly ratePerSecond: number;
  /** Per-call deadline, ms. */
  readonly timeoutMs: number;
  readonly now?: () => number;
}

/** Why no version was read. */
export type OriginOutcome = 'ok' | 'budget' | 'error';

/** Reads current versions from the origin within a budget. */
export class OriginVersions {
  readonly #o: OriginVersionsOptions;
  readonly #now: () => number;
  #tokens: number;
  #refilledAt: number;

  constructor(options: OriginVersionsOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError('origin ratePerSecond must be above 0');
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#tokens = options.ratePerSecond;
    this.#refilledAt = this.#now();
  }

  /** Takes one call's budget; false when the bucket is empty. */
  take(): boolean {
    const now = this.#now();
    const rate = this.#o.ratePerSecond;
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#refilledAt) / 1000) * rate);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** The entity's current version, or why there is none. */
  async version(family: string, id: string): Promise<{ outcome: OriginOutcome; version?: number }> {
    const path = PATHS[family];
    if (path === undefined) return { outcome: 'error' };
    if (!this.take()) return { outcome: 'budget' };
    try {
      const res = await fetch(`${this.#o.url.replace(/\/+$/, '')}/${path}/${encodeURIComponent(id)}`, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      if (!res.ok) {
        await res.body?.cancel();
        return { outcome: 'error' };
      }
      const body = (await res.json()) as { version?: unknown };
      return typeof body.version === 'number' && Number.isSafeInteger(body.version)
        ? { outcome: 'ok', version: body.version }
        : { outcome: 'error' };
    } catch {
      return { outcome: 'error' };
    }
  }
}
