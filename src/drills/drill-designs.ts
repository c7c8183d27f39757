/**
 * Which designs a drill run measures (`npm run drill -- ... --designs ours,naive`), how many
 * repetitions each gets, and what the command's exit status means. A design is a row of the
 * scenarios' table (src/scenarios/designs.ts), not a second definition: in a drill it
 * changes only the readers' mode and whether they keep an L1; the fault, sizes, rates and
 * the world (a private one per repetition) are the same.
 *
 * A drill's world has the event-driven worker and a replica promoted on a primary loss, so
 * only the designs whose row says so fit (ours, naive, local-flight); the polling design
 * (no worker on events, an empty node) and the TTL-only L1 (no shared cache, no worker) do
 * not, and are refused with the reason.
 */
import { DESIGNS, parseDesigns, type Design, type DesignName } from '../scenarios/designs.ts';
import type { ReaderMode } from '../orchestrator-sim/reader-settings.ts';
import type { DrillSize, DrillSpec } from './drill-catalogue.ts';

export const OURS: Design = DESIGNS.ours;

/** A design fits a drill's world when its invalidator is the worker on events and a lost primary is replaced by its replica. */
export function fitsDrillWorld(d: Design): boolean {
  return d.invalidator === 'events' && d.lostNode === 'replica';
}

/** Parses `--designs` (a comma list of design names): every name known, fitting the drills' world, listed once. */
export function parseDrillDesigns(list: string): Design[] {
  const designs = parseDesigns(list);
  const unfit = designs.filter((d) => !fitsDrillWorld(d));
  if (unfit.length > 0)
    throw new Error(
      `the drills run designs with the event-driven worker and a promoted replica (${Object.values(DESIGNS)
        .filter(fitsDrillWorld)
        .map((d) => d.name)
        .join(
          ', ',
        )}); not ${unfit.map((d) => `${d.name} (invalidator ${d.invalidator}, lost node ${d.lostNode})`).join(', ')}`,
    );
  const names = designs.map((d) => d.name);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length > 0) throw new Error(`designs listed twice: ${[...new Set(twice)].join(', ')}`);
  return designs;
}

export interface DesignRun {
  readonly design: Design;
  readonly repeat: number;
}

/**
 * Repetitions of each design for one (drill, profile): ours `repeat` (default the drill's
 * full count, 1 at the short size), every other design `otherRepeat` (default 1), so a
 * full-count run with the naive design beside ours does not double in length.
 */
export function designRuns(
  drill: Pick<DrillSpec, 'fullRepeat'>,
  o: {
    readonly size: DrillSize;
    readonly repeat?: number;
    readonly otherRepeat?: number;
    readonly designs?: readonly Design[];
  },
): DesignRun[] {
  const ours = o.repeat ?? (o.size === 'full' ? drill.fullRepeat : 1);
  return (o.designs ?? [OURS]).map((design) => ({
    design,
    repeat: design.name === 'ours' ? ours : (o.otherRepeat ?? 1),
  }));
}

/** What a design changes in a drill's world: the readers' mode, and an L1 only when both the design and the drill keep one. */
export function readersOf(
  design: Design,
  drill: Pick<DrillSpec, 'needs'>,
): { mode: ReaderMode; l1: boolean } {
  return { mode: design.reader, l1: design.l1 && !drill.needs?.noL1 };
}

/**
 * The command's exit status: 0 when every repetition of OUR design passed, else 1. Another
 * design's verdict is reported (the naive one is expected to fail) and never changes it.
 */
export function exitStatus(
  results: readonly { readonly design?: DesignName; readonly verdict: { readonly pass: boolean } }[],
): 0 | 1 {
  return results.every((r) => (r.design ?? 'ours') !== 'ours' || r.verdict.pass) ? 0 : 1;
}
