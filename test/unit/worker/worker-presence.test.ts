/**
 * The worker's presence loop (decision 0024) with a fake publisher: announced once before it
 * returns, then every interval; "leaving" last, once, after which nothing is announced; off
 * at 0; a failed publish (even a synchronous throw) is reported, never thrown.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parsePresence } from '../../../src/adapters/redis/presence-message.ts';
import type { RedisClient } from '../../../src/adapters/redis/redis-connection.ts';
import { newWorkerId, startPresence } from '../../../src/worker/worker-presence.ts';

function fakeRedis(publish: (channel: string, message: string) => Promise<number>) {
  return { publish } as unknown as RedisClient;
}

describe('startPresence', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('announces at once and every interval, then "leaving" last and nothing after', async () => {
    const sent: { channel: string; message: string }[] = [];
    const redis = fakeRedis((channel, message) => (sent.push({ channel, message }), Promise.resolve(1)));
    const loop = await startPresence({ redis, namespace: 'ns', intervalMs: 250, onError: () => undefined });
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toHaveLength(5);
    await loop.leave();
    await loop.leave(); // idempotent
    await vi.advanceTimersByTimeAsync(1_000);
    const parsed = sent.map((s) => parsePresence(s.message));
    expect(sent.every((s) => s.channel === 'ns:l1:watermark')).toBe(true);
    expect(parsed.every((p) => p?.worker === loop.workerId)).toBe(true);
    expect(parsed.map((p) => p?.leaving)).toEqual([false, false, false, false, false, true]);
  });

  it('publishes nothing when off', async () => {
    const publish = vi.fn(() => Promise.resolve(1));
    const loop = await startPresence({
      redis: fakeRedis(publish),
      namespace: 'ns',
      intervalMs: 0,
      onError: () => undefined,
    });
    await vi.advanceTimersByTimeAsync(1_000);
    await loop.leave();
    expect(publish).not.toHaveBeenCalled();
  });

  it('reports a failed publish, rejected or thrown, and keeps going', async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const redis = fakeRedis(() => {
      calls++;
      if (calls === 1) throw new Error('closed');
      return Promise.reject(new Error('timeout'));
    });
    const loop = await startPresence({
      redis,
      namespace: 'ns',
      intervalMs: 100,
      onError: (e) => errors.push(e),
    });
    await vi.advanceTimersByTimeAsync(200);
    await loop.leave();
    expect(calls).toBe(4);
    expect(errors.map((e) => (e as Error).message)).toEqual(['closed', 'timeout', 'timeout', 'timeout']);
  });
});

describe('newWorkerId', () => {
  it('is host:pid:8 hex digits, new every time', () => {
    const a = newWorkerId();
    expect(a).toMatch(new RegExp(`^.+:${process.pid}:[0-9a-f]{8}$`));
    expect(newWorkerId()).not.toBe(a);
  });
});
