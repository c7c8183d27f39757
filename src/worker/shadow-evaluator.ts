/**
 * Shadow mode: for every batch the worker planned with the live contract, the same messages
 * are planned again with the candidate (shadow-contract.ts), and the difference is recorded,
 * never applied: the keys the candidate would delete that the live plan does not
 * (`candidateOnly`: what switching would add), the keys only the live plan deletes
 * (`liveOnly`: what switching would leave stale, the dangerous side), the same for fences,
 * and the messages whose decision differs (apply, poison, ignore). Counters since start go
 * to the metrics and to `GET /shadow.json` (shadow-routes.ts); the last differing batches are
 * kept as samples with their keys.
 *
 * The live path is never touched: the candidate plan is computed after the live batch was
 * handled, on its own copy of the messages; a failure in it is counted and logged, not thrown.
 * Key counts are per batch: a key both plans touch in one batch counts once, a key the
 * candidate alone would delete in two batches counts twice (it would be two UNLINKs).
 */
import type { Logger } from 'pino';
import type { FamilyName, InvalidationPlan, MessageDecision } from '../core/invalidation-plan.ts';
import { planBatch, type IncomingMessage } from '../core/invalidation-planner.ts';
import { describeCandidate, type ShadowPlanner } from './shadow-contract.ts';

/** Samples kept (the newest differing batches). */
export const DEFAULT_SHADOW_SAMPLES = 50;
/** Keys kept per side in one sample. */
export const SAMPLE_KEYS = 20;

/** The difference between the live and the candidate plan of one batch (pure). */
export interface PlanDiff {
  readonly liveDeletes: number;
  readonly candidateDeletes: number;
  readonly candidateOnly: readonly { readonly key: string; readonly family: FamilyName }[];
  readonly liveOnly: readonly { readonly key: string; readonly family: FamilyName }[];
  readonly liveFences: number;
  readonly candidateFences: number;
  readonly fencesCandidateOnly: readonly string[];
  readonly fencesLiveOnly: readonly string[];
  /** `live->candidate` decision kinds of the messages where they differ. */
  readonly decisions: readonly string[];
}

/** Compares two plans of the same messages (decisions in the same order). */
export function diffPlans(live: InvalidationPlan, candidate: InvalidationPlan): PlanDiff {
  const keysOf = (plan: InvalidationPlan) => {
    const keys = new Map<string, FamilyName>();
    const fences = new Set<string>();
    for (const e of plan.effects) {
      for (const k of e.unlink) keys.set(k, e.family);
      fences.add(e.fence);
    }
    return { keys, fences };
  };
  const l = keysOf(live);
  const c = keysOf(candidate);
  const only = (a: Map<string, FamilyName>, b: Map<string, FamilyName>) =>
    [...a].filter(([k]) => !b.has(k)).map(([key, family]) => ({ key, family }));
  const decisions: string[] = [];
  live.decisions.forEach((d: MessageDecision, i) => {
    const other = candidate.decisions[i];
    if (other !== undefined && other.kind !== d.kind) decisions.push(`${d.kind}->${other.kind}`);
  });
  return {
    liveDeletes: l.keys.size,
    candidateDeletes: c.keys.size,
    candidateOnly: only(c.keys, l.keys),
    liveOnly: only(l.keys, c.keys),
    liveFences: l.fences.size,
    candidateFences: c.fences.size,
    fencesCandidateOnly: [...c.fences].filter((f) => !l.fences.has(f)),
    fencesLiveOnly: [...l.fences].filter((f) => !c.fences.has(f)),
    decisions,
  };
}

/** Where shadow results go besides the report (Prometheus: prometheus-metrics.ts). */
export interface ShadowMetrics {
  shadowCompared(observation: ShadowObservation): void;
}

/** One compared batch, for the metrics. */
export interface ShadowObservation {
  readonly result: 'same' | 'different' | 'error';
  /** Keys per family and side (only non-zero entries). */
  readonly keys: readonly {
    readonly family: FamilyName;
    readonly side: 'candidate_only' | 'live_only';
    readonly count: number;
  }[];
  readonly decisions: readonly { readonly live: string; readonly candidate: string }[];
}

/** One differing batch, kept as a sample. */
export interface ShadowSample {
  readonly at: string;
  readonly queue: string;
  readonly eventIds: readonly string[];
  readonly candidateOnly: number;
  readonly liveOnly: number;
  /** The first {@link SAMPLE_KEYS} keys of each side (keys are built from validated identifiers). */
  readonly candidateOnlyKeys: readonly string[];
  readonly liveOnlyKeys: readonly string[];
  readonly decisions: readonly string[];
}

type Sides = { candidateOnly: number; liveOnly: number };

/** What `GET /shadow.json` returns: counters since the worker started. */
export interface ShadowReport {
  readonly enabled: true;
  readonly instance: string;
  readonly candidate: Record<string, unknown>;
  readonly since: string;
  readonly batches: number;
  readonly batchesDiffering: number;
  readonly messages: number;
  readonly errors: number;
  readonly deletes: { readonly live: number; readonly candidate: number } & Sides;
  readonly fences: { readonly live: number; readonly candidate: number } & Sides;
  readonly byFamily: Readonly<Record<string, Sides>>;
  readonly decisions: Readonly<Record<string, number>>;
  readonly samples: readonly ShadowSample[];
}

