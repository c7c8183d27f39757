/**
 * Runs drills: per drill (and profile) one private messaging topology (the stack's CDK
 * construct under a random prefix) and, when the drill needs one, a private Toxiproxy; per
 * repetition a fresh world (drill-world.ts): warm-up under load, the fault, the load through
 * recovery, the drain, the checks. Each repetition yields its figures and its verdict.
 * With several designs (drill-designs.ts), each design's repetitions follow ours on the same
 * topology, each in its own world; only the readers' mode and L1 differ.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import {
  deployMessagingLocally,
  type DeployedMessaging,
} from '../../infra/lib/messaging/deploy-messaging-locally.ts';
import type { LocalStackDescription } from '../local/env-file.ts';
import type { SentinelProfile } from '../local/private-sentinel-group.ts';
import type { DesignName } from '../scenarios/designs.ts';
import { parseAppliedLine } from '../scenarios/fleet-processes.ts';
import { readerL1Flushes, type DrillSize, type DrillSpec } from './drill-catalogue.ts';
import { designRuns, OURS, readersOf, type DesignRun } from './drill-designs.ts';
import {
  auditOwnWindow,
  percentile,
  RECOVERY_AFTER_REACHABLE_MS,
  slope,
  summarise,
  type FaultWindow,
  type Summary,
  writtenBackAfterApply,
} from './drill-summary.ts';
import { startWorld, type World } from './drill-world.ts';
import { startNetworkFaults, type NetworkFaults } from './network-faults.ts';
import { staleReads } from './stale-reads.ts';

/** The task's memory limit in the stack (infra) and the soak's bound on a worker's RSS. */
export const TASK_MEMORY_MIB = 512;
export const RSS_LIMIT_SHARE = 0.6;
/** The soak's RSS counts after this share of the run (warm-up). */
const SOAK_WARMUP_SHARE = 1 / 6;
/** Flat: the RSS trend after warm-up, MiB per minute, at most this (full size). */
export const RSS_FLAT_MIB_PER_MIN = 1;
/** Stale reads beyond the lag window, outside a drill's own window: the auditor's 6-nines goal. */
export const STALE_GOAL = 1e-6;
export { RECOVERY_AFTER_REACHABLE_MS } from './drill-summary.ts';

export interface RunOptions {
  readonly stack: LocalStackDescription;
  readonly size: DrillSize;
  /** Repetitions of our design (default: the drill's full count; 1 at the short size). */
  readonly repeat?: number;
  /**
   * The designs and their repetitions (drill-designs.ts `designRuns`); default ours alone,
   * `repeat` times. Each repetition of each design has its own world.
   */
  readonly runs?: readonly DesignRun[];
  readonly profile?: SentinelProfile;
  readonly eventsPerS: number;
  readonly readsPerS: number;
  readonly workers: number;
  readonly readers: number;
  readonly originBudgetPerS: number;
  readonly lagWindowMs: number;
  readonly catalogSize: number;
  readonly users: number;
  readonly outDir: string;
  /** A topology to use instead of deploying one per drill (the e2e test shares one; still private to it). */
  readonly messaging?: DeployedMessaging;
  /** Sentinel's down-after for every drill (default: each drill's and profile's own). */
  readonly downAfterMs?: number;
  /** The soak's length instead of its own (30 min full, 12 s short). */
  readonly soakMs?: number;
  /** The workers' canary interval and the readers' guard margin (default 250; 0: no canaries, no guard). */
  readonly canaryIntervalMs?: number;
  /** Extra worker variables (the CLI's --worker-log-level sets WORKER_LOG_LEVEL). */
  readonly workerEnv?: Readonly<Record<string, string>>;
  readonly log: (line: string) => void;
  /** Called after each repetition (the CLI prints its row). */
  readonly onRepetition?: (r: RepetitionResult) => void;
}

export interface SecondPoint {
  /** Seconds since the repetition started. */
  readonly s: number;
  readonly published: number;
  readonly applied: number;
  readonly lagP99Ms: number | null;
  readonly originCalls: number;
  readonly staleReads: number;
  readonly readyWorkers: number;
  readonly rssMaxMiB: number | null;
}

