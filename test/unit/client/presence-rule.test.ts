/**
 * The worker presence rule (decision 0024) at its edges, the presence wire format, and the
 * client's defaults against the workers' own. Pure.
 */
import { describe, expect, it } from 'vitest';
import { encodePresence, parsePresence } from '../../../src/adapters/redis/presence-message.ts';
import { parseWatermark } from '../../../src/adapters/redis/watermark-message.ts';
import {
  MAX_TRACKED_WORKERS,
  PRESENCE_DEFAULTS,
  PresenceTable,
  presenceRule,
} from '../../../src/client/presence-rule.ts';
import { WorkerPresence } from '../../../src/client/worker-presence.ts';
import { createCacheClient } from '../../../src/client/cache-client.ts';
import type { CacheClientOptions } from '../../../src/client/cache-client.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { VARIABLES } from '../../../src/config/variables.ts';

const RULE = presenceRule(PRESENCE_DEFAULTS); // silent after 750 ms, hand-over 5,500 ms
const T0 = 10_000;

describe('presenceRule', () => {
  it('derives the silence threshold and the hand-over span from the options', () => {
    expect(RULE).toEqual({ silentAfterMs: 750, handOverMs: 3_000 + 1_000 + 1_500 });
  });

  it("takes its defaults from the workers' defaults", () => {
    expect(PRESENCE_DEFAULTS.intervalMs).toBe(Number(VARIABLES.WORKER_PRESENCE_INTERVAL_MS.default));
    expect(PRESENCE_DEFAULTS.visibilityTimeoutMs).toBe(
      1_000 * Number(VARIABLES.WORKER_VISIBILITY_TIMEOUT_S.default),
    );
    expect(PRESENCE_DEFAULTS.visibilityHeartbeatMs).toBe(
      1_000 * Number(VARIABLES.WORKER_HEARTBEAT_INTERVAL_S.default),
    );
  });

  it('refuses a rule whose hand-over is not longer than the silence threshold', () => {
    expect(() => new PresenceTable({ silentAfterMs: 750, handOverMs: 750 })).toThrow(RangeError);
    expect(() => new PresenceTable({ silentAfterMs: 0, handOverMs: 750 })).toThrow(RangeError);
  });
});

