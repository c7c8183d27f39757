/**
 * The figures of one drill repetition, from what the drill recorded: the events published
 * and when the fleet applied each, the reads, the samples of the fleet and the origin, the
 * fault's window. Pure, so every definition below is unit-tested.
 *
 * - not applied: published events no broadcast ever named; of those, as many as the event
 *   queues still hold at the end are "stuck" (still in SQS, a worker holds or will redeliver
 *   them) and the rest are lost;
 * - lag of an event: Redis time of the broadcast that named it first - its origin time;
 * - recovered at: the latest of (the last apply of an event over its family's lag SLO, among
 *   events from the fault on) and (the moment the fleet was ready again with every expected
 *   worker); an event never applied means never recovered;
 * - lag p99 during the fault: events whose origin time is within [injected, max(healed, recovered)];
 * - the fleet's share (when the SQS enqueue time of each event is known, from the workers'
 *   debug log): the same recovery with each event's lag counted from max(origin time, SQS
 *   enqueue), so a slow emulator (LocalStack's SNS -> SQS delivery, tens of ms in AWS, up to
 *   60 s here when another run loads it) is reported as delivery lag, not as the fleet's;
 * - stale reads: reads stale beyond the lag window (stale-reads.ts); those inside a drill's
 *   own allowed window (the delayed queue's, the split's) are counted apart.
 */
import type { ReadFamily } from '../client/cache-client.ts';
import type { PublishedEvent } from './event-load.ts';
import type { StaleRead } from './stale-reads.ts';

/** Recovery after a primary loss, from the new primary being reachable (fast profile), ms. */
export const RECOVERY_AFTER_REACHABLE_MS = 5_000;

/** Lag p99 SLOs of the dev environment (docs/deploy.md), per family, ms. */
export const LAG_SLO_MS: Readonly<Record<ReadFamily, number>> = Object.freeze({
  product: 2_000,
  reco: 2_000,
  promo: 1_000,
  review: 5_000,
});

export interface FaultWindow {
  readonly injectedAt: number;
  /** When the fault was taken away (the same as injectedAt for a kill). */
  readonly healedAt: number;
  /** When the new primary was reachable (primary-kill drills). */
  readonly reachableAt?: number;
  /** The drill's own window in which stale reads are its designed consequence. */
  readonly allowStale?: { readonly from: number; readonly to: number };
  readonly notes?: Readonly<Record<string, unknown>>;
}

export interface FleetPoint {
  readonly t: number;
  readonly readyWorkers: number;
}

export interface SummaryInput {
  readonly events: readonly PublishedEvent[];
  readonly appliedAt: ReadonlyMap<string, number>;
  readonly fault: FaultWindow;
  readonly fleet: readonly FleetPoint[];
  readonly expectedWorkers: number;
  readonly stale: readonly StaleRead[];
  readonly readsChecked: number;
  /** Messages still in the event queues (visible + in flight) when the drill gave up waiting. */
  readonly stillQueued?: number;
  /** SQS enqueue time (SentTimestamp) per event id, when the workers logged it. */
  readonly deliveredAt?: ReadonlyMap<string, number>;
  readonly slo?: Readonly<Record<ReadFamily, number>>;
}

export interface Summary {
  readonly published: number;
  readonly applied: number;
  readonly notApplied: number;
  /** Not applied and gone: no queue holds them any more. */
  readonly lost: number;
  /** Not applied but still in SQS at the end. */
  readonly stuck: number;
  /** Ids of (up to 20) events not applied. */
  readonly lostIds: readonly string[];
  readonly lagP99DuringFaultMs: number | null;
  readonly lagMaxMs: number | null;
  readonly recovered: boolean;
  /** From injection to recovery (ms); null when not recovered. */
  readonly recoveryMs: number | null;
  /** From the new primary being reachable to recovery (primary-kill drills). */
  readonly recoveryAfterReachableMs: number | null;
  /** The same, each event's lag counted from its SQS enqueue: the fleet's share (null: unknown). */
  readonly recoveryAfterReachableFleetMs?: number | null;
  /** Origin time -> SQS enqueue, p99 over the events of the fault window (null: unknown). */
  readonly deliveryLagP99InFaultMs?: number | null;
  readonly fleetReadyAt: number;
  readonly readsChecked: number;
  readonly staleReads: number;
  /** Stale reads outside the drill's own allowed window. */
  readonly staleOutsideWindow: number;
}

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? null;
}

/** When the fleet was last seen back at full readiness after `since` (`since` if it never dipped). */
export function fleetReadyAt(points: readonly FleetPoint[], expected: number, since: number): number {
  let lastBad: number | undefined;
  for (const p of points) if (p.t >= since && p.readyWorkers < expected) lastBad = p.t;
  if (lastBad === undefined) return since;
  return points.find((p) => p.t > lastBad && p.readyWorkers >= expected)?.t ?? Number.POSITIVE_INFINITY;
}