export interface RepetitionResult {
  readonly drill: string;
  readonly profile: SentinelProfile;
  /** The design the readers ran (src/scenarios/designs.ts): ours unless the run compares designs. */
  readonly design: DesignName;
  readonly repetition: number;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly summary: Summary | null;
  /** Events counted applied from the workers' logs alone: the broadcast tap did not hear them. */
  readonly appliedUnheardByTap?: number;
  readonly dlq: { readonly total: number; readonly valid: number } | null;
  /** The consistency auditor's checks (entity x window after the origin time) and what it found. */
  readonly audit?: {
    readonly checked: number;
    readonly inconsistent: number;
    /** Inconsistencies whose event lies outside the drill's own window. */
    readonly outsideWindow: number;
    /** Those checks per tier that held a stale value (primary, replica, l1); a check may count in several. */
    readonly outsideWindowByTier?: Readonly<Record<string, number>>;
    /** Origin times whose findings are the fault's own (auditOwnWindow); null: none. */
    readonly ownWindow?: { readonly from: number; readonly to: number } | null;
    /** L2 values written back after the fleet applied their invalidation (drill-summary.ts `writtenBackAfterApply`). */
    readonly writtenBackAfterApply?: number;
    readonly missed: number;
    readonly byFamilyWindow: unknown;
    readonly findingsSample: readonly unknown[];
  };
  readonly resurrected: number | null;
  readonly resurrectedSample: readonly unknown[];
  readonly originPeakPerS: number | null;
  readonly originPeakByEndpoint: Readonly<Record<string, number>>;
  readonly originBudgetPerS: number;
  readonly drained: boolean;
  readonly rss: { readonly maxMiB: number | null; readonly slopeMiBPerMin: number | null };
  readonly fault: FaultWindow | null;
  /** Fault window relative to the start (s), for the chart. */
  readonly faultS: { readonly from: number; readonly to: number } | null;
  readonly timeline: readonly SecondPoint[];
  readonly verdict: { readonly pass: boolean; readonly failures: readonly string[] };
  readonly error?: string;
}

/** How long after the load stops every event must be applied and the queues empty. */
const DRAIN_DEADLINE_MS = 90_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** What the workers' debug log says of each event ("invalidation applied", first line per event). */
export interface LoggedApplies {
  /** SQS enqueue time (SentTimestamp), where the line has one. */
  readonly deliveredAt: Map<string, number>;
  /** When it was applied: its broadcast, or its deletes confirmed when the line has no broadcast time. */
  readonly appliedAt: Map<string, number>;
}

/**
 * The workers' "invalidation applied" lines (worker log level debug, the drills' default)
 * under `logDir`; undefined when no worker logged one (info level) or the folder is missing.
 */
export function appliedFromWorkerLogs(logDir: string): LoggedApplies | undefined {
  const deliveredAt = new Map<string, number>();
  const appliedAt = new Map<string, number>();
  let files: string[];
  try {
    files = readdirSync(logDir).filter((f) => /^worker-\d+\.log$/.test(f));
  } catch {
    return undefined;
  }
  for (const file of files)
    for (const line of readFileSync(join(logDir, file), 'utf8').split('\n')) {
      const a = parseAppliedLine(line);
      if (a === undefined || appliedAt.has(a.eventId)) continue;
      appliedAt.set(a.eventId, a.broadcastAtMs ?? a.deleteConfirmedAtMs);
      if (a.sqsSentAtMs !== undefined) deliveredAt.set(a.eventId, a.sqsSentAtMs);
    }
  return appliedAt.size > 0 ? { deliveredAt, appliedAt } : undefined;
}

/**
 * "Applied" from both witnesses: the broadcast tap (its time kept where it heard the event)
 * and the workers' logs. The tap alone is blind while its subscriptions reconnect, and
 * Sentinel's promotion kills them (CLIENT KILL TYPE pubsub on the promoted replica) just as
 * the workers apply the batches they kept in hand: a CI run counted 5 events of a primary
 * kill "lost" that the workers had applied. An event neither saw is still lost.
 */
export function witnessedApplied(
  tap: ReadonlyMap<string, number>,
  logged: ReadonlyMap<string, number> | undefined,
): { appliedAt: ReadonlyMap<string, number>; onlyInWorkerLogs: number } {
  if (logged === undefined) return { appliedAt: tap, onlyInWorkerLogs: 0 };
  const appliedAt = new Map(tap);
  let onlyInWorkerLogs = 0;
  for (const [id, at] of logged)
    if (!appliedAt.has(id)) {
      appliedAt.set(id, at);
      onlyInWorkerLogs++;
    }
  return { appliedAt, onlyInWorkerLogs };
}

