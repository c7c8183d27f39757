/**
 * Staleness over reads for the drills: the readers' traces judged by issue 13's checker
 * (src/consistency/read-staleness.ts, `checkReadStaleness`) against the origin simulator's
 * own version history (`GET /_sim/history`). A read is stale beyond the lag window when the
 * version it returned had been superseded for longer than the window when the read began.
 *
 * The drill needs every such read with its time (to chart it and to tell the reads inside a
 * drill's own window from the rest), so it asks the checker for all of them as examples.
 */
import type { ReadFamily } from '../client/cache-client.ts';
import { checkReadStaleness, type HistoryInput, type ReadRecord } from '../consistency/read-staleness.ts';

export interface StaleRead {
  readonly t: number;
  readonly family: ReadFamily;
  readonly id: string;
  readonly served: number;
  readonly truth: number;
  /** How long the served version had been superseded when the read started (ms). */
  readonly staleByMs: number;
  readonly src: string;
}

export interface StaleReadReport {
  /** Reads judged (a version was served). */
  readonly checked: number;
  readonly stale: readonly StaleRead[];
  readonly byFamily: Partial<Record<ReadFamily, { checked: number; stale: number }>>;
}

/** Every read of `reads` stale beyond `lagWindowMs`, judged against `history`. */
export function staleReads(
  reads: Iterable<ReadRecord>,
  history: HistoryInput,
  options: { lagWindowMs: number },
): StaleReadReport {
  const report = checkReadStaleness(reads, history, {
    lagWindowMs: options.lagWindowMs,
    examples: Number.MAX_SAFE_INTEGER,
  });
  const byFamily: StaleReadReport['byFamily'] = {};
  const stale: StaleRead[] = [];
  for (const f of report.families) {
    const family = f.family as ReadFamily;
    byFamily[family] = { checked: f.judged, stale: f.staleBeyondWindow };
    for (const e of f.examples)
      stale.push({
        t: e.t,
        family,
        id: e.id,
        served: e.v,
        truth: e.truth,
        staleByMs: e.stalenessMs,
        src: e.src ?? '',
      });
  }
  stale.sort((a, b) => a.t - b.t);
  return { checked: report.total.judged, stale, byFamily };
}
