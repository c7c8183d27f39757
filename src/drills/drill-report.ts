/**
 * What a drill run prints and writes: one table row per repetition and one total per drill
 * (and profile), a JSON file with every figure, and an HTML page per run with a chart per
 * repetition: lag p99, origin calls and stale reads per second, the fault shaded.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile, RECOVERY_AFTER_REACHABLE_MS } from './drill-summary.ts';
import type { RepetitionResult } from './run-drills.ts';

export interface DrillTotal {
  readonly drill: string;
  readonly profile: string;
  /** The readers' design (src/scenarios/designs.ts): a total is per drill x profile x design. */
  readonly design: string;
  readonly repetitions: number;
  readonly passed: number;
  readonly published: number;
  readonly applied: number;
  readonly lost: number;
  readonly stuck: number;
  readonly dlqValid: number;
  readonly resurrected: number;
  /** L2 values written back after their invalidation during the run (the auditor's findings). */
  readonly writtenBackInRun?: number;
  readonly readsChecked: number;
  readonly staleReads: number;
  readonly staleOutsideWindow: number;
  readonly auditChecked: number;
  readonly auditInconsistent: number;
  readonly auditOutsideWindow: number;
  readonly originPeakPerS: number | null;
  readonly originBudgetPerS: number;
  readonly lagP99DuringFaultMaxMs: number | null;
  readonly recoveryP50Ms: number | null;
  readonly recoveryMaxMs: number | null;
  readonly recoveryAfterReachableMaxMs: number | null;
  readonly recoveryAfterReachableP50Ms?: number | null;
  /** Repetitions that recovered within RECOVERY_AFTER_REACHABLE_MS of the new primary being reachable. */
  readonly recoveryAfterReachableWithinTarget?: number;
  /** The same three with each event's lag counted from its SQS enqueue (the fleet's share). */
  readonly recoveryAfterReachableFleetP50Ms?: number | null;
  readonly recoveryAfterReachableFleetMaxMs?: number | null;
  readonly recoveryAfterReachableFleetWithinTarget?: number;
  readonly rssMaxMiB: number | null;
}

const numbers = (xs: readonly (number | null | undefined)[]) =>
  xs.filter((x): x is number => typeof x === 'number');
const sum = (xs: readonly (number | null | undefined)[]) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);
const maxOf = (xs: readonly (number | null | undefined)[]) => {
  const v = xs.filter((x): x is number => typeof x === 'number');
  return v.length ? Math.max(...v) : null;
};

