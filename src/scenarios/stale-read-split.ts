/**
 * Where the time went for each read stale beyond the lag window (issue 13): the emulator's
 * delivery, the fleet, or our read path. Pure: the story hands it what the run recorded.
 *
 * For a stale read of (family, id) that returned version v and began at `s`, the event that
 * made it stale is the origin's change to the first version newer than v (the staleness
 * runs from that change, src/consistency/read-staleness.ts). That event's timeline, all on
 * this machine's one clock:
 *
 *   origin change -> the origin's answer (its SNS publish returned; scenario-world.ts)
 *   -> SQS SentTimestamp (LocalStack put it in the queue)
 *   -> ApproximateFirstReceiveTimestamp (LocalStack first handed it to a receive)
 *   -> the ReceiveMessage returned to the worker (LocalStack's HTTP answer, the SDK's parse)
 *   -> the worker's handler began -> the broadcast (the apply tap, Redis time)
 *   -> this reader process's L1 dropped it (or was flushed; the reader's l1 events file)
 *
 * The read is charged to the hop the event was in at `s`:
 * - `emulator-publish`: s before SentTimestamp (SNS -> SQS not done yet);
 * - `emulator-queue`: in the queue, not yet handed to any receive;
 * - `emulator-answer`: handed to a receive whose answer had not reached the worker yet
 *   (LocalStack's HTTP answer; the SDK's parse in the worker is in it too, sub-ms unless the
 *   worker's event loop is stalled);
 * - `fleet-worker`: the answer in the worker, not yet broadcast (handler, deletes, a retry);
 * - `fleet-broadcast`: broadcast, not yet dropped by this process's L1 (pub/sub delivery);
 * - `read-side`: this process's L1 had already dropped it (or flushed) before the read began,
 *   and the read still returned the old version: a defect of the read path;
 * - `not-applied`: the event is known but no worker line names it: not applied by the end of
 *   the run (the story reports the queues' depth then: 0 means it was still in the emulator);
 * - `unmatched`: the event is not known (a change not made through the scenario, a family
 *   whose history id is not the change's id).
 */
import type { AppliedLine } from './fleet-processes.ts';

/** A change the scenario made at the origin (scenario-world.ts `change()`). */
export interface ChangeRecord {
  readonly eventId: string;
  /** The change request's family: product, promotion, session, review. */
  readonly family: string;
  readonly id: string;
  /** The event's (the entity's new) version. */
  readonly version: number;
  /** The change at the origin (the event's occurredAt). */
  readonly originAtMs: number;
  readonly requestedAtMs: number;
  /** When the origin answered: after its SNS Publish call returned. */
  readonly answeredAtMs: number;
  /** A promotion's store sections (each a promo entity that changed with it). */
  readonly sections?: readonly string[];
}

/** One "invalidation applied" line of the worker: the hops' times (fleet-processes.ts). */
export type WorkerApplied = Omit<AppliedLine, 'family' | 'originAtMs'>;

/** One line of a reader's l1 events file: a broadcast dropped (ids) or a flush. */
export interface L1Heard {
  readonly t: number;
  readonly ids?: readonly string[];
  readonly flush?: string;
}

/** A read stale beyond the window (a read-staleness example with its family). */
export interface StaleRead {
  readonly family: string;
  readonly id: string;
  readonly t: number;
  readonly ms?: number;
  readonly v: number;
  readonly p?: number;
  readonly src?: string;
  readonly stalenessMs: number;
}

export const HOPS = [
  'emulator-publish',
  'emulator-queue',
  'emulator-answer',
  'fleet-worker',
  'fleet-broadcast',
  'read-side',
  'not-applied',
  'unmatched',
] as const;
export type Hop = (typeof HOPS)[number];

