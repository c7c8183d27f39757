/**
 * QueuePollers on a private LocalStack queue, watched through SQSClient middleware: the
 * number of ReceiveMessage calls in flight never exceeds the configured pollers, however
 * often the Redis gate pauses and resumes during a long poll; and close() waits for a
 * batch in hand (its handler and its deletes) even when a heartbeat failed under it. A
 * handled message tells when its ReceiveMessage returned (receiveAnsweredAtMs), after
 * LocalStack first handed it out and before the handler began. A batch's delete overlaps
 * the poller's next receive, with at most one delete pending per poller, and a failed
 * delete only brings its messages back.
 */
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  QueuePollers,
  receiveAnsweredAtMs,
  type QueuePollersOptions,
} from '../../../src/worker/queue-pollers.ts';
import { eventually, queueDepth, sqsClient } from '../../support/aws.ts';
import { testPrefix } from '../../support/stack.ts';

const logger = pino({ level: 'silent' });

/** Calls of one SQS command, counted by a middleware on the client the pollers use. */
interface CommandProbe {
  inFlight: number;
  maxInFlight: number;
  started: number;
  /** Time each call settled successfully, in order. */
  readonly succeededAt: number[];
}

/**
 * A client whose `command` calls are counted, and fail with `fail()`'s error when it returns
 * one (the failure is injected before the request leaves, as a network error would be).
 */