/** One total per drill x profile x design, in the order the repetitions came. */
export function totals(results: readonly RepetitionResult[]): DrillTotal[] {
  const groups = new Map<string, RepetitionResult[]>();
  for (const r of results) {
    const key = `${r.drill}|${r.profile}|${r.design}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    const s = rs.map((r) => r.summary);
    const recoveries = s.map((x) => x?.recoveryMs).filter((x): x is number => typeof x === 'number');
    const afterReachable = numbers(s.map((x) => x?.recoveryAfterReachableMs));
    const fleet = numbers(s.map((x) => x?.recoveryAfterReachableFleetMs));
    return {
      drill: rs[0]?.drill ?? '',
      profile: rs[0]?.profile ?? '',
      design: rs[0]?.design ?? 'ours',
      repetitions: rs.length,
      passed: rs.filter((r) => r.verdict.pass).length,
      published: sum(s.map((x) => x?.published)),
      applied: sum(s.map((x) => x?.applied)),
      lost: sum(s.map((x) => x?.lost)),
      stuck: sum(s.map((x) => x?.stuck)),
      dlqValid: sum(rs.map((r) => r.dlq?.valid)),
      resurrected: sum(rs.map((r) => r.resurrected)),
      writtenBackInRun: sum(rs.map((r) => r.audit?.writtenBackAfterApply)),
      readsChecked: sum(s.map((x) => x?.readsChecked)),
      staleReads: sum(s.map((x) => x?.staleReads)),
      staleOutsideWindow: sum(s.map((x) => x?.staleOutsideWindow)),
      auditChecked: sum(rs.map((r) => r.audit?.checked)),
      auditInconsistent: sum(rs.map((r) => r.audit?.inconsistent)),
      auditOutsideWindow: sum(rs.map((r) => r.audit?.outsideWindow)),
      originPeakPerS: maxOf(rs.map((r) => r.originPeakPerS)),
      originBudgetPerS: rs[0]?.originBudgetPerS ?? 0,
      lagP99DuringFaultMaxMs: maxOf(s.map((x) => x?.lagP99DuringFaultMs)),
      recoveryP50Ms: percentile(recoveries, 50),
      recoveryMaxMs: recoveries.length === rs.length ? maxOf(recoveries) : null,
      recoveryAfterReachableMaxMs: maxOf(s.map((x) => x?.recoveryAfterReachableMs)),
      recoveryAfterReachableP50Ms: percentile(afterReachable, 50),
      recoveryAfterReachableWithinTarget: afterReachable.filter((ms) => ms <= RECOVERY_AFTER_REACHABLE_MS)
        .length,
      recoveryAfterReachableFleetP50Ms: percentile(fleet, 50),
      recoveryAfterReachableFleetMaxMs: maxOf(fleet),
      recoveryAfterReachableFleetWithinTarget: fleet.filter((ms) => ms <= RECOVERY_AFTER_REACHABLE_MS).length,
      rssMaxMiB: maxOf(rs.map((r) => r.rss.maxMiB)),
    };
  });
}

const secs = (ms: number | null | undefined) =>
  typeof ms === 'number' ? `${(ms / 1000).toFixed(1)} s` : '-';
const msOr = (ms: number | null | undefined) => (typeof ms === 'number' ? `${Math.round(ms)} ms` : '-');

export const TABLE_HEADER = [
  'drill',
  'profile',
  'design',
  'rep',
  'verdict',
  'published',
  'applied',
  'lost',
  'DLQ valid',
  'resurrected',
  'stale / reads (outside window)',
  'auditor inconsistent / checks (outside window)',
  'origin peak / budget',
  'lag p99 in fault',
  'recovery',
  'after reachable',
] as const;

/** At rest after the drain, and (when any) the L2 values written back after their invalidation during the run. */
function resurrectedCell(atRest: number | null, inRun: number | undefined): string {
  return `${atRest ?? '-'}${inRun ? ` (in run: ${inRun})` : ''}`;
}

export function repetitionRow(r: RepetitionResult): string[] {
  const s = r.summary;
  return [
    r.drill,
    r.profile,
    r.design,
    String(r.repetition),
    r.verdict.pass ? 'pass' : `FAIL: ${r.verdict.failures.join('; ')}`,
    String(s?.published ?? '-'),
    String(s?.applied ?? '-'),
    s ? `${s.lost}${s.stuck > 0 ? ` (+${s.stuck} stuck)` : ''}` : '-',
    String(r.dlq?.valid ?? '-'),
    resurrectedCell(r.resurrected, r.audit?.writtenBackAfterApply),
    s ? `${s.staleReads} / ${s.readsChecked} (${s.staleOutsideWindow})` : '-',
    r.audit ? `${r.audit.inconsistent} / ${r.audit.checked} (${r.audit.outsideWindow})` : '-',
    `${r.originPeakPerS ?? '-'} / ${r.originBudgetPerS}`,
    msOr(s?.lagP99DuringFaultMs),
    secs(s?.recoveryMs),
    afterReachableCell(s),
  ];
}

/** A repetition's recovery after reachable, with the fleet's share and the delivery lag when known. */
function afterReachableCell(s: RepetitionResult['summary']): string {
  const own = s?.recoveryAfterReachableFleetMs;
  if (typeof own !== 'number') return secs(s?.recoveryAfterReachableMs);
  return `${secs(s?.recoveryAfterReachableMs)} (fleet ${secs(own)}; delivery p99 ${secs(s?.deliveryLagP99InFaultMs)})`;
}

/** p50, max and the count within the target, over the repetitions that have the figure. */
function afterReachableTotal(t: DrillTotal): string {
  const target = `<= ${RECOVERY_AFTER_REACHABLE_MS / 1000} s`;
  if (t.recoveryAfterReachableMaxMs === null) return '-';
  const drill =
    t.recoveryAfterReachableP50Ms === undefined
      ? secs(t.recoveryAfterReachableMaxMs)
      : `p50 ${secs(t.recoveryAfterReachableP50Ms)}, max ${secs(t.recoveryAfterReachableMaxMs)}, ${t.recoveryAfterReachableWithinTarget ?? 0}/${t.repetitions} ${target}`;
  if (typeof t.recoveryAfterReachableFleetMaxMs !== 'number') return drill;
  return `${drill}; fleet p50 ${secs(t.recoveryAfterReachableFleetP50Ms)}, max ${secs(t.recoveryAfterReachableFleetMaxMs)}, ${t.recoveryAfterReachableFleetWithinTarget ?? 0}/${t.repetitions} ${target}`;
}

export function totalRow(t: DrillTotal): string[] {
  return [
    t.drill,
    t.profile,
    t.design,
    `x${t.repetitions}`,
    `${t.passed}/${t.repetitions} pass`,
    String(t.published),
    String(t.applied),
    `${t.lost}${t.stuck > 0 ? ` (+${t.stuck} stuck)` : ''}`,
    String(t.dlqValid),
    resurrectedCell(t.resurrected, t.writtenBackInRun),
    `${t.staleReads} / ${t.readsChecked} (${t.staleOutsideWindow})`,
    `${t.auditInconsistent} / ${t.auditChecked} (${t.auditOutsideWindow})`,
    `${t.originPeakPerS ?? '-'} / ${t.originBudgetPerS}`,
    msOr(t.lagP99DuringFaultMaxMs),
    t.recoveryP50Ms === null ? '-' : `p50 ${secs(t.recoveryP50Ms)}, max ${secs(t.recoveryMaxMs)}`,
    afterReachableTotal(t),
  ];
}

/** A plain-text table (also valid as a Markdown table with `markdown`). */
export function formatTable(rows: readonly (readonly string[])[], markdown = false): string {
  const all = [[...TABLE_HEADER], ...rows];
  if (markdown) {
    const line = (r: readonly string[]) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
    return [line(all[0] ?? []), line(TABLE_HEADER.map(() => '---')), ...rows.map(line)].join('\n');
  }
  const widths = TABLE_HEADER.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')).join('\n');
}

export interface RunRecord {
  readonly command: string;
  readonly machine: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly options: Record<string, unknown>;
  readonly totals: readonly DrillTotal[];
  readonly repetitions: readonly RepetitionResult[];
}

export function writeRun(dir: string, run: RunRecord): { json: string; html: string; table: string } {
  const json = join(dir, 'drills.json');
  const html = join(dir, 'drills.html');
  const table = join(dir, 'drills.txt');
  writeFileSync(json, `${JSON.stringify(run, null, 2)}\n`);
  const rows = [...run.repetitions.map(repetitionRow), ...run.totals.map(totalRow)];
  writeFileSync(table, `${run.command}\n${run.machine}\n\n${formatTable(rows)}\n`);
  writeFileSync(html, renderHtml(run));
  return { json, html, table };
}

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

/** One SVG panel of a per-second series, the fault window shaded. */
function panel(
  r: RepetitionResult,
  label: string,
  value: (p: RepetitionResult['timeline'][number]) => number | null,
  color: string,
  limit?: number,
): string {
  const W = 760;
  const H = 110;
  const L = 46;
  const pts = r.timeline;
  const n = Math.max(1, pts.length);
  const values = pts.map(value);
  const top = Math.max(1, limit ?? 0, ...values.map((v) => v ?? 0)) * 1.1;
  const x = (s: number) => L + (s / n) * (W - L - 8);
  const y = (v: number) => H - 18 - (v / top) * (H - 30);
  const fault = r.faultS
    ? `<rect x="${x(r.faultS.from)}" y="8" width="${Math.max(2, x(r.faultS.to) - x(r.faultS.from))}" height="${H - 26}" fill="#f4c7c3" opacity="0.6"/>` +
      `<line x1="${x(r.faultS.from)}" x2="${x(r.faultS.from)}" y1="8" y2="${H - 18}" stroke="#c5221f" stroke-width="1.5"/>`
    : '';
  const path = values
    .map((v, i) => (v === null ? null : `${x(i + 0.5).toFixed(1)},${y(v).toFixed(1)}`))
    .filter(Boolean)
    .join(' ');
  const lim =
    limit === undefined
      ? ''
      : `<line x1="${L}" x2="${W - 8}" y1="${y(limit)}" y2="${y(limit)}" stroke="#c5221f" stroke-dasharray="4 3"/>`;
  return `<svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="10">
${fault}${lim}
<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${path}"/>
<line x1="${L}" x2="${L}" y1="8" y2="${H - 18}" stroke="#999"/><line x1="${L}" x2="${W - 8}" y1="${H - 18}" y2="${H - 18}" stroke="#999"/>
<text x="2" y="14">${esc(label)}</text><text x="2" y="${H - 20}">0</text><text x="2" y="26">${Math.round(top / 1.1)}</text>
<text x="${L}" y="${H - 4}">0 s</text><text x="${W - 40}" y="${H - 4}">${n} s</text>
</svg>`;
}

export function renderHtml(run: RunRecord): string {
  const rows = [...run.repetitions.map(repetitionRow), ...run.totals.map(totalRow)];
  const table = `<table><tr>${TABLE_HEADER.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
  const charts = run.repetitions
    .map(
      (
        r,
      ) => `<section><h3>${esc(`${r.drill} (${r.profile}, ${r.design}) #${r.repetition}: ${r.verdict.pass ? 'pass' : 'FAIL'}`)}</h3>
${panel(r, 'lag p99 ms', (p) => p.lagP99Ms, '#1a73e8')}
${panel(r, 'origin calls/s', (p) => p.originCalls, '#188038', r.originBudgetPerS)}
${panel(r, 'stale reads/s', (p) => p.staleReads, '#e37400')}
${panel(r, 'worker RSS MiB', (p) => p.rssMaxMiB, '#9334e6')}
</section>`,
    )
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>chaos drills</title>
<style>body{font-family:sans-serif;margin:16px}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}section{margin-top:12px}</style>
</head><body><h1>Chaos drills</h1><p><code>${esc(run.command)}</code><br>${esc(run.machine)}<br>${esc(run.startedAt)} to ${esc(run.finishedAt)}. The shaded band is the fault, from its injection to recovery; the dashed line the origin's budget.</p>
${table}${charts}</body></html>
`;
}
