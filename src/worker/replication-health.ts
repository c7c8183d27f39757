/**
 * Replication health, sampled from the primary every second (rule 9: the state of the
 * replication is a state of the infrastructure, never of a message). It decides how the
 * worker acks critical batches (docs/operations.md, "Durable deletes"):
 *
 *   healthy     every required replica is online and acknowledged within `maxLagMs`:
 *               critical batches WAIT, and are acked when the replica confirms;
 *   lagging     a replica is attached but behind, or resyncing: the deletes are applied at
 *               once, and the acks are HELD (held-acks.ts) until a WAIT confirms them;
 *   no-replica  nothing is attached (a killed replica; ElastiCache's promoted primary for
 *               minutes): there is nothing a failover could promote, so critical batches
 *               are acked once applied on the primary ("durability degraded", counted,
 *               alarmed, in readiness), and stay in the replay ring;
 *   unknown     not sampled yet, the sample failed, or the connection was lost since the
 *               last sample (`forget`): treated like lagging (deletes at once, acks held
 *               until a WAIT confirms). Never a WAIT in the batch: after a primary loss the
 *               new primary has no replica yet, and each WAIT there would block the
 *               connection every batch shares for its whole timeout (issue 15: a worker's
 *               connection stuck behind 52 such WAITs for 20 s after a failover).
 *
 * `safeSinceMs` is the last moment every write confirmed before it was known to be on a
 * replica: a sample showing the replicas caught up (minus their lag), or a confirmed WAIT.
 * It stops moving while replication is degraded or Redis is unreachable, which is what
 * keeps the replay ring's window anchored at the moment of loss (recent-invalidations.ts).
 */
import { EventEmitter } from 'node:events';
import type { NodeReplication } from '../adapters/redis/replication-info.ts';

export type ReplicationState = 'healthy' | 'lagging' | 'no-replica' | 'unknown';

export interface ReplicationSample {
  readonly state: ReplicationState;
  /** Online replicas of the worst primary. */
  readonly replicas: number;
  /** Largest replica lag seen, ms (0 without replicas). */
  readonly lagMs: number;
}

/** Classifies the primaries' replication; the worst primary decides. Pure. */
export function classifyReplication(
  nodes: readonly NodeReplication[],
  required: number,
  maxLagMs: number,
): ReplicationSample {
  if (nodes.length === 0) return { state: 'unknown', replicas: 0, lagMs: 0 };
  const rank: Record<ReplicationState, number> = { healthy: 0, unknown: 1, lagging: 2, 'no-replica': 3 };
  let worst: ReplicationSample = { state: 'healthy', replicas: Number.POSITIVE_INFINITY, lagMs: 0 };
  for (const node of nodes) {
    const online = node.replicas.filter((r) => r.state === 'online');
    const current = online.filter((r) => r.lagS * 1_000 <= maxLagMs);
    const lagMs = Math.max(0, ...node.replicas.map((r) => (Number.isFinite(r.lagS) ? r.lagS * 1_000 : 0)));
    let state: ReplicationState;
    if (node.role !== 'master') state = 'unknown';
    else if (required === 0 || current.length >= required) state = 'healthy';
    else if (node.replicas.length > 0) state = 'lagging';
    else state = 'no-replica';
    const sample = { state, replicas: online.length, lagMs };
    if (
      rank[state] > rank[worst.state] ||
      (rank[state] === rank[worst.state] && online.length < worst.replicas)
    )
      worst = sample;
  }
  return worst;
}

export interface ReplicationMonitorEvents {
  /** Every sample (the metrics gauge). */
  sample: [sample: ReplicationSample];
  change: [sample: ReplicationSample, previous: ReplicationState];
}

export interface ReplicationMonitorOptions {
  /** Reads every primary (readReplication). */
  readonly read: () => Promise<NodeReplication[]>;
  /** Replicas a critical batch needs (REDIS_WAIT_REPLICAS). */
  readonly required: number;
  /** A replica further behind than this is lagging. Default 2 000 ms (Redis reports whole seconds). */
  readonly maxLagMs?: number;
  readonly intervalMs?: number;
  readonly now?: () => number;
}

/** Samples replication every `intervalMs`; emits `change` when the state changes. */
export class ReplicationMonitor extends EventEmitter<ReplicationMonitorEvents> {
  readonly #options: ReplicationMonitorOptions;
  readonly #now: () => number;
  #sample: ReplicationSample = { state: 'unknown', replicas: 0, lagMs: 0 };
  #safeSinceMs: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: ReplicationMonitorOptions) {
    super();
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#safeSinceMs = this.#now();
  }

  get state(): ReplicationState {
    return this.#sample.state;
  }

  get sample(): ReplicationSample {
    return this.#sample;
  }

  /** The last moment every earlier write was known to be on a replica. */
  get safeSinceMs(): number {
    return this.#safeSinceMs;
  }

  /** A WAIT confirmed every write sent before `sentAtMs`. */
  noteConfirmed(sentAtMs: number): void {
    this.#safeSinceMs = Math.max(this.#safeSinceMs, sentAtMs);
  }

  /**
   * The connection was lost: the last sample describes a node it may never reach again, so
   * the state is `unknown` until the next sample succeeds. `safeSinceMs` stays: the replay
   * after a failover reaches back to it.
   */
  forget(): void {
    const previous = this.#sample.state;
    this.#sample = { state: 'unknown', replicas: 0, lagMs: 0 };
    if (previous !== 'unknown') this.emit('change', this.#sample, previous);
  }

  /** Takes one sample now (start-up calls it before polling begins). */
  async poll(): Promise<ReplicationSample> {
    const startedAt = this.#now();
    let next: ReplicationSample;
    try {
      next = classifyReplication(
        await this.#options.read(),
        this.#options.required,
        this.#options.maxLagMs ?? 2_000,
      );
    } catch {
      next = { state: 'unknown', replicas: 0, lagMs: 0 };
    }
    // Replicas acknowledge every second, so a healthy sample vouches for writes up to
    // (sample time - their lag - one acknowledgement period).
    // (With REDIS_WAIT_REPLICAS=0 every answered sample is healthy: the window trails the clock.)
    if (next.state === 'healthy') this.noteConfirmed(startedAt - next.lagMs - 1_000);
    const previous = this.#sample.state;
    this.#sample = next;
    this.emit('sample', next);
    if (next.state !== previous) this.emit('change', next, previous);
    return next;
  }

  start(): void {
    const tick = () => {
      if (this.#stopped) return;
      void this.poll().finally(() => {
        if (this.#stopped) return;
        this.#timer = setTimeout(tick, this.#options.intervalMs ?? 1_000);
        this.#timer.unref();
      });
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
