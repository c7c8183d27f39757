/**
 * Runtime behaviour of the simulator: latencies, failure rates, the price leak of the
 * reviews endpoint. Validated as a whole (every problem reported at once), then frozen;
 * a patch from `POST /_sim/config` produces a new frozen config or a list of errors.
 */
import { ORIGIN_ENDPOINTS, isOriginEndpoint, perEndpoint } from './origin-endpoints.ts';
import type { OriginEndpoint, PerEndpoint } from './origin-endpoints.ts';

/** Origin latencies from the response-cache seed; prices are a separate, fast service. */
export const DEFAULT_LATENCY_MS: Readonly<PerEndpoint<number>> = Object.freeze({
  products: 120,
  promotions: 80,
  recommendations: 350,
  reviews: 200,
  prices: 5,
});

/** Upper bound on any configured latency: a typo should not hang a test for an hour. */
export const MAX_LATENCY_MS = 60_000;

/** The simulator's behaviour at one moment. */
export interface SimConfig {
  /** Unscaled latency per endpoint, in ms. */
  readonly latencyMs: Readonly<PerEndpoint<number>>;
  /** Multiplies every latency (tests shrink the seeds' latencies with e.g. 0.1). */
  readonly latencyScale: number;
  /** Share of calls, 0..1, answered 503 per endpoint. */
  readonly failRate: Readonly<PerEndpoint<number>>;
  /** Makes `/reviews` leak `price`/`priceCents`, so a consumer can prove it strips them. */
  readonly reviewsIncludePrice: boolean;
}

/** A partial update of the config, as accepted by `POST /_sim/config`. */
export interface SimConfigPatch {
  readonly latencyMs?: Partial<PerEndpoint<number>>;
  readonly latencyScale?: number;
  readonly failRate?: Partial<PerEndpoint<number>>;
  readonly reviewsIncludePrice?: boolean;
}

/** Outcome of validating a patch. */
export type ConfigResult =
  | { readonly ok: true; readonly config: SimConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

/** The defaults: seed latencies, scale 1, no failures, no price leak. */
export const DEFAULT_CONFIG: SimConfig = freeze({
  latencyMs: DEFAULT_LATENCY_MS,
  latencyScale: 1,
  failRate: perEndpoint(() => 0),
  reviewsIncludePrice: false,
});

function freeze(config: SimConfig): SimConfig {
  return Object.freeze({
    ...config,
    latencyMs: Object.freeze({ ...config.latencyMs }),
    failRate: Object.freeze({ ...config.failRate }),
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function perEndpointNumbers(
  field: string,
  value: unknown,
  max: number,
  errors: string[],
): Partial<PerEndpoint<number>> {
  if (!isRecord(value)) {
    errors.push(`${field} must be an object keyed by endpoint (${ORIGIN_ENDPOINTS.join(', ')})`);
    return {};
  }
  const out: Partial<Record<OriginEndpoint, number>> = {};
  for (const [name, raw] of Object.entries(value)) {
    if (!isOriginEndpoint(name)) errors.push(`${field}.${name}: unknown endpoint`);
    else if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0 || raw > max)
      errors.push(`${field}.${name} must be a number from 0 to ${max}`);
    else out[name] = raw;
  }
  return out;
}

/** Applies `patch` (untrusted JSON) to `current`; unknown fields are errors, not ignored. */
export function applyConfigPatch(current: SimConfig, patch: unknown): ConfigResult {
  if (!isRecord(patch)) return { ok: false, errors: ['the body must be a JSON object'] };
  const errors: string[] = [];
  const known = new Set(['latencyMs', 'latencyScale', 'failRate', 'reviewsIncludePrice']);
  for (const name of Object.keys(patch)) if (!known.has(name)) errors.push(`${name}: unknown field`);

  const latencyMs =
    patch.latencyMs === undefined
      ? {}
      : perEndpointNumbers('latencyMs', patch.latencyMs, MAX_LATENCY_MS, errors);
  const failRate =
    patch.failRate === undefined ? {} : perEndpointNumbers('failRate', patch.failRate, 1, errors);
  const scale = patch.latencyScale;
  if (
    scale !== undefined &&
    (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0 || scale > 100)
  )
    errors.push('latencyScale must be a number from 0 to 100');
  const leak = patch.reviewsIncludePrice;
  if (leak !== undefined && typeof leak !== 'boolean') errors.push('reviewsIncludePrice must be a boolean');
  if (errors.length > 0) return { ok: false, errors };

  return {
    ok: true,
    config: freeze({
      latencyMs: { ...current.latencyMs, ...latencyMs },
      latencyScale: typeof scale === 'number' ? scale : current.latencyScale,
      failRate: { ...current.failRate, ...failRate },
      reviewsIncludePrice: typeof leak === 'boolean' ? leak : current.reviewsIncludePrice,
    }),
  };
}

/** The latency actually applied to a call of `endpoint`, in ms. */
export const effectiveLatencyMs = (config: SimConfig, endpoint: OriginEndpoint): number =>
  config.latencyMs[endpoint] * config.latencyScale;
