/**
 * Acks held until a replica confirms (rule 4 without blocking the queue, rule 9). A critical
 * batch whose deletes are applied on the primary but not yet confirmed on a replica (a WAIT
 * shortfall, or a lagging replica) is not acked by the batch handler: its messages are
 * handed here, so the poller goes on with the next batch and every later event is applied at
 * once. Every second this:
 *
 *   1. acks everything held as DEGRADED when replication reports no replica at all (nothing
 *      could be promoted, so nothing can be lost to a failover; the effects stay in the
 *      replay ring);
 *   2. otherwise sends one short `WAIT` on the effects connection: WAIT covers every write
 *      sent earlier on that connection, so success confirms every held batch, which is
 *      then acked as DURABLE;
 *   3. acks as DEGRADED what was held longer than `maxHoldMs` (or past `maxHeld`), so a
 *      replica stuck for good does not pin messages forever;
 *   4. extends the visibility of what stays held, so SQS never redelivers it: the receive
 *      count does not move, and no valid event drifts toward the DLQ.
 *
 * A held message whose delete fails stays held and is tried again on the next tick. On
 * close, what is still held is left to SQS: it comes back after its visibility timeout and
 * is applied again by the next worker (idempotent).
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { ReplicationState } from './replication-health.ts';
import type { DegradedAckReason, WorkerMetrics } from '../metrics/worker-metrics.ts';

export interface HeldAcksDeps {
  /** One short WAIT on every connection that carried the held writes; true when confirmed. */
  readonly confirm: () => Promise<boolean>;
  /** Replication as last sampled (replication-health.ts). */
  readonly replicationState: () => ReplicationState;
  /** A WAIT confirmed every write sent before `sentAtMs`. */
  readonly onConfirmed: (sentAtMs: number) => void;
  /** Deletes messages from their queue; resolves with the ids SQS confirmed. */
  readonly ack: (queue: string, messages: readonly Message[]) => Promise<Set<string>>;
  /** Sets the visibility timeout of messages (keeps them from being redelivered). */
  readonly extend: (queue: string, messages: readonly Message[], timeoutS: number) => Promise<void>;
  readonly visibilityTimeoutS: number;
  /** How often a held message's visibility is extended, ms (the consumer's heartbeat). */
  readonly extendEveryMs: number;
  /** Longest hold before a degraded ack, ms. Default 120 000 (past Redis' 60 s repl-timeout). */
  readonly maxHoldMs?: number;
  /** Most messages held at once; beyond it the oldest are acked degraded. Default 10 000. */
  readonly maxHeld?: number;
  readonly intervalMs?: number;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  readonly now?: () => number;
}

interface Held {
  readonly queue: string;
  readonly message: Message;
  readonly heldAtMs: number;
  extendedAtMs: number;
}

export const HELD_ACKS_DEFAULTS = { maxHoldMs: 120_000, maxHeld: 10_000, intervalMs: 1_000 } as const;

/** Messages applied on the primary whose ack waits for a replica; see the module header. */
export class HeldAcks {
  readonly #deps: HeldAcksDeps;
  readonly #now: () => number;
  #held: Held[] = [];
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #closed = false;

  constructor(deps: HeldAcksDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** Messages currently held. */
  get size(): number {
    return this.#held.length;
  }

  /** Holds the acks of `messages` (their deletes are applied on the primary). */
  hold(queue: string, messages: readonly Message[]): void {
    const at = this.#now();
    // Never extended yet: the first tick extends at once (the time left since the receive is unknown).
    for (const message of messages)
      this.#held.push({ queue, message, heldAtMs: at, extendedAtMs: Number.NEGATIVE_INFINITY });
    this.#deps.metrics.heldAcks(this.#held.length);
  }

  start(): void {
    const loop = () => {
      if (this.#closed) return;
      this.#ticking = this.tick().finally(() => {
        this.#ticking = undefined;
        if (this.#closed) return;
        this.#timer = setTimeout(loop, this.#deps.intervalMs ?? HELD_ACKS_DEFAULTS.intervalMs);
        this.#timer.unref();
      });
    };
    loop();
  }

  /** One pass of the rules in the module header (the timer calls it; tests call it directly). */
  async tick(): Promise<void> {
    if (this.#held.length === 0) return;
    const snapshot = [...this.#held];
    if (this.#deps.replicationState() === 'no-replica') {
      await this.#release(snapshot, 'no-replica');
      return;
    }
    const sentBefore = this.#now();
    let confirmed = false;
    try {
      confirmed = await this.#deps.confirm();
    } catch (err) {
      this.#deps.logger.debug({ err }, 'held acks: WAIT failed');
    }
    if (confirmed) {
      this.#deps.onConfirmed(sentBefore);
      await this.#release(snapshot, 'confirmed');
      return;
    }
    const now = this.#now();
    const maxHoldMs = this.#deps.maxHoldMs ?? HELD_ACKS_DEFAULTS.maxHoldMs;
    const maxHeld = this.#deps.maxHeld ?? HELD_ACKS_DEFAULTS.maxHeld;
    const expired = snapshot.filter((h) => now - h.heldAtMs >= maxHoldMs);
    if (expired.length > 0) await this.#release(expired, 'hold-expired');
    const overflow = this.#held.length - maxHeld;
    if (overflow > 0) await this.#release(this.#held.slice(0, overflow), 'hold-full');
    await this.#extendDue(now);
  }

  /** Stops the loop; what is still held is left to SQS (see the module header). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#ticking;
    if (this.#held.length > 0)
      this.#deps.logger.warn(
        { held: this.#held.length },
        'closing with held acks: those messages come back after their visibility timeout',
      );
  }

  async #release(entries: readonly Held[], why: 'confirmed' | DegradedAckReason): Promise<void> {
    const byQueue = new Map<string, Held[]>();
    for (const h of entries) byQueue.set(h.queue, [...(byQueue.get(h.queue) ?? []), h]);
    const done = new Set<Held>();
    for (const [queue, held] of byQueue) {
      let ids: Set<string>;
      try {
        ids = await this.#deps.ack(
          queue,
          held.map((h) => h.message),
        );
      } catch (err) {
        this.#deps.logger.warn({ err, queue }, 'held acks: delete failed; still held');
        continue;
      }
      const acked = held.filter((h) => ids.has(h.message.MessageId ?? ''));
      for (const h of acked) done.add(h);
      if (acked.length === 0) continue;
      if (why === 'confirmed') this.#deps.metrics.heldAcksConfirmed(queue, acked.length);
      else {
        this.#deps.metrics.degradedAcks(queue, why, acked.length);
        this.#deps.logger.warn(
          { queue, messages: acked.length, why },
          'critical deletes acked without replica confirmation (durability degraded); kept in the replay ring',
        );
      }
    }
    this.#held = this.#held.filter((h) => !done.has(h));
    this.#deps.metrics.heldAcks(this.#held.length);
  }

  async #extendDue(now: number): Promise<void> {
    const due = this.#held.filter((h) => now - h.extendedAtMs >= this.#deps.extendEveryMs);
    const byQueue = new Map<string, Held[]>();
    for (const h of due) byQueue.set(h.queue, [...(byQueue.get(h.queue) ?? []), h]);
    for (const [queue, held] of byQueue) {
      try {
        await this.#deps.extend(
          queue,
          held.map((h) => h.message),
          this.#deps.visibilityTimeoutS,
        );
        for (const h of held) h.extendedAtMs = now;
      } catch (err) {
        this.#deps.logger.warn({ err, queue }, 'held acks: visibility not extended; tried again next tick');
      }
    }
  }
}