function probedClient(command: string, fail: () => Error | undefined = () => undefined) {
  const sqs = sqsClient();
  const probe: CommandProbe = { inFlight: 0, maxInFlight: 0, started: 0, succeededAt: [] };
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== command) return next(args);
      probe.started++;
      probe.inFlight++;
      probe.maxInFlight = Math.max(probe.maxInFlight, probe.inFlight);
      try {
        const error = fail();
        if (error) throw error;
        const out = await next(args);
        probe.succeededAt.push(Date.now());
        return out;
      } finally {
        probe.inFlight--;
      }
    },
    { step: 'initialize', name: `probe-${command}` },
  );
  return { sqs, probe };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('QueuePollers on LocalStack', () => {
  const admin = sqsClient();
  const clients: SQSClient[] = [];
  const pollers: QueuePollers[] = [];
  const releases: (() => void)[] = [];
  let queueUrl: string;

  function pollersOn(sqs: SQSClient, options: Partial<QueuePollersOptions>): QueuePollers {
    clients.push(sqs);
    const p = new QueuePollers({
      name: 'probe',
      queueUrl,
      sqs,
      pollers: 1,
      batchSize: 10,
      visibilityTimeoutS: 30,
      heartbeatIntervalS: 10,
      waitTimeS: 2,
      handleBatch: (messages) => Promise.resolve(messages),
      logger,
      ...options,
    });
    pollers.push(p);
    return p;
  }

  // A queue per test, so a message a failed test left behind cannot reach the next one.
  beforeEach(async () => {
    const out = await admin.send(new CreateQueueCommand({ QueueName: testPrefix('pollers') }));
    queueUrl = out.QueueUrl!;
  });
  afterEach(async () => {
    for (const release of releases.splice(0)) release();
    await Promise.all(pollers.splice(0).map((p) => p.close(5_000)));
    for (const c of clients.splice(0)) c.destroy();
    await admin.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  });
  afterAll(() => admin.destroy());

  it.each([1, 2])(
    'keeps at most %i receive(s) in flight across 5 pause/resume cycles during a long poll, and still polls after',
    async (configured) => {
      // Prepare: an empty queue, so every receive is a long poll of waitTimeS.
      const { sqs, probe } = probedClient('ReceiveMessageCommand');
      const handled: Message[] = [];
      const p = pollersOn(sqs, {
        pollers: configured,
        handleBatch: (messages) => {
          handled.push(...messages);
          return Promise.resolve(messages);
        },
      });
      p.start();
      await eventually(() => (probe.inFlight === configured ? true : undefined), {
        what: 'the long polls to be in flight',
      });

      // Act: the gate flapping while those long polls wait (each lasts 2 s).
      for (let i = 0; i < 5; i++) {
        p.pause();
        await sleep(20);
        p.start();
        await sleep(20);
      }
      // Long enough for the polls that were in flight to end and any extra loop to overlap.
      await sleep(5_000);
      const body = `after-flapping-${Math.random()}`;
      await admin.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));

      // Assess: never more receives than pollers, and resuming did resume.
      const got = await eventually(() => handled.find((m) => m.Body === body), {
        what: 'the message sent after the cycles to be handled',
      });
      expect(got.Body).toBe(body);
      expect(probe.maxInFlight).toBeLessThanOrEqual(configured);
      expect(p.running).toBe(true);
    },
    20_000,
  );

  it("tells when a message's ReceiveMessage returned, after LocalStack first handed it out", async () => {
    // Prepare
    const sqs = sqsClient();
    const handled: { message: Message; handlerAt: number }[] = [];
    const p = pollersOn(sqs, {
      handleBatch: (messages) => {
        const handlerAt = Date.now();
        handled.push(...messages.map((message) => ({ message, handlerAt })));
        return Promise.resolve(messages);
      },
    });
    const sentAt = Date.now();
    await admin.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'timeline' }));

    // Act
    p.start();
    const got = await eventually(() => handled[0], { what: 'the message to be handled' });

    // Assess: first handed out <= the answer in the worker <= the handler's start
    const answeredAt = receiveAnsweredAtMs(got.message);
    const firstReceivedAt = Number(got.message.Attributes?.ApproximateFirstReceiveTimestamp);
    expect(Number.isFinite(firstReceivedAt)).toBe(true);
    expect(firstReceivedAt).toBeGreaterThanOrEqual(sentAt - 1_000);
    expect(answeredAt).toBeGreaterThanOrEqual(firstReceivedAt);
    expect(answeredAt).toBeLessThanOrEqual(got.handlerAt);
    // A message no QueuePollers received has no answer time.
    expect(receiveAnsweredAtMs({ MessageId: 'other' })).toBeUndefined();
  });

  it('close() waits for a batch in hand and its deletes although its heartbeat failed', async () => {
    // Prepare: every heartbeat (ChangeMessageVisibilityBatch) fails; deletes are counted.
    const heartbeatError = Object.assign(new Error('injected heartbeat failure'), { name: 'InternalError' });
    const { sqs, probe: heartbeats } = probedClient(
      'ChangeMessageVisibilityBatchCommand',
      () => heartbeatError,
    );
    const deletes: CommandProbe = { inFlight: 0, maxInFlight: 0, started: 0, succeededAt: [] };
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'DeleteMessageBatchCommand') return next(args);
        const out = await next(args);
        deletes.succeededAt.push(Date.now());
        return out;
      },
      { step: 'initialize', name: 'probe-deletes' },
    );
    let entered = false;
    let finishedAt = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    releases.push(release);
    const p = pollersOn(sqs, {
      visibilityTimeoutS: 10,
      heartbeatIntervalS: 1,
      waitTimeS: 1,
      handleBatch: async (messages) => {
        entered = true;
        await held;
        finishedAt = Date.now();
        return messages;
      },
    });
    await admin.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'held' }));
    p.start();
    await eventually(() => (entered && heartbeats.started >= 1 ? true : undefined), {
      what: 'the batch to be in hand and its heartbeat to have failed',
    });
    expect(p.inFlight).toBe(1);

    // Act: close while the batch is held, and let it finish a little later.
    let closedAt = 0;
    const closing = p.close(10_000).then(() => (closedAt = Date.now()));
    await sleep(500);
    expect(closedAt).toBe(0);
    release();
    await closing;

    // Assess: close() resolved only after the handler and its delete, and the ack landed.
    expect(finishedAt).toBeGreaterThan(0);
    expect(closedAt).toBeGreaterThanOrEqual(finishedAt);
    expect(deletes.succeededAt).toHaveLength(1);
    expect(closedAt).toBeGreaterThanOrEqual(deletes.succeededAt[0]!);
    expect(p.inFlight).toBe(0);
    expect(await queueDepth(admin, queueUrl)).toBe(0);
  });

  it("starts the next receive before the last batch's delete is answered, one delete pending at most", async () => {
    // Prepare: every DeleteMessageBatch answered 600 ms late; one poller, one message a batch.
    const sqs = sqsClient();
    const receivesStartedAt: number[] = [];
    const deletes: { startedAt: number; answeredAt: number }[] = [];
    let deletesPending = 0;
    let maxDeletesPending = 0;
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ReceiveMessageCommand') receivesStartedAt.push(Date.now());
        if (context.commandName !== 'DeleteMessageBatchCommand') return next(args);
        const startedAt = Date.now();
        deletesPending++;
        maxDeletesPending = Math.max(maxDeletesPending, deletesPending);
        try {
          await sleep(600);
          return await next(args);
        } finally {
          deletesPending--;
          deletes.push({ startedAt, answeredAt: Date.now() });
        }
      },
      { step: 'initialize', name: 'slow-deletes' },
    );
    const handledAt: number[] = [];
    const p = pollersOn(sqs, {
      batchSize: 1,
      waitTimeS: 1,
      handleBatch: (messages) => {
        handledAt.push(Date.now());
        return Promise.resolve(messages);
      },
    });
    for (let i = 0; i < 4; i++) {
      await admin.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `overlap-${i}` }));
    }

    // Act
    p.start();
    await eventually(() => (deletes.length === 4 ? true : undefined), { what: 'four deletes answered' });

    // Assess: a receive began after the first batch was handled and before its delete was
    // answered (the old code waited for the answer), no poller ever had two deletes pending,
    // and every message is gone from the queue. (That receive and the first delete start in
    // the same turn, in either order, often in the same millisecond: only the answer bounds it.)
    const first = deletes[0]!;
    expect(
      receivesStartedAt.filter((t) => t >= handledAt[0]! && t < first.answeredAt),
      JSON.stringify({ receivesStartedAt, handledAt, first }),
    ).not.toEqual([]);
    expect(handledAt).toHaveLength(4);
    expect(maxDeletesPending).toBe(1);
    await p.close(5_000);
    expect(await queueDepth(admin, queueUrl)).toBe(0);
  });

  it('a failed delete brings its messages back, and the poller goes on', async () => {
    // Prepare: the first DeleteMessageBatch fails before it leaves (a network error).
    let failures = 0;
    const { sqs } = probedClient('DeleteMessageBatchCommand', () =>
      failures++ === 0
        ? Object.assign(new Error('injected delete failure'), { name: 'NetworkingError' })
        : undefined,
    );
    const handled: string[] = [];
    const p = pollersOn(sqs, {
      visibilityTimeoutS: 1,
      heartbeatIntervalS: 0,
      waitTimeS: 1,
      handleBatch: (messages) => {
        handled.push(...messages.map((m) => m.Body ?? ''));
        return Promise.resolve(messages);
      },
    });
    await admin.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'delete-fails-once' }));

    // Act
    p.start();
    await eventually(() => (handled.length >= 2 ? true : undefined), {
      what: 'the message to come back after its visibility timeout and be handled again',
    });

    // Assess: handled twice (the second delete succeeded), nothing left in the queue.
    await p.close(5_000);
    expect(handled.slice(0, 2)).toEqual(['delete-fails-once', 'delete-fails-once']);
    expect(failures).toBeGreaterThanOrEqual(2);
    expect(await queueDepth(admin, queueUrl)).toBe(0);
  });

  it('close() of paused pollers aborts the long poll still in flight instead of leaving it behind', async () => {
    // Prepare: paused by the gate while its long poll (5 s) waits on an empty queue.
    const { sqs, probe } = probedClient('ReceiveMessageCommand');
    const p = pollersOn(sqs, { waitTimeS: 5 });
    p.start();
    await eventually(() => (probe.inFlight === 1 ? true : undefined), { what: 'the long poll' });
    p.pause();

    // Act
    const started = Date.now();
    await p.close(5_000);

    // Assess: nothing was in hand, so close() neither waits out the 5 s poll (nor its own 5 s
    // deadline) nor leaves it running.
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(probe.inFlight).toBe(0);
  });

  it('close() still honours its deadline when a batch is held past it', async () => {
    // Prepare: a handler that holds its batch (as during a long Redis outage).
    const { sqs } = probedClient('ChangeMessageVisibilityBatchCommand');
    let entered = false;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    releases.push(release);
    const p = pollersOn(sqs, {
      waitTimeS: 1,
      handleBatch: async (messages) => {
        entered = true;
        await held;
        return messages;
      },
    });
    await admin.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'held-forever' }));
    p.start();
    await eventually(() => (entered ? true : undefined), { what: 'the batch to be in hand' });

    // Act
    const started = Date.now();
    await p.close(800);
    const took = Date.now() - started;

    // Assess: abandoned at the deadline (the message comes back later), not waited out.
    expect(took).toBeGreaterThanOrEqual(750);
    expect(took).toBeLessThan(2_500);
    expect(p.inFlight).toBe(1);
  });
});
