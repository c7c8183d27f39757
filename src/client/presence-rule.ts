/**
 * Read side (src/client/): the worker presence rule (decision 0024). Pure: no I/O, no clock;
 * every time is passed in (the client passes its own monotonic clock, so the workers' clocks
 * and their skew never enter).
 *
 * The watermark of decision 0022 cannot see a worker SIGKILLed (out of memory, host lost)
 * while it holds received, unapplied messages: canaries keep flowing through the survivors.
 * Those messages stay invisible in SQS until their receive visibility runs out (decision 0021),
 * then a survivor receives and applies them. So a worker that falls silent without having
 * said it is leaving is presumed dead holding messages, and the pipeline is unproven until
 *
 *     last heard + visibility + visibility heartbeat + margin
 *
 * (the time by which SQS has handed its messages to a survivor and they are applied). Then the
 * worker is forgotten. "Silent" is strictly more than `silentAfterMs` (a few presence
 * intervals) since it was last heard. A worker that said "leaving" drained first: it holds
 * nothing, and is never presumed dead. A worker heard again is alive again.
 */

export interface PresenceRule {
  /** Silence strictly longer than this (ms) without "leaving": presumed dead. */
  readonly silentAfterMs: number;
  /** From the last presence to the moment its messages were handed over and applied (ms). */
  readonly handOverMs: number;
}

export interface PresenceOptions {
  /** The workers' `WORKER_PRESENCE_INTERVAL_MS`. */
  readonly intervalMs: number;
  /** Intervals of silence tolerated (delivery jitter, a worker's GC pause). */
  readonly missedIntervals: number;
  /** The workers' `WORKER_VISIBILITY_TIMEOUT_S`, in ms. */
  readonly visibilityTimeoutMs: number;
  /** The workers' `WORKER_HEARTBEAT_INTERVAL_S`, in ms (a visibility extended just before death). */
  readonly visibilityHeartbeatMs: number;
  /** A survivor's receive and apply after the messages reappear. */
  readonly handOverMarginMs: number;
}

/**
 * The client's defaults: the workers' own defaults (src/config/variables.ts, which a unit test
 * compares): `WORKER_PRESENCE_INTERVAL_MS` 250, `WORKER_VISIBILITY_TIMEOUT_S` 3 and
 * `WORKER_HEARTBEAT_INTERVAL_S` 1 (decision 0021; the stack sets the same). Three missed
 * intervals before a worker is presumed dead. The margin, 1.5 s, is the CI drill's bound on a
 * SIGKILLed worker's events beyond visibility + heartbeat (test/e2e/drill-all.test.ts): the
 * survivor's receive, apply and L1 broadcast. A fleet run with other values passes them.
 */
export const PRESENCE_DEFAULTS: PresenceOptions = Object.freeze({
  intervalMs: 250,
  missedIntervals: 3,
  visibilityTimeoutMs: 3_000,
  visibilityHeartbeatMs: 1_000,
  handOverMarginMs: 1_500,
});

export function presenceRule(o: PresenceOptions): PresenceRule {
  return {
    silentAfterMs: o.intervalMs * o.missedIntervals,
    handOverMs: o.visibilityTimeoutMs + o.visibilityHeartbeatMs + o.handOverMarginMs,
  };
}

/** More workers than this are not tracked (a new id beyond it is ignored until one is forgotten). */
export const MAX_TRACKED_WORKERS = 1_024;

interface Heard {
  lastHeardMs: number;
  leaving: boolean;
}

/** The workers heard, and when the pipeline is unproven because of one of them. */
export class PresenceTable {
  readonly #rule: PresenceRule;
  readonly #workers = new Map<string, Heard>();

  constructor(rule: PresenceRule) {
    if (!(rule.silentAfterMs > 0) || !(rule.handOverMs > rule.silentAfterMs))
      throw new RangeError('presence rule: need 0 < silentAfterMs < handOverMs');
    this.#rule = rule;
  }

  /** A presence message heard at `nowMs`. */
  hear(worker: string, leaving: boolean, nowMs: number): void {
    const known = this.#workers.get(worker);
    if (known === undefined) {
      if (this.#workers.size >= MAX_TRACKED_WORKERS) this.forget(nowMs);
      if (this.#workers.size >= MAX_TRACKED_WORKERS) return;
      this.#workers.set(worker, { lastHeardMs: nowMs, leaving });
      return;
    }
    // A worker that left stays left (a stray late "up" must not make it look dead later).
    if (known.leaving) return;
    known.leaving = leaving;
    // Never backwards: messages handled out of order by this process keep the newest time.
    known.lastHeardMs = Math.max(known.lastHeardMs, nowMs);
  }

  /**
   * Until when (ms, this clock) the pipeline is unproven because a worker fell silent holding
   * messages; undefined when none did. Forgets the workers whose span is over.
   */
  unprovenUntil(nowMs: number): number | undefined {
    this.forget(nowMs);
    let until: number | undefined;
    for (const w of this.#workers.values()) {
      if (w.leaving || nowMs - w.lastHeardMs <= this.#rule.silentAfterMs) continue;
      const end = w.lastHeardMs + this.#rule.handOverMs;
      if (until === undefined || end > until) until = end;
    }
    return until;
  }

  /** Drops the workers that left, or fell silent, more than the hand-over span ago. */
  forget(nowMs: number): void {
    for (const [id, w] of this.#workers) {
      if (nowMs >= w.lastHeardMs + this.#rule.handOverMs) this.#workers.delete(id);
    }
  }

  /** The workers tracked now (for logs and tests). */
  get size(): number {
    return this.#workers.size;
  }
}
