/**
 * The batch policy at unit speed (powertools' packages/batch is the model): fakes for Redis,
 * SQS and replication; one table of situations; each asserts exactly which messages are
 * acked, held, retried or dead-lettered. If the ack policy changes, one of these fails.
 */
import type { Message } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EffectsApplied, EffectsResult } from '../../../src/adapters/redis/invalidation-effects.ts';
import { RedisCommandError, WaitShortfallError } from '../../../src/adapters/redis/redis-errors.ts';
import type { PoisonMessage } from '../../../src/adapters/sqs/dead-letter-queue.ts';
import type { VisibilityChange } from '../../../src/adapters/sqs/message-visibility.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import type { InvalidationPlan } from '../../../src/core/invalidation-plan.ts';
import { createBatchHandler, type BatchHandlerDeps } from '../../../src/worker/batch-handler.ts';
import type { ReplicationState } from '../../../src/worker/replication-health.ts';
import { NO_METRICS, type DegradedAckReason } from '../../../src/metrics/worker-metrics.ts';
import { event, raw } from '../core/fixtures.ts';

const keys = createKeyBuilder({ namespace: 'mc', locales: ['en-US'] });
const logger = pino({ level: 'silent' });

let nextId = 0;
function message(body: string): Message {
  nextId++;
  return {
    MessageId: `m${nextId}`,
    ReceiptHandle: `r${nextId}`,
    Body: body,
    Attributes: { ApproximateReceiveCount: '1' },
  };
}
const product = () =>
  message(raw(event('catalog.product.updated', { asin: `B0UNIT${String(nextId).padStart(4, '0')}` })));
const promo = () => message(raw(event('promotion.changed', { storeSections: [`section-${nextId}`] })));
const poison = () => message('{"type": "nope"');
const tick = () => message(raw(event('refresh.tick')));

function applied(): EffectsApplied {
  return {
    ok: true,
    deleted: 1,
    fenceValues: new Map(),
    seq: 1,
    receivers: 0,
    publishedAtMs: Date.now(),
    replicasAcked: null,
    durations: { effectsMs: 1, totalMs: 1 },
  };
}
const redisError = (): EffectsResult => ({
  ok: false,
  error: new RedisCommandError(new Error('connection lost')),
});
const shortfall = (): EffectsResult => ({
  ok: false,
  error: new WaitShortfallError({ required: 1, acked: 0, waitTimeoutMs: 100, applied: applied() }),
});

interface Harness {
  readonly handle: (messages: Message[]) => Promise<Message[]>;
  readonly calls: {
    waitReplicas: number[];
    held: Message[];
    confirmed: number;
    unavailable: number;
    retried: VisibilityChange[];
    dlq: PoisonMessage[];
    recorded: number;
    degraded: { reason: DegradedAckReason; count: number }[];
  };
  readonly shutdown: AbortController;
}

function harness(options: {
  results: (() => EffectsResult)[];
  state?: ReplicationState | (() => ReplicationState);
  dlq?: 'confirm' | 'fail';
  ignoredAck?: boolean;
  inHandDelayMs?: (attempt: number) => number;
  redisRecovered?: () => Promise<void>;
  logger?: pino.Logger;
}): Harness {
  const calls: Harness['calls'] = {
    waitReplicas: [],
    held: [],
    confirmed: 0,
    unavailable: 0,
    retried: [],
    dlq: [],
    recorded: 0,
    degraded: [],
  };
  const shutdown = new AbortController();
  const results = [...options.results];
  const deps: BatchHandlerDeps = {
    queue: 'q',
    keys,
    effects: {
      apply: (_plan: InvalidationPlan, waitReplicas: number) => {
        calls.waitReplicas.push(waitReplicas);
        const next = results.length > 1 ? results.shift()! : results[0]!;
        return Promise.resolve(next());
      },
    },
    durability: {
      required: 1,
      state: () => (typeof options.state === 'function' ? options.state() : (options.state ?? 'healthy')),
      hold: (messages) => calls.held.push(...messages),
      confirmed: () => calls.confirmed++,
    },
    deadLetters: {
      send: (items) => {
        calls.dlq.push(...items);
        return options.dlq === 'fail'
          ? Promise.reject(new Error('SQS down'))
          : Promise.resolve(new Set(items.map((p) => p.message.MessageId ?? '')));
      },
    },
    visibility: {
      retryLater: (changes) => {
        calls.retried.push(...changes);
        return Promise.resolve();
      },
    },
    observer: { applied: () => calls.recorded++, redisUnavailable: () => calls.unavailable++ },
    ignored: { consume: () => Promise.resolve(options.ignoredAck ?? true) },
    shutdown: shutdown.signal,
    inHandDelayMs: options.inHandDelayMs ?? (() => 1),
    ...(options.redisRecovered === undefined ? {} : { redisRecovered: options.redisRecovered }),
    backoff: { baseS: 1, maxS: 60 },
    metrics: { ...NO_METRICS, degradedAcks: (_q, reason, count) => calls.degraded.push({ reason, count }) },
    logger: options.logger ?? logger,
  };
  return { handle: createBatchHandler(deps), calls, shutdown };
}

