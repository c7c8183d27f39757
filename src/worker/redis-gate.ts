/**
 * A circuit breaker in front of Redis. When effects fail (Redis unreachable, READONLY, OOM,
 * a failed shard), the gate opens: every queue stops polling (messages stay in SQS, their
 * receive counts stop growing, nothing drifts toward the DLQ; batches already in hand are
 * applied again by their handler), and a probe runs until it succeeds; then the gate closes
 * and polling resumes. The worker's probe is a write (probeWritable): PING is answered by a
 * node that refuses writes, which made the gate flap. WAIT shortfalls do not open it.
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
  #closed = false;

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

  #schedule(): void {
    this.#timer = setTimeout(() => void this.#tryClose(), this.#intervalMs);
    this.#timer.unref();
  }

  async #tryClose(): Promise<void> {
    if (this.#openedAt === null || this.#closed) return;
    try {
      await this.#probe();
    } catch {
      this.#schedule();
      return;
    }
    const downFor = this.#now() - this.#openedAt;
    this.#openedAt = null;
    this.emit('close', downFor);
  }

  /** Stops probing; idempotent. */
  dispose(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }
}