/** The timeline of one event behind stale reads (ms since epoch; absent: unknown). */
export interface EventTimeline {
  readonly eventId: string;
  readonly family: string;
  readonly id: string;
  readonly version: number;
  readonly originAtMs: number;
  readonly answeredAtMs?: number;
  readonly snsPublishedAtMs?: number;
  readonly sqsSentAtMs?: number;
  readonly firstReceivedAtMs?: number;
  readonly receiveAnsweredAtMs?: number;
  readonly receiveCount?: number;
  readonly receivedAtMs?: number;
  readonly broadcastAtMs?: number;
  /** Per reader process: when its L1 dropped the event (or flushed after its broadcast). */
  readonly droppedAtMs: Readonly<Record<string, number>>;
  /** Stale-beyond-window reads it caused, per hop. */
  readonly reads: Partial<Record<Hop, number>>;
}

export interface StaleSplit {
  readonly staleBeyondWindow: number;
  readonly byHop: Readonly<Record<Hop, number>>;
  /** emulator-publish + emulator-queue + emulator-answer. */
  readonly emulator: number;
  /** fleet-worker + fleet-broadcast. */
  readonly fleet: number;
  /**
   * Of `fleet`, the reads that began more than the lag window after the event reached the
   * worker (the receive's answer): stale beyond the window even had the emulator delivered
   * at once. These, and `readSide`, are the fleet's own defects; the other fleet reads only
   * fell inside the fleet's few ms after the emulator had used up the window.
   */
  readonly fleetOwn: number;
  readonly readSide: number;
  /** The events behind the stale reads, most reads first. */
  readonly events: readonly EventTimeline[];
}

/** How far apart (ms) a promotion's and its section's change times may be (one origin write). */
const SAME_CHANGE_MS = 5;

/** The history family of a change request's family, where the ids match (product, review). */
const HISTORY_FAMILY: Readonly<Record<string, string>> = { product: 'product', review: 'review' };

