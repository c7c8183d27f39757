/**
 * The demo Orchestrator's loaders: one HTTP GET per entity on the origin simulator
 * (src/origin-sim/origin-routes.ts), with the caller's abort signal. A 404 is "not found"
 * (null), any other failure throws (the client's origin guard counts it).
 */
import type { Loaded, Loader, ReadFamily } from '../client/cache-client.ts';

/** Path of each family on the origin; reco adds `?seed=<asin>`. */
const PATHS: Readonly<Record<ReadFamily, string>> = {
  product: 'products',
  promo: 'promotions',
  reco: 'recommendations',
  review: 'reviews',
};

/** Thrown for a non-2xx, non-404 answer. */
export class OriginHttpError extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`origin answered ${status}`);
    this.status = status;
    this.name = 'OriginHttpError';
  }
}

/** Counts what the loaders did, per family (the demo's own view of origin load). */
export type LoaderCounter = (family: ReadFamily, outcome: 'ok' | 'not-found' | 'error') => void;

/** The four loaders over the origin at `baseUrl`. */
export function originLoaders(baseUrl: string, count?: LoaderCounter): Record<ReadFamily, Loader> {
  const base = baseUrl.replace(/\/+$/, '');
  const loader =
    (family: ReadFamily): Loader =>
    async ({ id, dims, signal }) => {
      const query = family === 'reco' ? `?seed=${encodeURIComponent(dims.seedAsin ?? '')}` : '';
      let res: Response;
      try {
        res = await fetch(`${base}/${PATHS[family]}/${encodeURIComponent(id)}${query}`, {
          headers: { accept: 'application/json' },
          signal,
        });
      } catch (err) {
        count?.(family, 'error');
        throw err;
      }
      if (res.status === 404) {
        await res.body?.cancel();
        count?.(family, 'not-found');
        return null;
      }
      if (!res.ok) {
        await res.body?.cancel();
        count?.(family, 'error');
        throw new OriginHttpError(res.status);
      }
      const data = (await res.json()) as { version?: unknown };
      count?.(family, 'ok');
      const version = typeof data.version === 'number' ? data.version : 0;
      return { data, version } satisfies Loaded;
    };
  return {
    product: loader('product'),
    promo: loader('promo'),
    reco: loader('reco'),
    review: loader('review'),
  };
}
