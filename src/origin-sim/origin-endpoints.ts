/** The simulated origin endpoints, the unit in which latency, failures and load are counted. */

/** Every origin endpoint, in display order. */
export const ORIGIN_ENDPOINTS = ['products', 'promotions', 'recommendations', 'reviews', 'prices'] as const;

export type OriginEndpoint = (typeof ORIGIN_ENDPOINTS)[number];

/** A value per origin endpoint. */
export type PerEndpoint<T> = Record<OriginEndpoint, T>;

/** True when `value` names an origin endpoint. */
export const isOriginEndpoint = (value: unknown): value is OriginEndpoint =>
  typeof value === 'string' && (ORIGIN_ENDPOINTS as readonly string[]).includes(value);

/** A record with `make(endpoint)` for every endpoint. */
export function perEndpoint<T>(make: (endpoint: OriginEndpoint) => T): PerEndpoint<T> {
  return {
    products: make('products'),
    promotions: make('promotions'),
    recommendations: make('recommendations'),
    reviews: make('reviews'),
    prices: make('prices'),
  };
}