/** The (drill, profile) pairs a run covers. */
export function plan(drills: readonly DrillSpec[], profile: SentinelProfile | undefined) {
  return drills.flatMap((d) =>
    (profile ? [profile] : (d.profiles ?? ['fast'])).map((p) => ({
      drill: d,
      profile: p,
    })),
  );
}

export async function runDrill(
  drill: DrillSpec,
  profile: SentinelProfile,
  o: RunOptions,
): Promise<RepetitionResult[]> {
  const runs =
    o.runs ?? designRuns(drill, { size: o.size, ...(o.repeat === undefined ? {} : { repeat: o.repeat }) });
  const prefix = `drill-${drill.name.slice(0, 10)}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`;
  const own = o.messaging === undefined;
  if (own) o.log(`${drill.name} (${profile}): deploying a private messaging topology ${prefix}`);
  const messaging = o.messaging ?? (await deployPrivateMessaging(o.stack, prefix));
  let faults: NetworkFaults | undefined;
  const results: RepetitionResult[] = [];
  try {
    if (drill.needs?.redisFaults || drill.needs?.localstackFaults) faults = await startNetworkFaults();
    // One design after the other, each repetition in a world of its own: a naive reader's
    // unfenced fill lands in its own Redis group and namespace, never in one ours reads.
    for (const { design, repeat } of runs)
      for (let rep = 1; rep <= repeat; rep++) {
        const r = await runRepetition(drill, profile, design, rep, messaging, faults, o);
        results.push(r);
        o.onRepetition?.(r);
      }
  } finally {
    await faults?.stop();
    if (own) await deletePrivateMessaging(o.stack, messaging);
  }
  return results;
}

/** The stack's messaging construct deployed to LocalStack under `prefix` (visibility timeout 10 s). */
export function deployPrivateMessaging(
  stack: LocalStackDescription,
  prefix: string,
): Promise<DeployedMessaging> {
  return deployMessagingLocally({
    endpoint: stack.localstack.endpoint,
    region: stack.region,
    stackName: `${prefix}-messaging`,
    namePrefix: prefix,
    visibilityTimeoutSeconds: 10,
  });
}

/** Deletes a topology made by deployPrivateMessaging (errors ignored: it is a clean-up). */
export async function deletePrivateMessaging(
  stack: LocalStackDescription,
  messaging: DeployedMessaging,
): Promise<void> {
  const cfn = new CloudFormationClient({
    endpoint: stack.localstack.endpoint,
    region: stack.region,
    credentials,
  });
  await cfn
    .send(new DeleteStackCommand({ StackName: messaging.stackName }))
    .catch(() => undefined)
    .finally(() => cfn.destroy());
}

