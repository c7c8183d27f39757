/** Small helpers of the bench report: exact percentiles, the machine, number formatting. */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/** Nearest-rank percentile of an ascending array (exact; fine for thousands of samples). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** The median of a few runs. */
export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export interface Machine {
  readonly cpus: number;
  readonly model: string;
  readonly node: string;
}

export function machine(): Machine {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // Not Linux: os.cpus() is enough.
  }
  return { cpus: cpus().length, model, node: process.version };
}

/** `1m 0.52, 5m 0.61, 15m 0.70`. */
export function loadAverage(): string {
  const [m1, m5, m15] = loadavg().map((l) => l.toFixed(2));
  return `1m ${m1}, 5m ${m5}, 15m ${m15}`;
}

/** Thousands separated, no decimals: `12 345`. */
export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US').replaceAll(',', ' ') : 'n/a';
}