/** Splits `stale` by hop; see the module header. */
export function splitStaleReads(input: {
  readonly stale: readonly StaleRead[];
  /** The origin's history: per (family, id) its versions and when each became true. */
  readonly history: {
    readonly entities: readonly {
      readonly family: string;
      readonly id: string;
      readonly versions: readonly { readonly v: number; readonly at: number }[];
    }[];
  };
  readonly changes: readonly ChangeRecord[];
  readonly applied: readonly WorkerApplied[];
  /** Event id -> broadcast time (the apply tap). */
  readonly broadcastAt: ReadonlyMap<string, number>;
  /** Reader process index -> what its L1 heard, in time order. */
  readonly heard: ReadonlyMap<number, readonly L1Heard[]>;
  /** The lag window of the staleness judgement (for `fleetOwn`). */
  readonly lagWindowMs: number;
}): StaleSplit {
  const versions = new Map<string, { v: number; at: number }[]>();
  for (const e of input.history.entities)
    versions.set(
      `${e.family}\u0000${e.id}`,
      [...e.versions].sort((a, b) => a.v - b.v),
    );
  const changeOf = new Map<string, ChangeRecord>();
  const promotions = input.changes.filter((c) => c.family === 'promotion');
  for (const c of input.changes) {
    const family = HISTORY_FAMILY[c.family];
    if (family !== undefined) changeOf.set(`${family}\u0000${c.id}\u0000${c.version}`, c);
  }
  /** The change behind version `next` of (family, id). */
  const changeBehind = (family: string, id: string, next: { v: number; at: number }) => {
    if (family !== 'promo') return changeOf.get(`${family}\u0000${id}\u0000${next.v}`);
    // A section's version is its own, not the promotion's: the promotion changed with it, at
    // the same origin instant (change-applier.ts), and names the section.
    return promotions.find(
      (c) => c.sections?.includes(id) === true && Math.abs(c.originAtMs - next.at) <= SAME_CHANGE_MS,
    );
  };
  // The receive that applied it: the first applied line per event (a redelivery applies again).
  const appliedOf = new Map<string, WorkerApplied>();
  for (const a of input.applied) {
    const seen = appliedOf.get(a.eventId);
    if (seen === undefined || a.receivedAtMs < seen.receivedAtMs) appliedOf.set(a.eventId, a);
  }
  const byHop = Object.fromEntries(HOPS.map((h) => [h, 0])) as Record<Hop, number>;
  let fleetOwn = 0;
  const events = new Map<string, EventTimeline & { reads: Partial<Record<Hop, number>> }>();

  /**
   * When process p's L1 dropped `eventId`: the broadcast naming it, or a flush after the
   * broadcast was published (a gap flush covers the message it skipped). A flush before the
   * broadcast does not count: the L1 may refill from an L2 the worker has not cleared yet.
   */
  const droppedAt = (
    p: number | undefined,
    eventId: string,
    broadcast: number | undefined,
  ): number | undefined => {
    if (p === undefined) return undefined;
    for (const h of input.heard.get(p) ?? []) {
      if (h.ids?.includes(eventId) === true) return h.t;
      if (h.flush !== undefined && broadcast !== undefined && h.t >= broadcast) return h.t;
    }
    return undefined;
  };

  for (const r of input.stale) {
    const start = r.t - (r.ms ?? 0);
    const next = versions.get(`${r.family}\u0000${r.id}`)?.find((x) => x.v > r.v);
    const change = next === undefined ? undefined : changeBehind(r.family, r.id, next);
    const w = change === undefined ? undefined : appliedOf.get(change.eventId);
    if (change === undefined || next === undefined) {
      byHop.unmatched++;
      continue;
    }
    if (w === undefined) {
      byHop['not-applied']++;
      continue;
    }
    const broadcast = input.broadcastAt.get(change.eventId) ?? w.broadcastAtMs;
    const dropped = droppedAt(r.p, change.eventId, broadcast);
    const hop: Hop =
      dropped !== undefined && start >= dropped
        ? 'read-side'
        : w.sqsSentAtMs === undefined || start < w.sqsSentAtMs
          ? 'emulator-publish'
          : start < (w.firstReceivedAtMs ?? w.receiveAnsweredAtMs ?? w.receivedAtMs)
            ? 'emulator-queue'
            : start < (w.receiveAnsweredAtMs ?? w.firstReceivedAtMs ?? w.receivedAtMs)
              ? 'emulator-answer'
              : broadcast === undefined || start < broadcast
                ? 'fleet-worker'
                : 'fleet-broadcast';
    byHop[hop]++;
    const inFleetSince = w.receiveAnsweredAtMs ?? w.firstReceivedAtMs ?? w.receivedAtMs;
    if ((hop === 'fleet-worker' || hop === 'fleet-broadcast') && start - inFleetSince > input.lagWindowMs)
      fleetOwn++;
    let e = events.get(change.eventId);
    if (e === undefined) {
      e = {
        eventId: change.eventId,
        family: r.family,
        id: r.id,
        version: change.version,
        originAtMs: change.originAtMs,
        answeredAtMs: change.answeredAtMs,
        ...pick(w),
        ...(broadcast === undefined ? {} : { broadcastAtMs: broadcast }),
        droppedAtMs: {},
        reads: {},
      };
      events.set(change.eventId, e);
    }
    if (r.p !== undefined && dropped !== undefined)
      (e.droppedAtMs as Record<string, number>)[String(r.p)] = dropped;
    e.reads[hop] = (e.reads[hop] ?? 0) + 1;
  }
  const total = (e: EventTimeline) => Object.values(e.reads).reduce((a, b) => a + (b ?? 0), 0);
  return {
    staleBeyondWindow: input.stale.length,
    byHop,
    emulator: byHop['emulator-publish'] + byHop['emulator-queue'] + byHop['emulator-answer'],
    fleet: byHop['fleet-worker'] + byHop['fleet-broadcast'],
    fleetOwn,
    readSide: byHop['read-side'],
    events: [...events.values()].sort((a, b) => total(b) - total(a)),
  };
}

