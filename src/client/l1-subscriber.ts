/**
 * Read side (src/client/: what an Orchestrator runs beside its cache, never the worker).
 *
 * Keeps an in-process L1 cache coherent with the worker fleet's broadcasts (DESIGN rule 5).
 * Pub/sub is fire-and-forget, so this helper assumes loss and FLUSHES the whole L1 whenever
 * it cannot prove it saw every broadcast: on a sequence gap, on (re)subscribe, on a
 * disconnect, on a heartbeat whose sequence differs from the last seen one, and when no
 * message at all arrived within `missedHeartbeats` × `heartbeatIntervalMs`.
 *
 * L1 fill race: a reader that read L2 before a broadcast and fills L1 after it would keep
 * a stale entry. Readers take `epoch` before reading L2 and fill L1 only if
 * `canFill(epoch)` is still true afterwards (every drop or flush moves the epoch).
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { parseBroadcast } from '../adapters/redis/broadcast-message.ts';
import type { InvalidateMessage } from '../adapters/redis/broadcast-message.ts';
import type { L1Channel } from '../core/key-builder.ts';
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from '../adapters/redis/l1-heartbeat.ts';
import { reconnectWhenEnded, type RedisConfig } from '../adapters/redis/redis-connection.ts';
import { createSubscriberClient } from './subscriber-client.ts';

/** The part of an L1 cache this helper needs: a Map fits. */
export interface L1Store {
  delete(key: string): unknown;
  clear(): unknown;
}

export type FlushReason =
  | 'subscribed'
  | 'gap'
  | 'heartbeat-ahead'
  | 'sequence-reset'
  | 'heartbeat-missed'
  | 'disconnected'
  | 'malformed';

export interface FlushEvent {
  readonly reason: FlushReason;
  /** The sequence expected next, when known. */
  readonly expectedSeq?: number;
  /** The sequence received, when the flush was caused by a message. */
  readonly seq?: number;
}

/** Typed events of the subscriber. */
export interface L1SubscriberEvents {
  flush: [event: FlushEvent];
  /** A broadcast applied in order (keys and guarded entries dropped). */
  invalidate: [message: InvalidateMessage];
  /** Connection or subscribe errors; the subscriber keeps retrying. */
  error: [error: Error];
}

export interface L1SubscriberOptions {
  /** Redis to subscribe on; a dedicated connection is made from it. */
  readonly redis: RedisConfig;
  readonly channel: L1Channel;
  readonly l1: L1Store;
  /** The publishers' heartbeat interval. Default 1000 ms. */
  readonly heartbeatIntervalMs?: number;
  /** Silent intervals tolerated before flushing. Default 3. */
  readonly missedHeartbeats?: number;
  /** Factory for the dedicated client (tests); defaults to `createSubscriberClient(redis)`. */
  readonly createClient?: (redis: RedisConfig) => Redis;
}

