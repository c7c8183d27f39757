/**
 * The auditor's counts, per family and window: checks made, checks that found an
 * inconsistency, and the consistency they give as a ratio and as nines. Pure.
 *
 * Nines: -log10(inconsistent / checked). With no inconsistency the figure is unbounded; what
 * the sample supports is then log10(checked) (one more check could have been the first
 * inconsistent one), reported with `ninesLowerBound: true`. No check: no figure.
 */

/** The counts of one family and window. */
export interface WindowTally {
  readonly checked: number;
  readonly inconsistent: number;
  /** 1 - inconsistent / checked; undefined before the first check. */
  readonly ratio: number | undefined;
  readonly nines: number | undefined;
  /** True when `nines` is the bound the sample supports (no inconsistency seen). */
  readonly ninesLowerBound: boolean;
}

/** Consistency as a ratio and as nines from the two counts. */
export function consistencyOf(checked: number, inconsistent: number): WindowTally {
  if (checked <= 0)
    return { checked: 0, inconsistent: 0, ratio: undefined, nines: undefined, ninesLowerBound: false };
  const ratio = 1 - inconsistent / checked;
  if (inconsistent === 0)
    return { checked, inconsistent, ratio, nines: round3(Math.log10(checked)), ninesLowerBound: true };
  return {
    checked,
    inconsistent,
    ratio,
    nines: round3(-Math.log10(inconsistent / checked)),
    ninesLowerBound: false,
  };
}

/** A window's label, as in the metrics: `1s`, `10s`, `60s`, `1500ms`. */
export function windowLabel(windowMs: number): string {
  return windowMs % 1000 === 0 ? `${windowMs / 1000}s` : `${windowMs}ms`;
}

/** Counts per family and window label. */
export class ConsistencyTally {
  readonly #counts = new Map<string, Map<string, { checked: number; inconsistent: number }>>();

  /** Counts one check. */
  record(family: string, window: string, inconsistent: boolean): void {
    let byWindow = this.#counts.get(family);
    if (byWindow === undefined) {
      byWindow = new Map<string, { checked: number; inconsistent: number }>();
      this.#counts.set(family, byWindow);
    }
    const c = byWindow.get(window) ?? { checked: 0, inconsistent: 0 };
    c.checked += 1;
    if (inconsistent) c.inconsistent += 1;
    byWindow.set(window, c);
  }

  /** One family and window. */
  of(family: string, window: string): WindowTally {
    const c = this.#counts.get(family)?.get(window);
    return consistencyOf(c?.checked ?? 0, c?.inconsistent ?? 0);
  }

  /** Every family and window seen: family -> window label -> tally. */
  byFamilyWindow(): Record<string, Record<string, WindowTally>> {
    const out: Record<string, Record<string, WindowTally>> = {};
    for (const [family, byWindow] of this.#counts) {
      out[family] = {};
      for (const [window, c] of byWindow) out[family][window] = consistencyOf(c.checked, c.inconsistent);
    }
    return out;
  }

  /** Totals over every family and window. */
  totals(): { checked: number; inconsistent: number } {
    let checked = 0;
    let inconsistent = 0;
    for (const byWindow of this.#counts.values()) {
      for (const c of byWindow.values()) {
        checked += c.checked;
        inconsistent += c.inconsistent;
      }
    }
    return { checked, inconsistent };
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
