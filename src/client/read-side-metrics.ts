/**
 * Read side (src/client/).
 *
 * What a read-side client (the Orchestrator's cache client) reports, so the fleet's
 * dashboards show hit ratio, miss penalty and origin load per key family next to the
 * invalidation lag. Separate from `WorkerMetrics`: the worker never reads the cache.
 * The methods after `originCall` are optional, so a sink that only counts hits still fits.
 */
import type { FamilyName } from '../core/invalidation-plan.ts';

/** Where a hit was served from. */
export type ReadTier = 'l1' | 'l2';
/** Why a stale value was served. */
export type StaleReason = 'revalidate' | 'soft-timeout';
/** Why the L1 was flushed: the subscriber's reasons, or the client's Redis going away. */
export type L1FlushReason = string;

export interface ReadSideMetrics {
  /** A read served from the cache (L1 or Redis). */
  readSideHit(family: FamilyName, tier?: ReadTier): void;
  /** A read that missed; `missPenaltyMs` is the latency the miss added (origin call + fill). */
  readSideMiss(family: FamilyName, missPenaltyMs: number): void;
  /** A call to the origin (misses, refreshes, stampede followers that were not coalesced). */
  originCall(family: FamilyName): void;
  /** A value past its soft TTL served (stale-while-revalidate, or the origin's soft timeout). */
  staleServed?(family: FamilyName, ageMs: number, reason: StaleReason): void;
  /** A stale value served because the origin failed (fail-safe). */
  failSafeServed?(family: FamilyName, ageMs: number): void;
  /** A reader waited for another holder's fill lease; `outcome` says how the wait ended. */
  leaseWait?(family: FamilyName, outcome: 'notified' | 'timeout'): void;
  /** A read joined another local read of the same key already in flight. */
  coalescedRead?(family: FamilyName): void;
  /** A family's origin breaker changed state. */
  breakerState?(family: FamilyName, state: 'closed' | 'open' | 'half-open' | 'isolated'): void;
  /** The L1 was flushed. */
  l1Flush?(reason: L1FlushReason): void;
  /** The L1's current size. */
  l1Size?(entries: number, bytes: number): void;
  /** Decision 0022: the pipeline guard started (true) or stopped (false) trusting a family's caches. */
  pipelineTrusted?(family: FamilyName, trusted: boolean): void;
  /** Decision 0024: a worker fell silent without leaving; presumed dead holding messages. */
  workerPresumedDead?(): void;
  /** A cached value the pipeline guard could not verify was refetched (a read, not an origin call). */
  unverifiedRefetch?(family: FamilyName): void;
  /** A cached value the guard could not verify was served: out of origin budget, or the origin failed. */
  unverifiedServed?(family: FamilyName, reason: 'budget-exhausted' | 'origin-failed'): void;
  /** The origin budget had no token: a stale value served, the read failed, a background refresh skipped. */
  budgetExhausted?(family: FamilyName, outcome: 'served-stale' | 'failed' | 'refresh-skipped'): void;
}

/** A ReadSideMetrics that drops everything. */
export const NO_READ_SIDE_METRICS: ReadSideMetrics = {
  readSideHit: () => undefined,
  readSideMiss: () => undefined,
  originCall: () => undefined,
};
