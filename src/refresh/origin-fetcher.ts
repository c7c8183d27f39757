/**
 * Thin HTTP adapter to the origins (global fetch): one GET per entity, with a deadline, and
 * the outcome classified for the retry loop. It does not rate-limit: the caller's budget
 * (p-queue) decides when a call may start.
 */
import type { FetchableFamily } from './cached-value-filter.ts';

/** Path of an entity on its origin. */
const ORIGIN_PATH: Readonly<Record<FetchableFamily, string>> = Object.freeze({
  review: 'reviews',
  product: 'products',
  promo: 'promotions',
});

/** Default deadline of one origin call. */
export const DEFAULT_FETCH_TIMEOUT_MS = 5_000;

/** Outcome of one origin call. */
export type FetchOutcome =
  | { readonly kind: 'ok'; readonly body: unknown }
  /** 404: the entity does not exist (a deleted product); nothing to cache. */
  | { readonly kind: 'not-found' }
  | { readonly kind: 'error'; readonly code: string; readonly retryable: boolean; readonly detail: string };

/** Fetches one entity. */
export type OriginFetcher = (family: FetchableFamily, id: string) => Promise<FetchOutcome>;

/** A fetcher for the origin at `baseUrl`; ids must already be validated (they go into the path). */
export function createOriginFetcher(
  baseUrl: string,
  options: { readonly timeoutMs?: number; readonly fetchImpl?: typeof fetch } = {},
): OriginFetcher {
  const base = baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const doFetch = options.fetchImpl ?? fetch;
  return async (family, id) => {
    let response: Response;
    try {
      response = await doFetch(`${base}/${ORIGIN_PATH[family]}/${encodeURIComponent(id)}`, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      const timeout = cause instanceof DOMException && cause.name === 'TimeoutError';
      return {
        kind: 'error',
        code: timeout ? 'ORIGIN_TIMEOUT' : 'ORIGIN_UNREACHABLE',
        retryable: true,
        detail: cause instanceof Error ? cause.message : String(cause),
      };
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return { kind: 'not-found' };
    }
    if (!response.ok) {
      await response.body?.cancel();
      // 429 and 5xx are the origin's "later"; other 4xx will not change on a retry.
      const retryable = response.status === 429 || response.status >= 500;
      return {
        kind: 'error',
        code: `ORIGIN_HTTP_${response.status}`,
        retryable,
        detail: response.statusText,
      };
    }
    try {
      return { kind: 'ok', body: await response.json() };
    } catch (cause) {
      return {
        kind: 'error',
        code: 'ORIGIN_BAD_BODY',
        retryable: true,
        detail: cause instanceof Error ? cause.message : String(cause),
      };
    }
  };
}
