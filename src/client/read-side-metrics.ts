/**
 * Read side (src/client/).
 *
 * What a read-side client (the Orchestrator's cache client) reports, so the fleet's
 * dashboards show hit ratio, miss penalty and origin load per key family next to the
 * invalidation lag. Separate from `WorkerMetrics`: the worker never reads the cache.
 */
import type { FamilyName } from '../core/invalidation-plan.ts';

export interface ReadSideMetrics {
  /** A read served from the cache (L1 or Redis). */
  readSideHit(family: FamilyName): void;
  /** A read that missed; `missPenaltyMs` is the latency the miss added (origin call + fill). */
  readSideMiss(family: FamilyName, missPenaltyMs: number): void;
  /** A call to the origin (misses, refreshes, stampede followers that were not coalesced). */
  originCall(family: FamilyName): void;
}

/** A ReadSideMetrics that drops everything. */
export const NO_READ_SIDE_METRICS: ReadSideMetrics = {
  readSideHit: () => undefined,
  readSideMiss: () => undefined,
  originCall: () => undefined,
};
