/**
 * The checkpoint of a refresh window, so that a run killed halfway resumes instead of
 * starting over (its redelivered tick, or a duplicate one, continues the same window). The
 * keys are the window's (KeyBuilder.refreshWindowKeys):
 *
 *   todo    the run's id list, JSON, written ONCE per window (SET NX): a resumed run works on
 *           the same list even if the hotness ranking moved meanwhile
 *   done    set of ids settled for good (written, refused by a newer fence/version, or 404)
 *   failed  hash id -> error code of ids that failed every attempt (cleared if a later run
 *           writes them); failed ids are NOT done, so a resumed run tries them again
 *   state   the completed run's outcome, JSON: present means the window is finished
 *
 * Every key carries the checkpoint TTL, so nothing outlives its usefulness. Writes happen only
 * while the run lock is held. A done mark follows the value write (two slots, no shared
 * script), so a hard kill between the two re-fetches at most the ids in flight at that moment.
 */
import type { RefreshWindowKeys } from '../../core/key-builder.ts';
import type { RedisClient } from './redis-connection.ts';

/** Checkpoint operations of one window. */
export interface RunCheckpoint {
  /** The window's id list: the stored one, or `create()`'s (then stored). */
  plan(create: () => Promise<readonly string[]>): Promise<{ ids: readonly string[]; created: boolean }>;
  doneIds(): Promise<Set<string>>;
  markDone(id: string): Promise<void>;
  markFailed(id: string, code: string): Promise<void>;
  /** The stored outcome of the completed window, or undefined. */
  completed(): Promise<unknown>;
  markCompleted(outcome: unknown): Promise<void>;
}

/** A checkpoint over `keys`, each key kept for `ttlMs`. */
export function redisCheckpoint(client: RedisClient, keys: RefreshWindowKeys, ttlMs: number): RunCheckpoint {
  const parseIds = (raw: string): readonly string[] => {
    const value: unknown = JSON.parse(raw);
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
      throw new TypeError(`checkpoint ${keys.todo} is not a JSON array of strings`);
    return value;
  };
  return {
    async plan(create) {
      const stored = await client.get(keys.todo);
      if (stored !== null) return { ids: parseIds(stored), created: false };
      const ids = await create();
      if ((await client.set(keys.todo, JSON.stringify(ids), 'PX', ttlMs, 'NX')) === 'OK')
        return { ids, created: true };
      // Written by someone else in between (only possible after a lock takeover): theirs wins.
      const winner = await client.get(keys.todo);
      return { ids: winner === null ? ids : parseIds(winner), created: false };
    },
    async doneIds() {
      return new Set(await client.smembers(keys.done));
    },
    async markDone(id) {
      check(await client.multi().sadd(keys.done, id).pexpire(keys.done, ttlMs).hdel(keys.failed, id).exec());
    },
    async markFailed(id, code) {
      check(await client.multi().hset(keys.failed, id, code).pexpire(keys.failed, ttlMs).exec());
    },
    async completed() {
      const raw = await client.get(keys.state);
      return raw === null ? undefined : (JSON.parse(raw) as unknown);
    },
    async markCompleted(outcome) {
      await client.set(keys.state, JSON.stringify(outcome), 'PX', ttlMs);
    },
  };
}

/** MULTI/EXEC reports a failed command in its reply, not by rejecting: surface it. */
function check(replies: [error: Error | null, result: unknown][] | null): void {
  if (replies === null) throw new Error('checkpoint transaction aborted');
  for (const [error] of replies) if (error !== null) throw error;
}
