/**
 * Worker presence (decision 0024), the worker's half: every `WORKER_PRESENCE_INTERVAL_MS`
 * the worker publishes its id on the namespace's watermark channel
 * (src/adapters/redis/presence-message.ts), the first time before its pollers receive
 * anything, and once its drain has completed (nothing received is in hand any more) a last
 * message saying "leaving". Readers running the pipeline guard presume a worker that falls
 * silent without leaving dead holding messages (src/client/presence-rule.ts). A failed
 * publish is logged and skipped: the next one follows within an interval, and a reader that
 * misses three in a row distrusts its caches for a while, which is the safe side.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { encodePresence } from '../adapters/redis/presence-message.ts';
import { watermarkChannel } from '../adapters/redis/watermark-message.ts';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';

/** This process's worker id: host, pid and a random suffix (a pid reused by a restart differs). */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

export interface PresenceLoop {
  readonly workerId: string;
  /** Stops announcing and says "leaving"; call it only once nothing is in hand. Idempotent. */
  leave(): Promise<void>;
}

/** Starts announcing (resolves after the first announcement was answered or failed); 0: off. */
export async function startPresence(o: {
  readonly redis: RedisClient;
  readonly namespace: string;
  readonly intervalMs: number;
  readonly workerId?: string;
  readonly onError: (err: unknown) => void;
}): Promise<PresenceLoop> {
  const workerId = o.workerId ?? newWorkerId();
  if (o.intervalMs <= 0) return { workerId, leave: () => Promise.resolve() };
  const channel = watermarkChannel(o.namespace);
  // Never throws, not even synchronously (a client already closed): a failed announcement is skipped.
  const announce = (leaving: boolean): Promise<void> =>
    Promise.resolve()
      .then(() => o.redis.publish(channel, encodePresence(workerId, leaving)))
      .then(
        () => undefined,
        (err: unknown) => o.onError(err),
      );
  let inFlight: Promise<void> = announce(false);
  await inFlight;
  const timer = setInterval(() => {
    inFlight = announce(false);
  }, o.intervalMs);
  timer.unref();
  let leaving: Promise<void> | undefined;
  return {
    workerId,
    leave: () =>
      (leaving ??= (async () => {
        clearInterval(timer);
        await inFlight;
        await announce(true);
      })()),
  };
}