const ids = (messages: readonly Message[]) => messages.map((m) => m.MessageId);

describe('batch handler: which messages are acked', () => {
  it.each([
    {
      situation: 'all applied (not critical)',
      batch: () => [product(), product()],
      results: [applied],
      state: 'healthy' as const,
      acked: [0, 1],
      held: [],
      waits: [0],
    },
    {
      situation: 'critical, replica healthy, WAIT confirmed',
      batch: () => [promo(), promo()],
      results: [applied],
      state: 'healthy' as const,
      acked: [0, 1],
      held: [],
      waits: [1],
    },
    {
      situation: 'critical, WAIT shortfall while a replica is attached: held, not acked',
      batch: () => [promo()],
      results: [shortfall],
      state: 'healthy' as const,
      acked: [],
      held: [0],
      waits: [1],
    },
    {
      situation: 'critical, replica lagging: no WAIT (it would stall the connection), held',
      batch: () => [promo()],
      results: [applied],
      state: 'lagging' as const,
      acked: [],
      held: [0],
      waits: [0],
    },
    {
      // After a primary loss the sample fails ('unknown') until the new primary answers it; a
      // WAIT there (no replica yet) blocks the connection every batch shares for its timeout.
      situation: 'critical, replication unknown (a failed sample): no WAIT, held',
      batch: () => [promo()],
      results: [applied],
      state: 'unknown' as const,
      acked: [],
      held: [0],
      waits: [0],
    },
    {
      situation: 'critical, no replica attached: acked once applied on the primary (degraded)',
      batch: () => [promo(), promo()],
      results: [applied],
      state: 'no-replica' as const,
      acked: [0, 1],
      held: [],
      waits: [0],
    },
    {
      situation: 'Redis fails twice, then applies: kept in hand, acked, never sent back to SQS',
      batch: () => [product()],
      results: [redisError, redisError, applied],
      state: 'unknown' as const,
      acked: [0],
      held: [],
      waits: [0, 0, 0],
    },
  ])('$situation', async ({ batch, results, state, acked, held, waits }) => {
    // Prepare
    const h = harness({ results, state });
    const messages = batch();

    // Act
    const ack = await h.handle(messages);

    // Assess
    expect(ids(ack)).toEqual(acked.map((i) => messages[i]!.MessageId));
    expect(ids(h.calls.held)).toEqual(held.map((i) => messages[i]!.MessageId));
    expect(h.calls.waitReplicas).toEqual(waits);
    expect(h.calls.retried).toEqual([]);
    expect(h.calls.recorded).toBe(1);
  });

  it('counts a degraded ack when no replica is attached, and confirms nothing', async () => {
    const h = harness({ results: [applied], state: 'no-replica' });

    await h.handle([promo(), promo()]);

    expect(h.calls.degraded).toEqual([{ reason: 'no-replica', count: 2 }]);
    expect(h.calls.confirmed).toBe(0);
  });

  it('moves the replay anchor only when a WAIT confirmed', async () => {
    const confirmed = harness({ results: [applied], state: 'healthy' });
    const notCritical = harness({ results: [applied], state: 'healthy' });

    await confirmed.handle([promo()]);
    await notCritical.handle([product()]);

    expect(confirmed.calls.confirmed).toBe(1);
    expect(notCritical.calls.confirmed).toBe(0);
  });

  it('reports Redis unavailable on each failed attempt (the gate pauses the other pollers)', async () => {
    const h = harness({ results: [redisError, redisError, applied] });

    await h.handle([product()]);

    expect(h.calls.unavailable).toBe(2);
  });

  it('leaves a batch kept in hand to SQS when shutdown begins, acking nothing', async () => {
    // Prepare: Redis never answers.
    const h = harness({ results: [redisError] });
    const handling = h.handle([product(), product()]);

    // Act
    setTimeout(() => h.shutdown.abort(), 20);
    const ack = await handling;

    // Assess
    expect(ack).toEqual([]);
    expect(h.calls.recorded).toBe(0);
    expect(h.calls.retried).toEqual([]);
  });

  it.each([
    { dlq: 'confirm' as const, acked: true, retried: 0 },
    { dlq: 'fail' as const, acked: false, retried: 1 },
  ])('poison with the DLQ copy $dlq: acked=$acked', async ({ dlq, acked, retried }) => {
    const h = harness({ results: [applied], dlq });
    const bad = poison();
    const good = product();

    const ack = await h.handle([bad, good]);

    // The valid message is never held back by the poison beside it.
    expect(ids(ack)).toEqual(acked ? [good.MessageId, bad.MessageId] : [good.MessageId]);
    expect(h.calls.dlq.map((p) => p.message.MessageId)).toEqual([bad.MessageId]);
    expect(h.calls.retried).toHaveLength(retried);
  });

  it.each([
    { ignoredAck: true, acked: 1 },
    { ignoredAck: false, acked: 0 },
  ])('an ignored event is acked when its consumer says so ($ignoredAck)', async ({ ignoredAck, acked }) => {
    const h = harness({ results: [applied], ignoredAck });

    const ack = await h.handle([tick()]);

    expect(ack).toHaveLength(acked);
    expect(h.calls.waitReplicas).toEqual([]);
  });

  it('a mixed batch: applied, poison and ignored each get their own answer', async () => {
    const h = harness({ results: [shortfall], state: 'healthy' });
    const batch = [promo(), poison(), tick()];

    const ack = await h.handle(batch);

    expect(ids(h.calls.held)).toEqual([batch[0]!.MessageId]);
    expect(ids(ack)).toEqual([batch[1]!.MessageId, batch[2]!.MessageId]);
  });
});

