/**
 * A circuit breaker in front of Redis. When effects fail (Redis unreachable, READONLY, OOM,
 * a failed shard), the gate opens: every queue stops polling (messages stay in SQS, their
 * receive counts stop growing, nothing drifts toward the DLQ; batches already in hand are
 * applied again by their handler), and a probe runs until it succeeds; then the gate closes
 * and polling resumes. The worker's probe is a write (probeWritable): PING is answered by a
 * node that refuses writes, which made the gate flap. WAIT shortfalls do not open it.
 *
 * After a failover the seconds count (issue 15: recovery within 5 s of the new primary being
 * reachable), so the gate does not wait out its interval when it can know better: the worker
 * calls `probeNow()` when its connection is ready again, and batches kept in hand wait on
 * `whenClosed()` as well as on their back-off, so they are applied again as soon as Redis
 * takes writes, not up to 5 s later.
 */
import { EventEmitter } from 'node:events';

export interface RedisGateEvents {
  open: [reason: string];
  close: [downForMs: number];
}

export interface RedisGateOptions {
  /** Resolves when Redis answers; rejects otherwise. */
  readonly probe: () => Promise<unknown>;
  readonly probeIntervalMs?: number;
  readonly now?: () => number;
}

/** Open while Redis is unreachable; emits `open` and `close`. */
export class RedisGate extends EventEmitter<RedisGateEvents> {
  readonly #probe: () => Promise<unknown>;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #openedAt: number | null = null;
  #timer: NodeJS.Timeout | undefined;
  #probing = false;
  #closed = false;
  /** Resolved at the next close; one per outage (null while closed). */
  #recovery: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(options: RedisGateOptions) {
    super();
    this.#probe = options.probe;
    this.#intervalMs = options.probeIntervalMs ?? 500;
    this.#now = options.now ?? Date.now;
  }

  get isOpen(): boolean {
    return this.#openedAt !== null;
  }

  /** Reports that Redis could not be reached; opens the gate once. */
  reportUnavailable(reason: string): void {
    if (this.#openedAt !== null || this.#closed) return;
    this.#openedAt = this.#now();
    this.emit('open', reason);
    this.#schedule();
  }

  /**
   * Probes at once instead of at the next interval (a connection became ready: Redis may
   * take writes again). Does nothing while the gate is closed or a probe is in flight.
   */
  probeNow(): void {
    if (this.#openedAt === null || this.#closed || this.#probing) return;
    clearTimeout(this.#timer);
    void this.#tryClose();
  }

  /**
   * Resolves when the gate next closes (Redis takes writes again). While the gate is closed
   * or disposed it never resolves: a caller's own back-off then decides.
   */
  whenClosed(): Promise<void> {
    if (this.#openedAt === null || this.#closed) return new Promise<void>(() => undefined);
    if (this.#recovery === null) {
      let resolve: () => void = () => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#recovery = { promise, resolve };
    }
    return this.#recovery.promise;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => void this.#tryClose(), this.#intervalMs);
    this.#timer.unref();
  }

  async #tryClose(): Promise<void> {
    if (this.#openedAt === null || this.#closed || this.#probing) return;
    this.#probing = true;
    try {
      await this.#probe();
    } catch {
      if (!this.#closed) this.#schedule();
      return;
    } finally {
      this.#probing = false;
    }
    if (this.#closed) return;
    const downFor = this.#now() - this.#openedAt;
    this.#openedAt = null;
    const recovery = this.#recovery;
    this.#recovery = null;
    this.emit('close', downFor);
    recovery?.resolve();
  }

  /** Stops probing; idempotent. */
  dispose(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }
}
