/**
 * Read side (src/client/): the fill notices of the fleet-wide single-flight. A lease holder
 * publishes the value key it filled on the namespace's fill channel (lease-release-1.lua);
 * every client process has ONE subscription to it, on a dedicated connection, and wakes the
 * local readers waiting for that key, which then read again. No polling: a waiter sleeps
 * until its notice or its bound. On every (re)subscribe all waiters are woken, since a notice
 * may have been missed while the connection was down (they read again, which is harmless).
 */
import type { Redis } from 'ioredis';
import type { RedisConfig } from '../adapters/redis/redis-connection.ts';
import { createSubscriberClient } from './subscriber-client.ts';

export type WaitOutcome = 'notified' | 'timeout' | 'closed';

/** A registered waiter: register BEFORE asking for the lease, so no notice falls in between. */
export interface FillWaiter {
  /** Resolves on the key's notice, after `timeoutMs`, or on close. */
  wait(timeoutMs: number): Promise<WaitOutcome>;
  cancel(): void;
}

export class FillNotices {
  readonly #client: Redis;
  readonly #channel: string;
  readonly #waiters = new Map<string, Set<(o: WaitOutcome) => void>>();
  #subscribed = false;
  #closing: Promise<void> | undefined;
  #ready: Promise<void>;
  #resolveReady: () => void = () => undefined;

  constructor(redis: RedisConfig, channel: string, onError: (error: Error) => void = () => undefined) {
    this.#channel = channel;
    this.#ready = new Promise((resolve) => (this.#resolveReady = resolve));
    this.#client = createSubscriberClient(redis);
    this.#client.on('error', onError);
    this.#client.on('ready', () => {
      if (this.#closing) return;
      this.#client.subscribe(channel).then(
        () => {
          this.#subscribed = true;
          this.#resolveReady();
          this.#wakeAll('notified');
        },
        (error: unknown) => {
          onError(error instanceof Error ? error : new Error(String(error)));
          if (!this.#closing) this.#client.disconnect(true);
        },
      );
    });
    this.#client.on('close', () => (this.#subscribed = false));
    this.#client.on('message', (ch: string, key: string) => {
      if (ch === this.#channel) this.#wake(key, 'notified');
    });
  }

  /** Resolves once subscribed for the first time. */
  ready(): Promise<void> {
    return this.#ready;
  }

  get subscribed(): boolean {
    return this.#subscribed;
  }

  register(key: string): FillWaiter {
    let settle: ((o: WaitOutcome) => void) | undefined;
    let outcome: WaitOutcome | undefined;
    const listener = (o: WaitOutcome): void => {
      outcome ??= o;
      settle?.(o);
    };
    let set = this.#waiters.get(key);
    if (!set) this.#waiters.set(key, (set = new Set()));
    set.add(listener);
    const remove = (): void => {
      const s = this.#waiters.get(key);
      s?.delete(listener);
      if (s?.size === 0) this.#waiters.delete(key);
    };
    return {
      wait: (timeoutMs) =>
        new Promise<WaitOutcome>((resolve) => {
          if (outcome !== undefined || this.#closing) {
            remove();
            return resolve(outcome ?? 'closed');
          }
          const timer = setTimeout(() => settle?.('timeout'), timeoutMs);
          settle = (o) => {
            clearTimeout(timer);
            remove();
            resolve(o);
          };
        }),
      cancel: remove,
    };
  }

  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      this.#wakeAll('closed');
      try {
        await this.#client.quit();
      } catch {
        // Already gone: disconnect() releases the socket.
      }
      this.#client.disconnect();
      this.#client.removeAllListeners();
    })());
  }

  #wake(key: string, outcome: WaitOutcome): void {
    const set = this.#waiters.get(key);
    if (!set) return;
    for (const listener of [...set]) listener(outcome);
  }

  #wakeAll(outcome: WaitOutcome): void {
    for (const key of [...this.#waiters.keys()]) this.#wake(key, outcome);
  }
}
