/**
 * The package's read-side entry: what an Orchestrator imports to read the cache.
 * See docs/client.md.
 */
export { CLIENT_DEFAULTS, createCacheClient } from './cache-client.ts';
export type {
  CacheClient,
  CacheClientOptions,
  Loaded,
  Loader,
  ReadDims,
  ReadFamily,
  ReadResult,
} from './cache-client.ts';
export { OriginUnavailableError } from './client-errors.ts';
export type { OriginFailureReason } from './client-errors.ts';
export { defaultReadPolicy, resolveReadPolicies } from './read-policy.ts';
export type { ReadPolicy } from './read-policy.ts';
export { NO_READ_SIDE_METRICS } from './read-side-metrics.ts';
export type { ReadSideMetrics } from './read-side-metrics.ts';
export { recordHotness } from './hotness-recorder.ts';
