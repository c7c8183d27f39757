/**
 * What every story measures over its reads: the demo Orchestrator's traces of the design's
 * run judged by the read-staleness checker against the origin's version history, and the
 * background change stream that gives the checker something to judge.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkReadStaleness } from '../consistency/read-staleness.ts';
import type { ReadRecord, StalenessReport } from '../consistency/read-staleness.ts';
import { readTraceFiles } from '../consistency/read-trace-file.ts';
import { mulberry32 } from '../origin-sim/deterministic-random.ts';
import type { HistorySnapshot } from '../origin-sim/version-history.ts';
import { asinOf } from '../orchestrator-sim/workload.ts';
import type { DesignEnv } from './scenario-world.ts';
import { parseL1Heard, splitStaleReads } from './stale-read-split.ts';
import type { L1Heard, StaleRead, StaleSplit } from './stale-read-split.ts';

export interface ReadAnalysis {
  readonly reads: readonly ReadRecord[];
  readonly history: HistorySnapshot;
  readonly staleness: StalenessReport;
  /** Trace lines that could not be read. */
  readonly bad: number;
}

/** The origin's history of this design's run. */
export async function fetchHistory(originUrl: string): Promise<HistorySnapshot> {
  const res = await fetch(`${originUrl}/_sim/history`);
  if (!res.ok) throw new Error(`origin /_sim/history answered ${res.status}`);
  return (await res.json()) as HistorySnapshot;
}

/** Reads the run's traces and judges them. */
export async function analyzeReads(env: DesignEnv, lagWindowMs: number): Promise<ReadAnalysis> {
  const files = readdirSync(env.traceDir)
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => join(env.traceDir, f));
  const [{ reads, bad }, history] = await Promise.all([readTraceFiles(files), fetchHistory(env.originUrl)]);
  return { reads, history, bad, staleness: checkReadStaleness(reads, history, { lagWindowMs }) };
}

/** What each reader's L1 heard (its `reader-<n>.l1.ndjson`), by reader process index. */
export function readL1Heard(env: DesignEnv): Map<number, L1Heard[]> {
  const heard = new Map<number, L1Heard[]>();
  for (const f of readdirSync(env.traceDir)) {
    const m = /^reader-(\d+)\.l1\.ndjson$/.exec(f);
    if (m !== null) heard.set(Number(m[1]), parseL1Heard(readFileSync(join(env.traceDir, f), 'utf8')));
  }
  return heard;
}

/**
 * Where the time went for every read of this run stale beyond `lagWindowMs`
 * (stale-read-split.ts): undefined for a design without the apply tap (no event-driven
 * worker or no cache client).
 */
export function staleReadSplit(
  env: DesignEnv,
  analysis: ReadAnalysis,
  lagWindowMs: number,
): StaleSplit | undefined {
  if (env.tap === undefined || env.worker === undefined) return undefined;
  const all = checkReadStaleness(analysis.reads, analysis.history, { lagWindowMs, examples: Infinity });
  const stale: StaleRead[] = all.families.flatMap((f) => f.examples.map((e) => ({ ...e, family: f.family })));
  const heard = readL1Heard(env);
  // The inputs that are not in the trace directory already, for a later look (--keep-traces).
  writeFileSync(
    join(env.traceDir, 'split-inputs.json'),
    JSON.stringify({
      changes: env.changes,
      broadcastAt: Object.fromEntries(env.tap.appliedAt),
      history: analysis.history,
    }),
  );
  return splitStaleReads({
    stale,
    history: analysis.history,
    changes: env.changes,
    applied: env.worker.applied,
    broadcastAt: env.tap.appliedAt,
    heard,
    lagWindowMs,
  });
}

/**
 * How many times the readers' cache client opened its Redis breaker (logged "redis
 * unavailable"): from then on for a second its reads skip Redis, L1 and the lease, and go to
 * the origin. On a starved CPU an event-loop stall past the 250 ms Redis deadline does it.
 */
export function redisBreakerOpenings(env: DesignEnv): number {
  let n = 0;
  for (const f of readdirSync(env.traceDir).filter((x) => x.endsWith('.log')))
    for (const line of readFileSync(join(env.traceDir, f), 'utf8').split('\n'))
      if (line.includes('redis unavailable')) n++;
  return n;
}

/** A background stream of origin changes: product updates in the hot set, sessions of users. */
export interface ChangeStream {
  readonly changes: number;
  readonly failures: number;
  stop(): Promise<void>;
}

export function startChangeStream(
  env: DesignEnv,
  o: { perSecond: number; hotProducts: number; users: number; seed: number; productShare?: number },
): ChangeStream {
  const random = mulberry32(o.seed);
  let changes = 0;
  let failures = 0;
  const pending = new Set<Promise<void>>();
  const tickMs = 100;
  let due = 0;
  const timer = setInterval(() => {
    due += (o.perSecond * tickMs) / 1000;
    for (; due >= 1; due--) {
      const body =
        random() < (o.productShare ?? 0.75)
          ? { family: 'product', id: asinOf(Math.floor(random() * o.hotProducts)) }
          : { family: 'session', id: `user-${Math.floor(random() * o.users)}` };
      const p = env
        .change(body)
        .then(() => void changes++)
        .catch(() => void failures++)
        .finally(() => pending.delete(p));
      pending.add(p);
    }
  }, tickMs);
  return {
    get changes() {
      return changes;
    },
    get failures() {
      return failures;
    },
    async stop() {
      clearInterval(timer);
      await Promise.all([...pending]);
    },
  };
}

/** "12.3 %"-style share, with enough digits for small fractions. */
export function share(n: number, of: number): string {
  if (of === 0) return 'n/a';
  const f = n / of;
  if (f === 0) return '0';
  if (f < 1e-4) return f.toExponential(1);
  return `${(f * 100).toFixed(f < 0.01 ? 3 : 1)} %`;
}
