/**
 * Load tolerance for the tests (first for the read-side client tests): the suite runs on a loaded 2-core CI machine
 * where the event loop stalls for 100-500 ms (sometimes 1-2 s). These helpers let a test keep
 * its adversary without depending on a quiet machine: count the client's Redis breaker
 * openings instead of letting a stall open it unseen, measure this process's own stalls, and
 * wait for fresh messages of a channel the test publishes itself. No vitest import: the
 * stampede's child processes use it too.
 */
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Logger } from 'pino';

/** The client's warning when its Redis breaker opens (cache-client.ts, `onBreak`). */
const REDIS_UNAVAILABLE = 'redis unavailable';

/**
 * For a test whose subject is not the client's Redis breaker: a logger that counts the
 * breaker's openings. Such a test gives its client `redisTimeoutMs: LOAD_TOLERANT_REDIS_TIMEOUT_MS`
 * (an event-loop stall of a loaded CI machine, 100 ms to 2 s, fires the default 250 ms
 * command deadline twice, the breaker opens and reads go to the origin by design) and asserts
 * `opened` is 0, so a real Redis regression still fails it.
 */
export function redisBreakerWatch(): { readonly logger: Logger; readonly opened: number } {
  let opened = 0;
  const logger = pino(
    { level: 'warn' },
    {
      write(line: string) {
        if (line.includes(REDIS_UNAVAILABLE)) opened++;
      },
    },
  );
  return {
    logger,
    get opened() {
      return opened;
    },
  };
}

export const LOAD_TOLERANT_REDIS_TIMEOUT_MS = 2_000;

/** Timer lateness up to this is jitter, not a stall. */
const NOISE_MS = 5;

/**
 * This process's own event-loop stalls, from a ticker every `tickMs`: each gap beyond the tick
 * of more than NOISE_MS is a stall [previous tick + tickMs, this tick] (timer jitter is not). `within(from, to)` is how much of
 * [from, to] (performance.now() times) the process spent stalled; `longest` the worst stall.
 */
export function stallMeter(tickMs = 10): {
  within(from: number, to: number): number;
  readonly longest: number;
  /** Every stall so far, [from, to] in performance.now() time. */
  readonly intervals: readonly (readonly [number, number])[];
  stop(): void;
} {
  const stalls: [number, number][] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last > tickMs + NOISE_MS) stalls.push([last + tickMs, now]);
    last = now;
  }, tickMs);
  return {
    within(from, to) {
      let ms = 0;
      for (const [a, b] of stalls) ms += Math.max(0, Math.min(b, to) - Math.max(a, from));
      return ms;
    },
    get longest() {
      return Math.max(0, ...stalls.map(([a, b]) => b - a));
    },
    get intervals() {
      return stalls;
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * A raw subscriber of one channel, for tests that publish a channel's messages themselves
 * (canaries, presences): after a sleep, `next(...)` waits until each predicate has matched a
 * message received after the call, so the read that follows is judged on fresh messages and
 * not on the silence of a stalled test process (its publishers stall with it).
 */
export async function channelWatch(
  admin: Redis,
  channel: string,
): Promise<{ next(...matches: ((raw: string) => boolean)[]): Promise<void>; close(): Promise<void> }> {
  const sub = admin.duplicate();
  await sub.subscribe(channel);
  let waiters: { left: ((raw: string) => boolean)[]; done: () => void }[] = [];
  sub.on('message', (ch: string, raw: string) => {
    if (ch !== channel) return;
    for (const w of waiters) w.left = w.left.filter((m) => !m(raw));
    for (const w of waiters.filter((x) => x.left.length === 0)) w.done();
    waiters = waiters.filter((x) => x.left.length > 0);
  });
  return {
    async next(...matches) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((done) => waiters.push({ left: matches, done })),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no fresh message on ${channel} within 5 s`)), 5_000);
        }),
      ]).finally(() => clearTimeout(timer));
      // The client's own subscriber got the same messages in the same poll, or just after.
      await new Promise((r) => setImmediate(r));
    },
    async close() {
      sub.disconnect();
      await Promise.resolve();
    },
  };
}