describe('batch handler: a batch kept in hand while Redis fails', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  /** A recovery signal the test fires: resolves every waiter, then a new one is armed. */
  function recoverySignal() {
    let fire: () => void = () => undefined;
    let next = new Promise<void>((r) => (fire = r));
    return {
      wait: () => next,
      fire: () => {
        fire();
        next = new Promise<void>((r) => (fire = r));
      },
    };
  }

  it('is applied again soon after Redis takes writes again, not after the rest of its back-off', async () => {
    // Prepare: a 5 s back-off (the in-hand ceiling); Redis is back 300 ms after the failure.
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const recovery = recoverySignal();
    const h = harness({
      results: [redisError, applied],
      inHandDelayMs: () => 5_000,
      redisRecovered: recovery.wait,
    });
    const handling = h.handle([product()]);
    await vi.advanceTimersByTimeAsync(300);
    expect(h.calls.waitReplicas).toHaveLength(1);

    // Act
    recovery.fire();
    await vi.advanceTimersByTimeAsync(250);

    // Assess: applied within the recovery jitter (at most 250 ms), long before the 5 s back-off.
    expect(h.calls.waitReplicas).toHaveLength(2);
    expect(ids(await handling)).toHaveLength(1);
  });

  it('spreads the retries after a recovery over a jitter, so a recovering Redis is not hit at once', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const recovery = recoverySignal();
    const h = harness({
      results: [redisError, applied],
      inHandDelayMs: () => 5_000,
      redisRecovered: recovery.wait,
    });
    const handling = h.handle([product()]);
    await vi.advanceTimersByTimeAsync(10);

    recovery.fire();
    await vi.advanceTimersByTimeAsync(0);
    const atRecovery = h.calls.waitReplicas.length;
    await vi.advanceTimersByTimeAsync(250);

    // Not in the same turn as the recovery: after a jitter (random 0.5 -> half of 250 ms).
    expect(atRecovery).toBe(1);
    expect(h.calls.waitReplicas).toHaveLength(2);
    await handling;
  });

  it('decides the WAIT at each attempt: a promo batch received while healthy does not WAIT on the next primary', async () => {
    // Prepare: healthy when the batch arrives; the primary dies (the sample fails: unknown),
    // and the retry reaches a new primary that has no replica yet.
    let state: ReplicationState = 'healthy';
    const h = harness({
      results: [
        () => {
          state = 'unknown';
          return redisError();
        },
        applied,
      ],
      state: () => state,
    });

    // Act
    const ack = await h.handle([promo()]);

    // Assess: the first attempt WAITed, the retry did not (it would block the shared
    // connection for the WAIT's timeout); the ack is held until a WAIT confirms.
    expect(h.calls.waitReplicas).toEqual([1, 0]);
    expect(ack).toEqual([]);
    expect(h.calls.held).toHaveLength(1);
  });

  it("after an early retry fails again, waits out its back-off: a batch's own failure is not retried at the gate's pace", async () => {
    // Prepare: the gate's write probe succeeds each time (Redis takes writes; only this batch
    // fails), so a recovery follows every failure within the probe interval.
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const recovery = recoverySignal();
    const h = harness({
      results: [redisError, redisError, redisError, applied],
      inHandDelayMs: () => 5_000,
      redisRecovered: recovery.wait,
    });
    const handling = h.handle([product()]);

    // Act + Assess: the first recovery wakes it early (it may have been a real outage).
    await vi.advanceTimersByTimeAsync(100);
    recovery.fire();
    await vi.advanceTimersByTimeAsync(200);
    expect(h.calls.waitReplicas).toHaveLength(2);
    // It failed again after Redis took writes: the next recovery does not wake it.
    await vi.advanceTimersByTimeAsync(100);
    recovery.fire();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.calls.waitReplicas).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(h.calls.waitReplicas).toHaveLength(3);
    // After a whole back-off, a recovery may wake it early again.
    await vi.advanceTimersByTimeAsync(100);
    recovery.fire();
    await vi.advanceTimersByTimeAsync(200);
    expect(h.calls.waitReplicas).toHaveLength(4);
    expect(ids(await handling)).toHaveLength(1);
  });

  it('without a recovery waits out its back-off: no retry storm while Redis still fails', async () => {
    vi.useFakeTimers();
    const recovery = recoverySignal();
    const h = harness({
      results: [redisError, redisError, applied],
      inHandDelayMs: () => 5_000,
      redisRecovered: recovery.wait,
    });
    const handling = h.handle([product()]);

    await vi.advanceTimersByTimeAsync(4_999);
    expect(h.calls.waitReplicas).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.calls.waitReplicas).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(5_000);

    expect(h.calls.waitReplicas).toHaveLength(3);
    expect(ids(await handling)).toHaveLength(1);
    // Kept in hand all along: nothing was sent back to SQS (the receive count does not move).
    expect(h.calls.retried).toEqual([]);
  });
});

