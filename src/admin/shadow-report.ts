/**
 * The fleet's shadow report: the `GET /shadow.json` of every worker (shadow-evaluator.ts)
 * summed into one, and its text. Workers running another candidate (or none) are listed, not
 * summed: adding counts of two different candidates would describe neither.
 */
import type { ShadowReport, ShadowSample } from '../worker/shadow-evaluator.ts';

type Sides = { candidateOnly: number; liveOnly: number };

/** The merged report. */
export interface FleetShadowReport {
  /** The candidate summed (the one most workers run), or null when none runs one. */
  readonly candidate: Record<string, unknown> | null;
  readonly workers: readonly string[];
  /** Workers answering with shadow mode off, or with another candidate. */
  readonly otherWorkers: readonly { readonly url: string; readonly why: string }[];
  readonly failed: readonly { readonly url: string; readonly error: string }[];
  readonly since: string | null;
  readonly batches: number;
  readonly batchesDiffering: number;
  readonly messages: number;
  readonly errors: number;
  readonly deletes: { live: number; candidate: number } & Sides;
  readonly fences: { live: number; candidate: number } & Sides;
  readonly byFamily: Record<string, Sides>;
  readonly decisions: Record<string, number>;
  readonly samples: readonly (ShadowSample & { readonly instance: string })[];
}

/** True when `body` is a report of a worker with shadow mode on. */
export function isShadowReport(body: unknown): body is ShadowReport {
  const b = body as Partial<ShadowReport> | null;
  return (
    typeof b === 'object' &&
    b !== null &&
    b.enabled === true &&
    typeof b.batches === 'number' &&
    typeof b.deletes === 'object' &&
    Array.isArray(b.samples)
  );
}

/** Sums the reports of the workers that run the same candidate (see the header). */
export function mergeShadowReports(
  answers: readonly { readonly url: string; readonly body: unknown }[],
  failed: readonly { readonly url: string; readonly error: string }[] = [],
  sampleLimit = 20,
): FleetShadowReport {
  const reports: (ShadowReport & { url: string })[] = [];
  const otherWorkers: { url: string; why: string }[] = [];
  for (const a of answers) {
    if (isShadowReport(a.body)) reports.push({ ...a.body, url: a.url });
    else otherWorkers.push({ url: a.url, why: 'shadow mode is off' });
  }
  // The candidate most workers run is the one reported.
  const byCandidate = new Map<string, (ShadowReport & { url: string })[]>();
  for (const r of reports) {
    const key = JSON.stringify(r.candidate);
    byCandidate.set(key, [...(byCandidate.get(key) ?? []), r]);
  }
  const [first] = [...byCandidate.values()].sort((a, b) => b.length - a.length);
  const summed = first ?? [];
  for (const r of reports)
    if (!summed.includes(r))
      otherWorkers.push({ url: r.url, why: `another candidate (${JSON.stringify(r.candidate)})` });

  const zero = () => ({ live: 0, candidate: 0, candidateOnly: 0, liveOnly: 0 });
  const deletes = zero();
  const fences = zero();
  const byFamily: Record<string, Sides> = {};
  const decisions: Record<string, number> = {};
  const samples: (ShadowSample & { instance: string })[] = [];
  let batches = 0;
  let differing = 0;
  let messages = 0;
  let errors = 0;
  for (const r of summed) {
    batches += r.batches;
    differing += r.batchesDiffering;
    messages += r.messages;
    errors += r.errors;
    for (const k of Object.keys(deletes) as (keyof typeof deletes)[]) {
      deletes[k] += r.deletes[k];
      fences[k] += r.fences[k];
    }
    for (const [family, s] of Object.entries(r.byFamily)) {
      const t = (byFamily[family] ??= { candidateOnly: 0, liveOnly: 0 });
      t.candidateOnly += s.candidateOnly;
      t.liveOnly += s.liveOnly;
    }
    for (const [pair, n] of Object.entries(r.decisions)) decisions[pair] = (decisions[pair] ?? 0) + n;
    samples.push(...r.samples.map((s) => ({ ...s, instance: r.instance })));
  }
  samples.sort((a, b) => a.at.localeCompare(b.at));
  const since = summed.map((r) => r.since).sort()[0] ?? null;
  return {
    candidate: summed[0]?.candidate ?? null,
    workers: summed.map((r) => r.url),
    otherWorkers,
    failed,
    since,
    batches,
    batchesDiffering: differing,
    messages,
    errors,
    deletes,
    fences,
    byFamily,
    decisions,
    samples: samples.slice(-sampleLimit),
  };
}

/** The report as text: the verdict first, then the counts, then a few samples. */
export function formatShadowReport(r: FleetShadowReport, samples = 3): string {
  if (r.candidate === null) {
    const lines = ['shadow mode is off on every worker that answered (set WORKER_SHADOW_CONTRACT)'];
    for (const f of r.failed) lines.push(`! ${f.url}: ${f.error}`);
    return lines.join('\n');
  }
  const verdict =
    r.deletes.liveOnly > 0 || r.fences.liveOnly > 0
      ? `UNSAFE to switch: the candidate would NOT delete ${r.deletes.liveOnly} keys the live contract deletes (they would stay stale)`
      : r.decisions['apply->poison'] !== undefined
        ? `UNSAFE to switch: the candidate would dead-letter ${r.decisions['apply->poison']} messages the live contract applies`
        : `no key the live contract deletes is missed by the candidate; it adds ${r.deletes.candidateOnly} deletes`;
  const lines = [
    `shadow candidate ${JSON.stringify(r.candidate)} on ${r.workers.length} worker(s) since ${r.since ?? '?'}`,
    verdict,
    `batches ${r.batches} (${r.batchesDiffering} differ), messages ${r.messages}, shadow errors ${r.errors}`,
    `key deletes: live ${r.deletes.live}, candidate ${r.deletes.candidate}, candidate only ${r.deletes.candidateOnly}, live only ${r.deletes.liveOnly}`,
    `fence bumps: live ${r.fences.live}, candidate ${r.fences.candidate}, candidate only ${r.fences.candidateOnly}, live only ${r.fences.liveOnly}`,
  ];
  for (const [family, s] of Object.entries(r.byFamily))
    lines.push(`  ${family}: candidate only ${s.candidateOnly}, live only ${s.liveOnly}`);
  for (const [pair, n] of Object.entries(r.decisions)) lines.push(`  decisions ${pair}: ${n}`);
  for (const s of r.samples.slice(-samples)) {
    lines.push(`sample ${s.at} ${s.instance} ${s.queue}: +${s.candidateOnly} -${s.liveOnly}`);
    for (const k of s.candidateOnlyKeys.slice(0, 5)) lines.push(`    + ${k}`);
    for (const k of s.liveOnlyKeys.slice(0, 5)) lines.push(`    - ${k}`);
  }
  for (const o of r.otherWorkers) lines.push(`(not summed) ${o.url}: ${o.why}`);
  for (const f of r.failed) lines.push(`! ${f.url}: ${f.error}`);
  return lines.join('\n');
}
