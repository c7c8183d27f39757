/**
 * Read side (src/client/): hears the workers' presence (decision 0024) on the watermark
 * channel the pipeline guard already subscribes to (pipeline-watermark.ts hands over every
 * message that is not a watermark), times it by this process's monotonic clock, and answers
 * whether the pipeline is unproven because a worker fell silent without leaving
 * (presence-rule.ts has the rule).
 */
import type { Logger } from 'pino';
import { parsePresence } from '../adapters/redis/presence-message.ts';
import { PresenceTable, presenceRule } from './presence-rule.ts';
import type { PresenceOptions } from './presence-rule.ts';

export class WorkerPresence {
  readonly #table: PresenceTable;
  readonly #now: () => number;
  readonly #log: Logger | undefined;
  readonly #onPresumedDead: (() => void) | undefined;
  #unprovenUntil: number | undefined;

  constructor(
    options: PresenceOptions,
    deps: { now?: () => number; logger?: Logger | undefined; onPresumedDead?: () => void } = {},
  ) {
    this.#table = new PresenceTable(presenceRule(options));
    this.#now = deps.now ?? (() => performance.now());
    this.#log = deps.logger;
    this.#onPresumedDead = deps.onPresumedDead;
  }

  /** A raw message of the watermark channel; false when it is not a presence message. */
  receive(raw: string): boolean {
    const m = parsePresence(raw);
    if (m === undefined) return false;
    this.#table.hear(m.worker, m.leaving, this.#now());
    return true;
  }

  /** True while a silent worker may still hold unapplied messages. */
  unproven(): boolean {
    const now = this.#now();
    const until = this.#table.unprovenUntil(now);
    if (until !== this.#unprovenUntil) {
      // A new or later span: a worker (another one) presumed dead.
      if (until !== undefined && (this.#unprovenUntil === undefined || until > this.#unprovenUntil)) {
        this.#onPresumedDead?.();
        this.#log?.warn(
          { unprovenForMs: Math.round(until - now) },
          'pipeline guard: a worker fell silent without leaving; presumed dead holding messages',
        );
      }
      this.#unprovenUntil = until;
    }
    return until !== undefined;
  }
}
