/**
 * Read side (src/client/): hears the pipeline watermark (decision 0022). One subscription to
 * the namespace's watermark channel (src/adapters/redis/watermark-message.ts) on a dedicated
 * connection; keeps the newest canary origin time heard per topic. Nothing is reset on a
 * disconnect: a watermark that stops moving ages by itself, and the trust rule
 * (pipeline-trust.ts) stops trusting the caches once it is older than the window allows.
 * Until the first canary of a topic is heard, the families it feeds are not trusted.
 */
import type { Redis } from 'ioredis';
import { parseWatermark, watermarkChannel } from '../adapters/redis/watermark-message.ts';
import type { WatermarkMessage } from '../adapters/redis/watermark-message.ts';
import { reconnectWhenEnded } from '../adapters/redis/redis-connection.ts';
import type { RedisConfig } from '../adapters/redis/redis-connection.ts';
import type { CanaryTopic } from '../core/events/canary-events.ts';
import { createSubscriberClient } from './subscriber-client.ts';

/** A canary origin time further ahead of this clock than this is ignored. */
export const MAX_FUTURE_SKEW_MS = 5_000;

export class PipelineWatermark {
  readonly #client: Redis;
  readonly #channel: string;
  readonly #newest: Partial<Record<CanaryTopic, number>> = {};
  readonly #onHeard: ((m: WatermarkMessage) => void) | undefined;
  readonly #onOther: ((raw: string) => void) | undefined;
  #closing: Promise<void> | undefined;
  #ready: Promise<void>;
  #resolveReady: () => void = () => undefined;

  constructor(
    redis: RedisConfig,
    namespace: string,
    options: {
      onError?: (error: Error) => void;
      onHeard?: (m: WatermarkMessage) => void;
      /** Every other message of the channel (worker presence, decision 0024). */
      onOther?: (raw: string) => void;
      createClient?: (redis: RedisConfig) => Redis;
    } = {},
  ) {
    this.#channel = watermarkChannel(namespace);
    this.#onHeard = options.onHeard;
    this.#onOther = options.onOther;
    this.#ready = new Promise((resolve) => (this.#resolveReady = resolve));
    const onError = options.onError ?? (() => undefined);
    this.#client = (options.createClient ?? createSubscriberClient)(redis);
    this.#client.on('error', onError);
    this.#client.on('ready', () => {
      if (this.#closing) return;
      this.#client.subscribe(this.#channel).then(
        () => this.#resolveReady(),
        (error: unknown) => {
          onError(error instanceof Error ? error : new Error(String(error)));
          if (!this.#closing) this.#client.disconnect(true);
        },
      );
    });
    reconnectWhenEnded(this.#client, () => this.#closing !== undefined, redis.tuning?.maxReconnectDelayMs);
    this.#client.on('message', (ch: string, raw: string) => {
      if (ch === this.#channel) this.#receive(raw);
    });
  }

  /** Resolves once subscribed for the first time. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** The newest canary origin time heard per topic (a copy). */
  newest(): Readonly<Partial<Record<CanaryTopic, number>>> {
    return { ...this.#newest };
  }

  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      try {
        await this.#client.quit();
      } catch {
        // Already gone: disconnect() releases the socket.
      }
      this.#client.disconnect();
      this.#client.removeAllListeners();
    })());
  }

  #receive(raw: string): void {
    const m = parseWatermark(raw);
    if (m === undefined) {
      this.#onOther?.(raw);
      return;
    }
    // A watermark from the future would trust the caches for as long: one beyond a few
    // seconds of clock skew is ignored.
    if (m.originTimeMs > Date.now() + MAX_FUTURE_SKEW_MS) return;
    const prev = this.#newest[m.topic];
    // Canaries arrive out of order over a standard queue: the newest one stands.
    if (prev === undefined || m.originTimeMs > prev) this.#newest[m.topic] = m.originTimeMs;
    this.#onHeard?.(m);
  }
}