describe('batch handler: the per-event timeline of the debug log (the scenarios split stale reads by it)', () => {
  it('logs each applied event with its SQS timestamps, receive, deletes and broadcast', async () => {
    const lines: Record<string, unknown>[] = [];
    const debug = pino(
      { level: 'debug' },
      { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
    );
    const h = harness({ results: [applied], logger: debug });
    const m = product();
    const bad = product();
    m.Attributes = {
      ApproximateReceiveCount: '2',
      SentTimestamp: '1000',
      ApproximateFirstReceiveTimestamp: '1500',
    };
    // Not a number: left out, never logged as NaN or as the bytes.
    bad.Attributes = { ApproximateReceiveCount: '1', ApproximateFirstReceiveTimestamp: '15e2' };
    const before = Date.now();
    await h.handle([m, bad]);
    const appliedLines = lines.filter((l) => l.msg === 'invalidation applied');
    expect(appliedLines).toHaveLength(2);
    const [first, second] = appliedLines;
    expect(first).toMatchObject({
      messageId: m.MessageId,
      family: 'product',
      sqsSentAtMs: 1000,
      firstReceivedAtMs: 1500,
      receiveCount: 2,
    });
    expect(first?.receivedAtMs).toBeGreaterThanOrEqual(before);
    expect(first?.deleteConfirmedAtMs).toBeGreaterThanOrEqual(first?.receivedAtMs as number);
    expect(typeof first?.broadcastAtMs).toBe('number');
    expect(second).not.toHaveProperty('firstReceivedAtMs');
    expect(second).not.toHaveProperty('sqsSentAtMs');
  });
});
