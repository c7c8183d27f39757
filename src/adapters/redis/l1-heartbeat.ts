/**
 * Heartbeats on the L1 broadcast channel. Each carries the CURRENT sequence, read and
 * published in one script, so a subscriber that missed the last broadcast learns it from
 * the next heartbeat even when no other broadcast follows (it then flushes its L1).
 */
import type { L1Channel } from './broadcast-message.ts';
import { withScripts } from './lua-scripts.ts';
import type { PublishReply } from './lua-scripts.ts';
import type { RedisClient } from './redis-connection.ts';

/** Default interval; subscribers flush after `missedHeartbeats` × this without a message. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;

export interface HeartbeatResult {
  readonly seq: number;
  readonly receivers: number;
  readonly publishedAtMs: number;
}

/** Publishes one heartbeat carrying the channel's current sequence. */
export async function publishHeartbeat(client: RedisClient, channel: L1Channel): Promise<HeartbeatResult> {
  const [seq, receivers, publishedAtMs] = (await withScripts(client).mcHeartbeat(
    channel.seqKey,
    channel.channel,
  )) as PublishReply;
  return { seq, receivers, publishedAtMs };
}

/** A running heartbeat loop; `stop()` is idempotent and waits for an in-flight publish. */
export interface HeartbeatLoop {
  stop(): Promise<void>;
}

/** Publishes a heartbeat every `intervalMs`; errors go to `onError` and the loop keeps going. */
export function startHeartbeats(
  client: RedisClient,
  channel: L1Channel,
  intervalMs: number = DEFAULT_HEARTBEAT_INTERVAL_MS,
  onError: (error: unknown) => void = () => undefined,
): HeartbeatLoop {
  let inFlight: Promise<unknown> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  const timer = setInterval(() => {
    inFlight = publishHeartbeat(client, channel).catch(onError);
  }, intervalMs);
  timer.unref();
  return {
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(timer);
        await inFlight;
      })()),
  };
}
