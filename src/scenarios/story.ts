/** What a story is and what it returns: one table (designs as rows, figures as columns) and its verdicts. */
import type { Design } from './designs.ts';
import type { ScenarioWorld } from './scenario-world.ts';

export interface StoryOptions {
  readonly world: ScenarioWorld;
  readonly designs: readonly Design[];
  /** Reads per design in the story's main phase (undefined: the story's default size). */
  readonly reads: number | undefined;
  /** Reads per second per reader process (undefined: the story's default). */
  readonly rate: number | undefined;
  readonly lagWindowMs: number;
  readonly pollIntervalMs: number;
  readonly seed: number;
  readonly originBudgetPerS: number;
  readonly failoverMs: number;
  readonly log: (line: string) => void;
}

export interface Verdict {
  readonly what: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface StoryResult {
  readonly story: string;
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly { readonly design: string; readonly cells: Readonly<Record<string, string>> }[];
  readonly verdicts: readonly Verdict[];
  readonly notes: readonly string[];
  /** Figures for machines (docs, the e2e test). */
  readonly figures: Readonly<Record<string, Readonly<Record<string, number | string | null>>>>;
  /** Per design, the full reports behind the figures (staleness per family, examples). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface Story {
  readonly name: string;
  readonly title: string;
  run(o: StoryOptions): Promise<StoryResult>;
}

/** Reads and duration of a run: `reads` over `processes` at `rate`, at least `minS` seconds. */
export function sizeOf(
  o: StoryOptions,
  d: { processes: number; rate: number; reads: number; minS?: number },
): { rate: number; durationS: number; reads: number } {
  const rate = o.rate ?? d.rate;
  const reads = o.reads ?? d.reads;
  const durationS = Math.max(d.minS ?? 2, reads / (d.processes * rate));
  return { rate, durationS, reads: Math.round(durationS * d.processes * rate) };
}

type Figures = StoryResult['figures'];

/**
 * One table row per design, from its figures: `cells` gets the design's figures and `n`, which
 * reads a numeric figure (0 when absent or not a number).
 */
export function designRows<D extends { readonly name: string }>(
  designs: readonly D[],
  figures: Figures,
  cells: (n: (key: string) => number, f: Figures[string], design: D) => Record<string, string>,
): StoryResult['rows'] {
  return designs.map((d) => {
    const f = figures[d.name] ?? {};
    const n = (k: string): number => {
      const v = f[k];
      return typeof v === 'number' ? v : 0;
    };
    return { design: d.name, cells: cells(n, f, d) };
  });
}

/** Formats the table: designs as rows, figures as columns. */
export function formatTable(r: StoryResult): string {
  const header = ['design', ...r.columns];
  const body = r.rows.map((row) => [row.design, ...r.columns.map((c) => row.cells[c] ?? '')]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), sep, ...body.map(line)].join('\n');
}