export function summarise(input: SummaryInput): Summary {
  const slo = input.slo ?? LAG_SLO_MS;
  const { fault } = input;
  const lostIds: string[] = [];
  let lastOverSlo = fault.injectedAt;
  let lastOverSloFleet = fault.injectedAt;
  let lagMax: number | null = null;
  const lags: { origin: number; lag: number; delivery: number | null }[] = [];
  const delivered = input.deliveredAt;
  for (const e of input.events) {
    const at = input.appliedAt.get(e.eventId);
    if (at === undefined) {
      lostIds.push(e.eventId);
      continue;
    }
    const lag = Math.max(0, at - e.occurredAtMs);
    const sentAt = delivered?.get(e.eventId);
    lags.push({
      origin: e.occurredAtMs,
      lag,
      delivery: sentAt === undefined ? null : sentAt - e.occurredAtMs,
    });
    lagMax = Math.max(lagMax ?? 0, lag);
    if (e.occurredAtMs < fault.injectedAt - 30_000) continue;
    if (lag > slo[e.family] && at > lastOverSlo) lastOverSlo = at;
    const fleetLag = Math.max(0, at - Math.max(e.occurredAtMs, sentAt ?? e.occurredAtMs));
    if (fleetLag > slo[e.family] && at > lastOverSloFleet) lastOverSloFleet = at;
  }
  const readyAt = fleetReadyAt(input.fleet, input.expectedWorkers, fault.injectedAt);
  const recovered = lostIds.length === 0 && Number.isFinite(readyAt);
  const recoveredAt = Math.max(lastOverSlo, readyAt);
  const windowEnd = Math.max(fault.healedAt, recovered ? recoveredAt : fault.healedAt);
  const inFault = lags.filter((l) => l.origin >= fault.injectedAt && l.origin <= windowEnd);
  const during = inFault.map((l) => l.lag);
  const deliveries = inFault.map((l) => l.delivery).filter((d): d is number => d !== null);
  const fleetRecoveredAt = Math.max(lastOverSloFleet, readyAt);
  const allowed = fault.allowStale;
  const outside = input.stale.filter((s) => !allowed || s.t < allowed.from || s.t > allowed.to).length;
  const stuck = Math.min(lostIds.length, Math.max(0, input.stillQueued ?? 0));
  return {
    published: input.events.length,
    applied: input.events.length - lostIds.length,
    notApplied: lostIds.length,
    lost: lostIds.length - stuck,
    stuck,
    lostIds: lostIds.slice(0, 20),
    lagP99DuringFaultMs: percentile(during, 99),
    lagMaxMs: lagMax,
    recovered,
    recoveryMs: recovered ? recoveredAt - fault.injectedAt : null,
    recoveryAfterReachableMs:
      recovered && fault.reachableAt !== undefined ? Math.max(0, recoveredAt - fault.reachableAt) : null,
    recoveryAfterReachableFleetMs:
      recovered && fault.reachableAt !== undefined && delivered !== undefined
        ? Math.max(0, fleetRecoveredAt - fault.reachableAt)
        : null,
    deliveryLagP99InFaultMs: delivered === undefined ? null : percentile(deliveries, 99),
    fleetReadyAt: readyAt,
    readsChecked: input.readsChecked,
    staleReads: input.stale.length,
    staleOutsideWindow: outside,
  };
}

/**
 * The span whose auditor findings are the fault's own, not the fleet's: the drill's own
 * window when it has one (the delayed queue, the split); for a fault that stops or delays
 * invalidation, from one lag window before the injection (events already on their way are
 * held too) to one lag window after the recovery (or the heal, when it never recovered);
 * none otherwise. The auditor judges what Redis and the L1s hold, which such a fault makes
 * stale by definition; the reads are judged apart, in full (what a shopper saw).
 */
export function auditOwnWindow(
  fault: FaultWindow,
  recoveryMs: number | null,
  lagWindowMs: number,
  delaysInvalidation: boolean,
): { readonly from: number; readonly to: number } | undefined {
  if (fault.allowStale) return fault.allowStale;
  if (!delaysInvalidation) return undefined;
  const end = Math.max(fault.healedAt, fault.injectedAt + (recoveryMs ?? 0));
  return { from: fault.injectedAt - lagWindowMs, to: end + lagWindowMs };
}

/** What this needs of an auditor finding (src/auditor/auditor.ts `Finding`). */
export interface TierFinding {
  readonly tier: string;
  readonly key: string;
  readonly eventId: string;
  readonly storedAtMs?: number;
}

/**
 * Values written back to L2 after their invalidation, at least: the auditor's findings on the
 * primary or the replica whose stale value was stored after the fleet had applied (deleted
 * for) the event that made it stale. That is a fill that raced the delete, a resurrection for
 * as long as it lasts, not a delete still to come (lag). Once per key and event. A lower
 * bound: a fill stamps its value before its write lands, so one stamped just before the
 * delete and written just after is not counted.
 */
export function writtenBackAfterApply(
  findings: readonly TierFinding[],
  appliedAt: ReadonlyMap<string, number>,
): number {
  const seen = new Set<string>();
  for (const f of findings) {
    if (f.tier === 'l1' || f.storedAtMs === undefined) continue;
    const applied = appliedAt.get(f.eventId);
    if (applied !== undefined && f.storedAtMs > applied) seen.add(`${f.key}|${f.eventId}`);
  }
  return seen.size;
}

/** Least-squares slope of y over x (per unit of x); 0 with fewer than two points. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