function pick(w: WorkerApplied): Partial<EventTimeline> {
  const out: Record<string, number> = { receivedAtMs: w.receivedAtMs };
  if (w.snsPublishedAtMs !== undefined) out.snsPublishedAtMs = w.snsPublishedAtMs;
  if (w.sqsSentAtMs !== undefined) out.sqsSentAtMs = w.sqsSentAtMs;
  if (w.firstReceivedAtMs !== undefined) out.firstReceivedAtMs = w.firstReceivedAtMs;
  if (w.receiveAnsweredAtMs !== undefined) out.receiveAnsweredAtMs = w.receiveAnsweredAtMs;
  if (w.receiveCount !== undefined) out.receiveCount = w.receiveCount;
  return out;
}

/** The hops of one event, ms (for the docs' table): each hop's duration, when both ends are known. */
export function hopDurations(e: EventTimeline): Record<string, number | undefined> {
  const d = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : Math.round(b - a);
  const drops = Object.values(e.droppedAtMs);
  // Emulator: the change -> in the queue (the origin's Publish call and SNS -> SQS, from the
  // change: LocalStack's SentTimestamp came out up to 34 ms before its own SNS envelope
  // Timestamp in a run, and before the origin's answer, which is reported beside) -> first
  // handed out.
  // -> the receive's answer back in the worker. Fleet: the answer -> the worker's handler ->
  // broadcast -> the last reader L1 that dropped it.
  return {
    changeToQueue: d(e.originAtMs, e.sqsSentAtMs),
    originAnswered: d(e.originAtMs, e.answeredAtMs),
    queueToFirstReceive: d(e.sqsSentAtMs, e.firstReceivedAtMs),
    firstReceiveToAnswer: d(e.firstReceivedAtMs, e.receiveAnsweredAtMs),
    answerToHandler: d(e.receiveAnsweredAtMs, e.receivedAtMs),
    handlerToBroadcast: d(e.receivedAtMs, e.broadcastAtMs),
    broadcastToL1: d(e.broadcastAtMs, drops.length === 0 ? undefined : Math.max(...drops)),
  };
}

/** "N (emulator M: publish a, queue b, answer c; fleet K (F on its own); read side R[; not applied X][; unmatched U])". */
export function formatSplit(s: StaleSplit): string {
  const b = s.byHop;
  return (
    `${s.staleBeyondWindow} (emulator ${s.emulator}: publish ${b['emulator-publish']}, queue ${b['emulator-queue']}, ` +
    `answer ${b['emulator-answer']}; fleet ${s.fleet} (${s.fleetOwn} on its own); read side ${s.readSide}` +
    (b['not-applied'] > 0 ? `; not applied in the run ${b['not-applied']}` : '') +
    (b.unmatched > 0 ? `; unmatched ${b.unmatched})` : ')')
  );
}

/**
 * When the last reader process's L1 dropped `eventId` (each process: its first broadcast
 * naming it); undefined when a process never did (it flushed instead, or heard nothing).
 */
export function lastL1DropMs(
  heard: ReadonlyMap<number, readonly L1Heard[]>,
  eventId: string,
): number | undefined {
  if (heard.size === 0) return undefined;
  let last = -Infinity;
  for (const lines of heard.values()) {
    const first = lines.find((h) => h.ids?.includes(eventId) === true);
    if (first === undefined) return undefined;
    last = Math.max(last, first.t);
  }
  return last;
}

/** Parses a reader's l1 events file (JSONL); bad lines are skipped. */
export function parseL1Heard(text: string): L1Heard[] {
  const out: L1Heard[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const o = JSON.parse(line) as { t?: unknown; ids?: unknown; flush?: unknown };
      if (typeof o.t !== 'number') continue;
      if (Array.isArray(o.ids))
        out.push({ t: o.t, ids: o.ids.filter((x): x is string => typeof x === 'string') });
      else if (typeof o.flush === 'string') out.push({ t: o.t, flush: o.flush });
    } catch {
      // a line cut by a kill: skipped
    }
  }
  return out;
}
