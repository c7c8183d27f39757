/**
 * The fleet's kill switch (issue 14 item 3): one Redis hash, `<ns>:{admin}:pause`, that every
 * worker reads every `pollMs` (default 500 ms), so `admin pause` stops the whole fleet from
 * receiving within about half a second plus one in-flight receive, and a worker started while
 * the fleet is paused reads the switch before its first receive and stays paused.
 * Why Redis and not SSM: docs/decisions/0015-admin-surface.md.
 *
 * Fields: `all` and one per queue name; each value is JSON
 * `{ "paused": bool, "by": actor, "at": ISO time, "reason": text }`. A queue is paused when
 * `all` or its own field says so. Resume writes `paused: false` instead of deleting the
 * field, so the hash, once written, always exists: when it vanishes (a flush, an eviction,
 * a failover that lost it) while a worker had it paused, the worker keeps its last state and
 * logs an error instead of taking the silence for a resume.
 *
 * Until the first successful read the state is unknown, and an unknown state is treated as
 * paused (`isPaused` is true): a worker that cannot read Redis could not apply a single
 * delete anyway, and a paused fleet must never start consuming by accident.
 */
import { EventEmitter } from 'node:events';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';

export interface PauseEntry {
  readonly paused: boolean;
  readonly by: string;
  readonly at: string;
  readonly reason: string;
}

/** The switch as read: every field that is set. */
export type PauseState = Readonly<Record<string, PauseEntry>>;

/** The field that pauses every queue. */
export const ALL_QUEUES = 'all';

export const pauseKey = (namespace: string): string => `${namespace}:{admin}:pause`;

/** Parses the hash; fields that do not parse are skipped. */
export function parsePauseState(raw: Readonly<Record<string, string>>): PauseState {
  const out: Record<string, PauseEntry> = {};
  for (const [field, text] of Object.entries(raw)) {
    try {
      const v = JSON.parse(text) as Partial<PauseEntry>;
      if (typeof v.paused !== 'boolean') continue;
      out[field] = {
        paused: v.paused,
        by: typeof v.by === 'string' ? v.by : '',
        at: typeof v.at === 'string' ? v.at : '',
        reason: typeof v.reason === 'string' ? v.reason : '',
      };
    } catch {
      // not JSON: ignored
    }
  }
  return out;
}

/** True when `queue` is paused in `state` (by `all` or by its own field). */
export const queuePaused = (state: PauseState, queue: string): boolean =>
  state[ALL_QUEUES]?.paused === true || state[queue]?.paused === true;

/** The paused fields only (what operators see). */
export const pausedOnly = (state: PauseState): PauseState =>
  Object.fromEntries(Object.entries(state).filter(([, e]) => e.paused));

/**
 * Writes the switch. `queue` undefined: `all`; a resume of all also clears every queue's own
 * pause, so "resume" always means the whole fleet consumes again. Returns the new state.
 */
export async function setPause(
  client: RedisClient,
  namespace: string,
  change: { readonly paused: boolean; readonly queue?: string; readonly by: string; readonly reason: string },
  now: () => Date = () => new Date(),
): Promise<PauseState> {
  const key = pauseKey(namespace);
  const entry = JSON.stringify({
    paused: change.paused,
    by: change.by,
    at: now().toISOString(),
    reason: change.reason,
  });
  const fields: string[] = [change.queue ?? ALL_QUEUES, entry];
  if (!change.paused && change.queue === undefined) {
    const current = await client.hkeys(key);
    for (const f of current) if (f !== ALL_QUEUES) fields.push(f, entry);
  }
  await client.hset(key, ...fields);
  return readPause(client, namespace);
}

export async function readPause(client: RedisClient, namespace: string): Promise<PauseState> {
  return parsePauseState(await client.hgetall(pauseKey(namespace)));
}

export interface PauseWatcherEvents {
  /** The set of paused queues (or `all`) changed; `state` is the new one. */
  change: [state: PauseState];
  /** A read failed; the last state stands. */
  error: [error: Error];
  /** The hash vanished while something was paused; the last state stands. */
  vanished: [last: PauseState];
}

export interface PauseWatcherOptions {
  readonly client: RedisClient;
  readonly namespace: string;
  /** How often the switch is read. Default 500 ms. */
  readonly pollMs?: number;
}

/** Reads the switch every `pollMs` and says when it changed. */
export class PauseWatcher extends EventEmitter<PauseWatcherEvents> {
  readonly #client: RedisClient;
  readonly #namespace: string;
  readonly #pollMs: number;
  #state: PauseState | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;

  constructor(options: PauseWatcherOptions) {
    super();
    this.#client = options.client;
    this.#namespace = options.namespace;
    this.#pollMs = options.pollMs ?? 500;
  }

  /** The last state read; undefined before the first successful read. */
  get state(): PauseState | undefined {
    return this.#state;
  }

  /** True when `queue` is paused, or the switch was never read (see the header). */
  isPaused(queue: string): boolean {
    return this.#state === undefined || queuePaused(this.#state, queue);
  }

  /** Reads once now (resolves when done; a failure is emitted, not thrown). */
  poll(): Promise<void> {
    this.#reading ??= this.#read().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #read(): Promise<void> {
    let raw: Record<string, string>;
    try {
      raw = await this.#client.hgetall(pauseKey(this.#namespace));
    } catch (err) {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const next = parsePauseState(raw);
    const previous = this.#state;
    if (
      Object.keys(raw).length === 0 &&
      previous !== undefined &&
      Object.values(previous).some((e) => e.paused)
    ) {
      this.emit('vanished', previous);
      return;
    }
    this.#state = next;
    if (previous === undefined || pausedKey(previous) !== pausedKey(next)) this.emit('change', next);
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.poll(), this.#pollMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

const pausedKey = (s: PauseState): string => Object.keys(pausedOnly(s)).sort().join(',');