async function runRepetition(
  drill: DrillSpec,
  profile: SentinelProfile,
  design: DesignRun['design'],
  rep: number,
  messaging: Parameters<typeof startWorld>[0]['messaging'],
  faults: NetworkFaults | undefined,
  o: RunOptions,
): Promise<RepetitionResult> {
  const startedAt = Date.now();
  const ours = design.name === OURS.name;
  const dir = join(o.outDir, `${drill.name}-${profile}-${ours ? '' : `${design.name}-`}${rep}`);
  mkdirSync(dir, { recursive: true });
  const log = (m: string) =>
    o.log(`${drill.name} (${profile}${ours ? '' : `, ${design.name}`}) #${rep}: ${m}`);
  const readers = readersOf(design, drill);
  const soakMs = drill.soakMs === undefined ? undefined : (o.soakMs ?? drill.soakMs(o.size));
  let world: World | undefined;
  const base = {
    drill: drill.name,
    profile,
    design: design.name,
    repetition: rep,
    startedAt,
    originBudgetPerS: o.originBudgetPerS,
  };
  try {
    const downAfterMs = o.downAfterMs ?? drill.needs?.downAfterMs?.(o.size, profile);
    world = await startWorld({
      stack: o.stack,
      messaging,
      profile,
      ...(downAfterMs === undefined ? {} : { downAfterMs }),
      ...(o.canaryIntervalMs === undefined ? {} : { canaryIntervalMs: o.canaryIntervalMs }),
      workers: o.workers,
      readers: o.readers,
      readsPerS: o.readsPerS,
      eventsPerS: o.eventsPerS,
      originBudgetPerS: o.originBudgetPerS,
      lagWindowMs: o.lagWindowMs,
      readerMode: readers.mode,
      l1: readers.l1,
      ...(drill.needs?.redisFaults && faults ? { redisFaults: faults } : {}),
      ...(drill.needs?.localstackFaults && faults ? { localstackFaults: faults } : {}),
      traceDir: join(dir, 'reads'),
      ...(o.workerEnv === undefined ? {} : { workerEnv: { ...o.workerEnv } }),
      seed: startedAt % 100_000,
      catalogSize: o.catalogSize,
      users: o.users,
    });
    const w = world;
    const t0 = Date.now();
    log(`world up in ${t0 - startedAt} ms (namespace ${w.namespace})`);
    const ctx = { world: w, size: o.size, profile, design, lagWindowMs: o.lagWindowMs, log };
    const [prepared] = await Promise.all([
      drill.prepare?.(ctx),
      sleep(drill.warmupMs?.(o.size) ?? (o.size === 'full' ? 10_000 : 2_000)),
    ]);
    await w.resetOriginStats();
    const fault = await drill.inject(ctx);
    log(`fault ${fault.healedAt - fault.injectedAt} ms; load continues`);
    if (soakMs !== undefined) await sleep(soakMs);
    await sleep(o.size === 'full' ? 10_000 : 2_000);
    await w.load.stop();

    // Recovery: every published event applied and the queues empty (or the deadline).
    const deadline = Date.now() + DRAIN_DEADLINE_MS;
    let drained = false;
    let stillQueued = 0;
    let logsReadAt = 0;
    let logged: LoggedApplies | undefined;
    for (;;) {
      const unheard = w.load.published.filter((e) => !w.tap.appliedAt.has(e.eventId));
      const depth = await w.queueDepth().catch(() => -1);
      // The tap may have missed a broadcast: ask the workers' logs (at most every 2 s).
      if (unheard.length > 0 && depth === 0 && Date.now() - logsReadAt > 2_000) {
        logged = appliedFromWorkerLogs(join(dir, 'reads'));
        logsReadAt = Date.now();
      }
      const pending = unheard.filter((e) => !logged?.appliedAt.has(e.eventId)).length;
      if (pending === 0 && depth === 0) {
        drained = true;
        break;
      }
      if (Date.now() > deadline) {
        stillQueued = Math.max(0, depth);
        log(`not drained: ${pending} events not applied, queue depth ${depth}`);
        break;
      }
      await sleep(250);
    }
    // The auditor's last checks come due one window after the last origin time.
    const auditUntil = Date.now() + 15_000;
    while (w.auditor.snapshot().pending > 0 && Date.now() < auditUntil) await sleep(250);
    const audit = w.auditor.snapshot();
    await sleep(1_000);
    const origin = await w.originStats();
    const measured = await drill
      .afterDrain?.(ctx, fault)
      .catch((err: unknown) => ({ afterDrainError: String(err) }));
    // Only our client's L1 flushes (on a gap in the broadcast sequence); the naive L1 lives its TTL.
    const flushes = readers.mode === 'client' ? await readerL1Flushes(w) : undefined;
    const reads = await w.stopReaders();
    const rest = await w.atRest();
    const dlq = await w.drainDeadLetters();
    const staleReport = staleReads(reads, await w.originHistory(), { lagWindowMs: o.lagWindowMs });
    logged = appliedFromWorkerLogs(join(dir, 'reads'));
    const witnessed = witnessedApplied(w.tap.appliedAt, logged?.appliedAt);
    if (witnessed.onlyInWorkerLogs > 0)
      log(
        `${witnessed.onlyInWorkerLogs} events applied by the workers' logs that the broadcast tap did not hear`,
      );
    const summary = summarise({
      ...(logged === undefined ? {} : { deliveredAt: logged.deliveredAt }),
      events: w.load.published,
      appliedAt: witnessed.appliedAt,
      fault,
      fleet: w.timeline,
      expectedWorkers: w.expectedWorkers(),
      stale: staleReport.stale,
      readsChecked: staleReport.checked,
      stillQueued,
    });
    const allowed = auditOwnWindow(
      fault,
      summary.recoveryMs,
      o.lagWindowMs,
      drill.delaysInvalidation === true,
    );
    // A check is one entity at one window; its findings are one per tier that held a stale value.
    const checksOutside = new Set(
      audit.findings
        .filter((f) => !allowed || f.originTimeMs < allowed.from || f.originTimeMs > allowed.to)
        .map((f) => `${f.eventId}|${f.family}|${f.id}|${f.windowMs}`),
    );
    const auditOutside = Math.min(audit.inconsistent, checksOutside.size);
    // The same checks per tier that held the stale value: the primary or the replica (L2:
    // a value written back after its invalidation, or one not yet deleted) or a reader's L1.
    const outsideByTier: Record<string, number> = {};
    for (const check of new Set(
      audit.findings
        .filter((f) => !allowed || f.originTimeMs < allowed.from || f.originTimeMs > allowed.to)
        .map((f) => `${f.tier}|${f.eventId}|${f.family}|${f.id}|${f.windowMs}`),
    )) {
      const tier = check.slice(0, check.indexOf('|'));
      outsideByTier[tier] = (outsideByTier[tier] ?? 0) + 1;
    }

    // Per event, for the timeline of a fault (where the seconds went): origin time, family and
    // the Redis time of the first broadcast that named it, else the time a worker logged
    // (null: never applied), and whether the tap heard it.
    writeFileSync(
      join(dir, 'events.jsonl'),
      w.load.published
        .map((e) =>
          JSON.stringify({
            eventId: e.eventId,
            family: e.family,
            occurredAtMs: e.occurredAtMs,
            sqsSentAtMs: logged?.deliveredAt.get(e.eventId) ?? null,
            appliedAtMs: witnessed.appliedAt.get(e.eventId) ?? null,
            heardByTap: w.tap.appliedAt.has(e.eventId),
          }),
        )
        .join('\n') + '\n',
    );

    const rssPoints = w.timeline
      .filter((p) => p.rssMiB.length > 0)
      .map((p) => ({ t: p.t, y: Math.max(...p.rssMiB) }));
    const rssMax = rssPoints.length ? Math.max(...rssPoints.map((p) => p.y)) : null;
    const soakFrom = fault.injectedAt + (soakMs ?? 0) * SOAK_WARMUP_SHARE;
    const rssSlope =
      soakMs === undefined
        ? null
        : slope(rssPoints.filter((p) => p.t >= soakFrom).map((p) => ({ x: p.t / 60_000, y: p.y })));

    const failures: string[] = [];
    if (summary.lost > 0) failures.push(`${summary.lost} lost`);
    if (summary.stuck > 0) failures.push(`${summary.stuck} not applied, still in SQS`);
    if (dlq.valid > 0) failures.push(`${dlq.valid} valid in a DLQ`);
    if (rest.resurrected.length > 0) failures.push(`${rest.resurrected.length} resurrected`);
    if (origin.peakPerS > o.originBudgetPerS)
      failures.push(`origin peak ${origin.peakPerS}/s over ${o.originBudgetPerS}/s`);
    if (staleReport.checked > 0 && summary.staleOutsideWindow / staleReport.checked > STALE_GOAL)
      failures.push(`${summary.staleOutsideWindow} stale reads beyond the lag window`);
    if (audit.checked > 0 && auditOutside / audit.checked > STALE_GOAL)
      failures.push(`auditor: ${auditOutside} inconsistent of ${audit.checked} checks`);
    if (!summary.recovered) failures.push('not recovered');
    if (!drained) failures.push('queues not drained');
    if (
      drill.name === 'primary-kill' &&
      profile === 'fast' &&
      (summary.recoveryAfterReachableMs ?? Infinity) > RECOVERY_AFTER_REACHABLE_MS
    )
      failures.push(`recovery ${summary.recoveryAfterReachableMs} ms after the new primary was reachable`);
    if (soakMs !== undefined) {
      if (rssMax !== null && rssMax > TASK_MEMORY_MIB * RSS_LIMIT_SHARE)
        failures.push(`worker RSS ${rssMax.toFixed(0)} MiB over ${TASK_MEMORY_MIB * RSS_LIMIT_SHARE} MiB`);
      if (o.size === 'full' && rssSlope !== null && rssSlope > RSS_FLAT_MIB_PER_MIN)
        failures.push(`worker RSS grows ${rssSlope.toFixed(2)} MiB/min after warm-up`);
    }

    const timeline = secondsOf(
      startedAt,
      w,
      staleReport.stale.map((s) => s.t),
    );
    return {
      ...base,
      durationMs: Date.now() - startedAt,
      summary,
      appliedUnheardByTap: witnessed.onlyInWorkerLogs,
      dlq,
      audit: {
        checked: audit.checked,
        inconsistent: audit.inconsistent,
        outsideWindow: auditOutside,
        // Findings of events whose origin time is in here are the fault's own (auditOwnWindow).
        ownWindow: allowed ?? null,
        outsideWindowByTier: outsideByTier,
        writtenBackAfterApply: writtenBackAfterApply(audit.findings, w.tap.appliedAt),
        missed: audit.missed,
        byFamilyWindow: audit.byFamilyWindow,
        findingsSample: audit.findings.slice(0, 5),
      },
      resurrected: rest.resurrected.length,
      resurrectedSample: rest.resurrected.slice(0, 10),
      originPeakPerS: origin.peakPerS,
      originPeakByEndpoint: origin.byEndpoint,
      drained,
      rss: { maxMiB: rssMax, slopeMiBPerMin: rssSlope },
      fault: {
        ...fault,
        notes: {
          ...prepared,
          ...fault.notes,
          ...measured,
          ...(flushes === undefined ? {} : { readerL1FlushesTotal: flushes }),
          ...(readers.mode !== 'client' && readers.l1
            ? { readerL1FlushesTotal: `n/a (${design.name}: a TTL-only L1, nothing flushes it)` }
            : {}),
          valueKeysAtRest: rest.valueKeys,
          readsByFamily: staleReport.byFamily,
          staleSample: staleReport.stale.slice(0, 5),
          eventPublishFailures: w.load.failures(),
        },
      },
      faultS: {
        from: (fault.injectedAt - t0) / 1000,
        to: (Math.max(fault.healedAt, fault.injectedAt + (summary.recoveryMs ?? 0)) - t0) / 1000,
      },
      timeline,
      verdict: { pass: failures.length === 0, failures },
    };
  } catch (err) {
    log(`failed: ${String(err)}`);
    return {
      ...base,
      durationMs: Date.now() - startedAt,
      summary: null,
      dlq: null,
      resurrected: null,
      resurrectedSample: [],
      originPeakPerS: null,
      originPeakByEndpoint: {},
      drained: false,
      rss: { maxMiB: null, slopeMiBPerMin: null },
      fault: null,
      faultS: null,
      timeline: [],
      verdict: { pass: false, failures: [`error: ${err instanceof Error ? err.message : String(err)}`] },
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    };
  } finally {
    await world?.close();
  }
}