export interface ShadowEvaluatorOptions {
  readonly planner: ShadowPlanner;
  readonly instance: string;
  readonly metrics?: ShadowMetrics;
  readonly logger?: Pick<Logger, 'warn' | 'info'>;
  readonly samples?: number;
  readonly now?: () => number;
}

/** Compares each batch's live plan with the candidate's; see the header. */
export class ShadowEvaluator {
  readonly #o: ShadowEvaluatorOptions;
  readonly #now: () => number;
  readonly #since: number;
  readonly #samples: ShadowSample[] = [];
  #batches = 0;
  #differing = 0;
  #messages = 0;
  #errors = 0;
  readonly #deletes = { live: 0, candidate: 0, candidateOnly: 0, liveOnly: 0 };
  readonly #fences = { live: 0, candidate: 0, candidateOnly: 0, liveOnly: 0 };
  readonly #byFamily = new Map<string, Sides>();
  readonly #decisions = new Map<string, number>();

  constructor(options: ShadowEvaluatorOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#since = this.#now();
  }

  /** Plans `messages` with the candidate and records the difference from `live`; never throws. */
  observe(queue: string, messages: readonly IncomingMessage[], live: InvalidationPlan): void {
    let diff: PlanDiff;
    try {
      const { keys, maxBodyBytes } = this.#o.planner;
      const candidate = planBatch(messages, keys, maxBodyBytes === undefined ? {} : { maxBodyBytes });
      diff = diffPlans(live, candidate);
    } catch (err) {
      this.#errors += 1;
      this.#o.logger?.warn({ err, queue }, 'shadow plan failed (the live plan is unaffected)');
      this.#metric({ result: 'error', keys: [], decisions: [] });
      return;
    }
    this.#batches += 1;
    this.#messages += messages.length;
    this.#deletes.live += diff.liveDeletes;
    this.#deletes.candidate += diff.candidateDeletes;
    this.#deletes.candidateOnly += diff.candidateOnly.length;
    this.#deletes.liveOnly += diff.liveOnly.length;
    this.#fences.live += diff.liveFences;
    this.#fences.candidate += diff.candidateFences;
    this.#fences.candidateOnly += diff.fencesCandidateOnly.length;
    this.#fences.liveOnly += diff.fencesLiveOnly.length;
    const perFamily = new Map<FamilyName, Sides>();
    const add = (family: FamilyName, side: keyof Sides) => {
      const total = this.#byFamily.get(family) ?? { candidateOnly: 0, liveOnly: 0 };
      total[side] += 1;
      this.#byFamily.set(family, total);
      const batch = perFamily.get(family) ?? { candidateOnly: 0, liveOnly: 0 };
      batch[side] += 1;
      perFamily.set(family, batch);
    };
    for (const k of diff.candidateOnly) add(k.family, 'candidateOnly');
    for (const k of diff.liveOnly) add(k.family, 'liveOnly');
    for (const d of diff.decisions) this.#decisions.set(d, (this.#decisions.get(d) ?? 0) + 1);

    const different =
      diff.candidateOnly.length +
        diff.liveOnly.length +
        diff.fencesCandidateOnly.length +
        diff.fencesLiveOnly.length +
        diff.decisions.length >
      0;
    this.#metric({
      result: different ? 'different' : 'same',
      keys: [...perFamily].flatMap(([family, s]) => [
        ...(s.candidateOnly > 0 ? [{ family, side: 'candidate_only' as const, count: s.candidateOnly }] : []),
        ...(s.liveOnly > 0 ? [{ family, side: 'live_only' as const, count: s.liveOnly }] : []),
      ]),
      decisions: diff.decisions.map((d) => {
        const [l = '', c = ''] = d.split('->');
        return { live: l, candidate: c };
      }),
    });
    if (!different) return;
    this.#differing += 1;
    this.#samples.push({
      at: new Date(this.#now()).toISOString(),
      queue,
      eventIds: live.decisions
        .flatMap((d) => (d.kind === 'apply' || d.kind === 'ignore' ? [d.eventId] : []))
        .slice(0, SAMPLE_KEYS),
      candidateOnly: diff.candidateOnly.length,
      liveOnly: diff.liveOnly.length,
      candidateOnlyKeys: diff.candidateOnly.slice(0, SAMPLE_KEYS).map((k) => k.key),
      liveOnlyKeys: diff.liveOnly.slice(0, SAMPLE_KEYS).map((k) => k.key),
      decisions: diff.decisions.slice(0, SAMPLE_KEYS),
    });
    const max = this.#o.samples ?? DEFAULT_SHADOW_SAMPLES;
    if (this.#samples.length > max) this.#samples.splice(0, this.#samples.length - max);
  }

  /** The counters since start and the samples (newest last). */
  report(): ShadowReport {
    return {
      enabled: true,
      instance: this.#o.instance,
      candidate: describeCandidate(this.#o.planner.candidate),
      since: new Date(this.#since).toISOString(),
      batches: this.#batches,
      batchesDiffering: this.#differing,
      messages: this.#messages,
      errors: this.#errors,
      deletes: { ...this.#deletes },
      fences: { ...this.#fences },
      byFamily: Object.fromEntries([...this.#byFamily].map(([f, s]) => [f, { ...s }])),
      decisions: Object.fromEntries(this.#decisions),
      samples: [...this.#samples],
    };
  }

  #metric(observation: ShadowObservation): void {
    try {
      this.#o.metrics?.shadowCompared(observation);
    } catch {
      // Metrics never fail a batch, live or shadow.
    }
  }
}