describe('PresenceTable', () => {
  it('is proven while a worker is heard, and unproven from one ms past the silence threshold', () => {
    const t = new PresenceTable(RULE);
    t.hear('a', false, T0);
    expect(t.unprovenUntil(T0)).toBeUndefined();
    expect(t.unprovenUntil(T0 + 749)).toBeUndefined();
    expect(t.unprovenUntil(T0 + 750)).toBeUndefined(); // "more than", not "at least"
    expect(t.unprovenUntil(T0 + 751)).toBe(T0 + 5_500);
  });

  it('forgets a silent worker at its last presence + the hand-over span, not a ms before', () => {
    const t = new PresenceTable(RULE);
    t.hear('a', false, T0);
    expect(t.unprovenUntil(T0 + 5_499)).toBe(T0 + 5_500);
    expect(t.size).toBe(1);
    expect(t.unprovenUntil(T0 + 5_500)).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it('never presumes dead a worker that said "leaving", and forgets it', () => {
    const t = new PresenceTable(RULE);
    t.hear('a', false, T0);
    t.hear('a', true, T0 + 200);
    expect(t.unprovenUntil(T0 + 1_000)).toBeUndefined();
    expect(t.unprovenUntil(T0 + 5_000)).toBeUndefined();
    // A stray "up" after "leaving" does not revive it into a worker that can fall silent
    t.hear('a', false, T0 + 300);
    expect(t.unprovenUntil(T0 + 2_000)).toBeUndefined();
    expect(t.unprovenUntil(T0 + 5_700)).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it('is unproven until the latest span of several silent workers, and not because of the living ones', () => {
    const t = new PresenceTable(RULE);
    t.hear('a', false, T0);
    t.hear('b', false, T0 + 400);
    t.hear('c', false, T0);
    // c keeps talking, a and b fall silent
    for (let at = T0 + 250; at <= T0 + 7_000; at += 250) t.hear('c', false, at);
    expect(t.unprovenUntil(T0 + 751)).toBe(T0 + 5_500); // a only (b is silent 351 ms)
    expect(t.unprovenUntil(T0 + 1_151)).toBe(T0 + 5_900); // a and b: b's span ends later
    expect(t.unprovenUntil(T0 + 5_500)).toBe(T0 + 5_900); // a forgotten, b still holds
    expect(t.unprovenUntil(T0 + 5_900)).toBeUndefined();
    expect(t.size).toBe(1); // c
  });

  it('treats a restarted worker (a new id) as a new worker: the old id still gets its span', () => {
    const t = new PresenceTable(RULE);
    t.hear('host:1:old', false, T0);
    t.hear('host:1:new', false, T0 + 2_000); // killed at ~T0, replaced 2 s later
    for (let at = T0 + 2_250; at <= T0 + 6_000; at += 250) t.hear('host:1:new', false, at);
    expect(t.unprovenUntil(T0 + 2_500)).toBe(T0 + 5_500);
    expect(t.unprovenUntil(T0 + 5_500)).toBeUndefined();
  });

  it('tolerates delivery jitter of up to two intervals, and a clock read before the message time', () => {
    const t = new PresenceTable(RULE);
    // Presence every 250 ms, each delivered 0-499 ms late: never more than 750 ms apart
    const delays = [0, 499, 10, 480, 0, 499, 0];
    const heard = delays.map((d, i) => T0 + i * 250 + d);
    for (const at of heard) {
      expect(t.unprovenUntil(at)).toBeUndefined();
      t.hear('a', false, at);
    }
    // A message handled out of order (an older time after a newer one) never moves it back
    t.hear('a', false, T0);
    const last = Math.max(...heard);
    expect(t.unprovenUntil(last + 750)).toBeUndefined();
    // A reading earlier than the last presence (a caller's stale clock) is "just heard"
    expect(t.unprovenUntil(last - 100)).toBeUndefined();
  });

  it('tracks at most MAX_TRACKED_WORKERS; a new id beyond that is ignored', () => {
    const t = new PresenceTable(RULE);
    for (let i = 0; i < MAX_TRACKED_WORKERS + 5; i++) t.hear(`w${i}`, false, T0);
    expect(t.size).toBe(MAX_TRACKED_WORKERS);
    // Once the silent ones are forgotten, new ids are tracked again
    t.hear('late', false, T0 + 5_500);
    expect(t.size).toBe(1);
  });
});

describe('WorkerPresence', () => {
  it('hears presence messages on its clock, ignores anything else, and reports each new silent worker once', () => {
    let now = T0;
    let presumed = 0;
    const p = new WorkerPresence(PRESENCE_DEFAULTS, { now: () => now, onPresumedDead: () => presumed++ });
    expect(p.receive(encodePresence('a', false))).toBe(true);
    expect(p.receive('{"v":1,"type":"watermark","topic":"catalog","originTimeMs":1,"queue":"catalog"}')).toBe(
      false,
    );
    now = T0 + 751;
    expect(p.unproven()).toBe(true);
    expect(p.unproven()).toBe(true);
    expect(presumed).toBe(1);
    now = T0 + 5_500;
    expect(p.unproven()).toBe(false);
    expect(presumed).toBe(1);
  });
});

describe('presence wire format', () => {
  it('round-trips, and an older reader never takes it for a watermark', () => {
    const raw = encodePresence('ip-10-0-1-7:1:3f9a2c1e', true);
    expect(parsePresence(raw)).toEqual({
      v: 1,
      type: 'presence',
      worker: 'ip-10-0-1-7:1:3f9a2c1e',
      leaving: true,
    });
    expect(parseWatermark(raw)).toBeUndefined();
    expect(raw.length).toBeLessThan(100);
  });

  it('refuses malformed messages', () => {
    for (const raw of [
      'not json',
      'null',
      '{"v":2,"type":"presence","worker":"a","leaving":false}',
      '{"v":1,"type":"presence","worker":"","leaving":false}',
      `{"v":1,"type":"presence","worker":"${'x'.repeat(129)}","leaving":false}`,
      '{"v":1,"type":"presence","worker":"a","leaving":"no"}',
      '{"v":1,"type":"presence","leaving":false}',
    ])
      expect(parsePresence(raw)).toBeUndefined();
  });
});

describe('pipelineGuard.presence options', () => {
  const base = {
    redis: { mode: 'standalone', host: '127.0.0.1', port: 1 },
    namespace: 'ns',
    locales: ['en-US'],
    loaders: {},
  } as const satisfies Partial<CacheClientOptions>;
  const problems = (presence: NonNullable<CacheClientOptions['pipelineGuard']>['presence']): string[] => {
    try {
      createCacheClient({ ...base, pipelineGuard: { canaryIntervalMs: 250, presence } });
    } catch (e) {
      if (e instanceof ConfigError) return e.problems.map((p) => p.variable);
      throw e;
    }
    throw new Error('accepted');
  };

  it('refuses a hand-over span no longer than the silence threshold, and non-positive timings, before connecting', () => {
    expect(problems({ intervalMs: 1_000, missedIntervals: 10 })).toEqual(['pipelineGuard.presence']);
    expect(problems({ intervalMs: 0 })).toContain('pipelineGuard.presence.intervalMs');
    expect(problems({ handOverMarginMs: -1 })).toEqual(['pipelineGuard.presence.handOverMarginMs']);
  });
});