/** Per-second series from the world's records. */
function secondsOf(t0: number, w: World, staleTimes: readonly number[]): SecondPoint[] {
  const end = Date.now();
  const n = Math.ceil((end - t0) / 1000);
  const sec = (t: number) => Math.floor((t - t0) / 1000);
  const points = Array.from({ length: n }, (_, s) => ({
    s,
    published: 0,
    applied: 0,
    lags: [] as number[],
    originCalls: 0,
    staleReads: 0,
    readyWorkers: 0,
    rss: [] as number[],
  }));
  for (const e of w.load.published) {
    const p = points[sec(e.occurredAtMs)];
    if (p) p.published++;
    const at = w.tap.appliedAt.get(e.eventId);
    const q = at === undefined ? undefined : points[sec(at)];
    if (q && at !== undefined) {
      q.applied++;
      q.lags.push(at - e.occurredAtMs);
    }
  }
  for (const t of staleTimes) {
    const p = points[sec(t)];
    if (p) p.staleReads++;
  }
  for (const x of w.timeline) {
    const p = points[sec(x.t)];
    if (!p) continue;
    p.originCalls += x.originCalls;
    p.readyWorkers = x.readyWorkers;
    p.rss.push(...x.rssMiB);
  }
  return points.map((p) => ({
    s: p.s,
    published: p.published,
    applied: p.applied,
    lagP99Ms: percentile(p.lags, 99),
    originCalls: p.originCalls,
    staleReads: p.staleReads,
    readyWorkers: p.readyWorkers,
    rssMaxMiB: p.rss.length ? Math.max(...p.rss) : null,
  }));
}