/** Subscribes to the L1 channel and drops or flushes `l1` entries; see the module header. */
export class L1Subscriber extends EventEmitter<L1SubscriberEvents> {
  readonly #options: L1SubscriberOptions;
  readonly #client: Redis;
  readonly #silenceMs: number;
  readonly #byFence = new Map<string, Set<string>>();
  readonly #fenceOf = new Map<string, string>();
  readonly #flushCounts = new Map<FlushReason, number>();
  #lastSeq: number | undefined;
  #subscribed = false;
  #silent = false;
  #epoch = 0;
  #watchdog: NodeJS.Timeout | undefined;
  #firstSubscribe: Promise<void> | undefined;
  #startWaiter: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: L1SubscriberOptions) {
    super();
    this.#options = options;
    this.#silenceMs =
      (options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS) * (options.missedHeartbeats ?? 3);
    this.#client = (options.createClient ?? createSubscriberClient)(options.redis);
    this.#client.on('error', (error: Error) => this.#error(error));
    this.#client.on('ready', () => this.#subscribe());
    this.#client.on('close', () => this.#disconnected());
    // ioredis can end a connection for good on a disconnect during its reconnect (see
    // reconnectWhenEnded): only close() may end the subscriber.
    reconnectWhenEnded(
      this.#client,
      () => this.#closing !== undefined,
      options.redis.tuning?.maxReconnectDelayMs,
    );
    this.#client.on('message', (channel: string, raw: string) => {
      if (channel === options.channel.channel) this.#receive(raw);
    });
  }

  /** Resolves once subscribed for the first time; rejects if closed before that. */
  start(): Promise<void> {
    return (this.#firstSubscribe ??= new Promise<void>((resolve, reject) => {
      if (this.#closing) return reject(new Error('L1 subscriber closed before subscribing'));
      if (this.#subscribed) return resolve();
      this.#startWaiter = { resolve, reject };
    }));
  }

  /** Records that `key` was derived under `fence`, so a broadcast of that fence drops it. */
  register(key: string, fence: string): void {
    this.forget(key);
    let keys = this.#byFence.get(fence);
    if (!keys) this.#byFence.set(fence, (keys = new Set()));
    keys.add(key);
    this.#fenceOf.set(key, fence);
  }

  /** Stops tracking `key` (call it when the L1 evicts the entry). */
  forget(key: string): void {
    const fence = this.#fenceOf.get(key);
    if (fence === undefined) return;
    this.#fenceOf.delete(key);
    const keys = this.#byFence.get(fence);
    keys?.delete(key);
    if (keys?.size === 0) this.#byFence.delete(fence);
  }

  /** Moves on every drop and flush; take it before reading L2. */
  get epoch(): number {
    return this.#epoch;
  }

  /** True when an L1 fill whose L2 read started at `epoch` may be stored. */
  canFill(epoch: number): boolean {
    return this.coherent && epoch === this.#epoch;
  }

  /** Subscribed and hearing the channel: the L1 may be used. */
  get coherent(): boolean {
    return this.#subscribed && !this.#silent && this.#closing === undefined;
  }

  /** The last sequence seen, undefined until the first message after a (re)subscribe. */
  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  /** Flushes so far, all reasons together. */
  get flushCount(): number {
    let n = 0;
    for (const c of this.#flushCounts.values()) n += c;
    return n;
  }

  /** Flushes so far per reason. */
  flushCounts(): ReadonlyMap<FlushReason, number> {
    return new Map(this.#flushCounts);
  }

  /** Unsubscribes and closes the dedicated connection; a second call returns the same promise. */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      clearTimeout(this.#watchdog);
      this.#subscribed = false;
      this.#startWaiter?.reject(new Error('L1 subscriber closed before subscribing'));
      this.#startWaiter = undefined;
      try {
        await this.#client.quit();
      } catch {
        // Already gone: disconnect() below still releases the socket.
      }
      this.#client.disconnect();
      this.#client.removeAllListeners();
    })());
  }

  #subscribe(): void {
    if (this.#closing) return;
    this.#client.subscribe(this.#options.channel.channel).then(
      () => {
        if (this.#closing) return;
        this.#subscribed = true;
        this.#silent = false;
        // Unknown until the next message: whatever arrives first is adopted.
        this.#lastSeq = undefined;
        this.#flush({ reason: 'subscribed' });
        this.#armWatchdog();
        this.#startWaiter?.resolve();
        this.#startWaiter = undefined;
      },
      (error: unknown) => {
        this.#error(error instanceof Error ? error : new Error(String(error)));
        // Force a reconnect, which retries the subscribe on the next `ready`.
        if (!this.#closing) this.#client.disconnect(true);
      },
    );
  }

  #disconnected(): void {
    clearTimeout(this.#watchdog);
    if (this.#closing || !this.#subscribed) return;
    this.#subscribed = false;
    this.#flush({ reason: 'disconnected' });
  }

  #receive(raw: string): void {
    this.#silent = false;
    this.#armWatchdog();
    const message = parseBroadcast(raw);
    const last = this.#lastSeq;
    if (message === undefined) {
      this.#flush({ reason: 'malformed' });
      return;
    }
    this.#lastSeq = message.seq;
    if (message.type === 'heartbeat') {
      if (last !== undefined && message.seq !== last) {
        this.#flush({
          reason: message.seq > last ? 'heartbeat-ahead' : 'sequence-reset',
          expectedSeq: last,
          seq: message.seq,
        });
      }
      return;
    }
    if (last !== undefined && message.seq !== last + 1) {
      // The flush also covers this message's own keys.
      this.#flush({ reason: 'gap', expectedSeq: last + 1, seq: message.seq });
      return;
    }
    this.#drop(message);
    this.emit('invalidate', message);
  }

  #drop(message: InvalidateMessage): void {
    this.#epoch++;
    const l1 = this.#options.l1;
    for (const key of message.keys) {
      l1.delete(key);
      this.forget(key);
    }
    for (const fence of message.fences) {
      const keys = this.#byFence.get(fence);
      if (!keys) continue;
      this.#byFence.delete(fence);
      for (const key of keys) {
        l1.delete(key);
        this.#fenceOf.delete(key);
      }
    }
  }

  #flush(event: FlushEvent): void {
    this.#epoch++;
    this.#options.l1.clear();
    this.#byFence.clear();
    this.#fenceOf.clear();
    this.#flushCounts.set(event.reason, (this.#flushCounts.get(event.reason) ?? 0) + 1);
    this.emit('flush', event);
  }

  #armWatchdog(): void {
    clearTimeout(this.#watchdog);
    if (this.#closing) return;
    this.#watchdog = setTimeout(() => {
      // Silence: heartbeats (and maybe broadcasts) are being lost. Flush, stay incoherent
      // until a message arrives, and keep flushing each period so no fill survives long.
      this.#silent = true;
      this.#flush({ reason: 'heartbeat-missed' });
      this.#armWatchdog();
      // In cluster mode the node in use may hang with its socket open (or have left the
      // cluster bus): reconnect, which takes the next node (subscriber-client.ts). Elsewhere
      // there is only one address to go to, and Sentinel moves the client on its own.
      if (this.#options.redis.mode === 'cluster') this.#client.disconnect(true);
    }, this.#silenceMs);
    this.#watchdog.unref();
  }

  #error(error: Error): void {
    // An EventEmitter throws on an unheard 'error'; a flaky connection must not crash the app.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}
