/**
 * A small reader of the Prometheus text exposition format (version 0.0.4), enough for the
 * dashboard to read counters and gauges back from the workers' `/metrics`.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

/** Parses every sample line; comments, blank and malformed lines are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    LABEL.lastIndex = 0;
    let lm: RegExpExecArray | null;
    while ((lm = LABEL.exec(body)) !== null) {
      labels[lm[1] ?? ''] = (lm[2] ?? '').replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = parseValue(m[4] ?? '');
    if (value !== undefined) samples.push({ name: m[1] ?? '', labels, value });
  }
  return samples;
}

function parseValue(v: string): number | undefined {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  const n = Number(v);
  return Number.isNaN(n) ? undefined : n;
}

/** Sums the samples named `name`, grouped by the value of `label` ('' when absent). */
export function sumBy(samples: readonly Sample[], name: string, label?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name) continue;
    const key = label === undefined ? '' : (s.labels[label] ?? '');
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}
