/**
 * Several sqs-consumer pollers on one queue, so a process is not capped at one batch (10
 * messages) in flight per queue. Adds what the worker needs around sqs-consumer:
 * - pause/resume (the Redis gate stops polling while Redis is down, so receives, and with
 *   them receive counts toward the DLQ, do not pile up during an outage);
 * - deletes that overlap the next receive (decision 0023): the handler's effects are
 *   confirmed before its messages are deleted (decision 0008), but the poller does not wait
 *   for the DeleteMessageBatch round trip before its next ReceiveMessage. At most one delete
 *   per poller is pending: a poller whose previous delete has not been answered waits for it
 *   after handling its next batch, so slow deletes slow the poller instead of piling up. A
 *   delete that fails or is refused changes nothing that was not already true: the messages
 *   come back after their visibility timeout and are applied again (idempotent);
 * - a drain that finishes batches being handled and their pending deletes, but does not
 *   wait out an idle long poll: sqs-consumer's own `pollingCompleteWaitTimeMs` waits for
 *   both, and its `abort` would also cancel the heartbeats of a batch that is finishing.
 *
 * What sqs-consumer 15 does, and what this file does about it:
 * - `stop()` only sets a flag: the receive (or batch) of the current iteration runs on and,
 *   when its response holds messages, they are handled. `start()` starts a new loop without
 *   checking for that iteration, which then also schedules its next poll: every
 *   stop/start during a long poll adds a loop for good. So a resume never calls `start()`
 *   while `status.isPolling` (one iteration: receive, handler, deletes) is true; it waits
 *   for the iteration to end, which costs nothing, because that iteration is already the
 *   poll a running poller would have in flight.
 * - Its `'error'` event also fires for a failed heartbeat in the middle of a batch, so it
 *   says nothing about the batch being over. The batch's end is the end of the iteration.
 * - Idle long polls are aborted at close through a signal of our own, given to
 *   ReceiveMessage only (the client is wrapped), never through the consumer's abort.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import type { Logger } from 'pino';

export interface QueuePollersOptions {
  readonly name: string;
  readonly queueUrl: string;
  readonly sqs: SQSClient;
  readonly pollers: number;
  readonly batchSize: number;
  readonly visibilityTimeoutS: number;
  readonly heartbeatIntervalS: number;
  readonly waitTimeS: number;
  /** Handles one batch; resolves with the messages to delete. Must not throw for bad input. */
  readonly handleBatch: (messages: Message[]) => Promise<Message[]>;
  readonly logger: Logger;
}

/** When the ReceiveMessage that brought each message returned (ms since epoch). */
const answeredAt = new WeakMap<Message, number>();

/**
 * When the ReceiveMessage that brought `message` returned to this process (the SDK had
 * parsed its answer), if a QueuePollers received it: with the message's
 * ApproximateFirstReceiveTimestamp, the emulator's answer to a receive is told apart from the
 * worker's own time (the debug timeline of batch-handler.ts).
 */
export function receiveAnsweredAtMs(message: Message): number | undefined {
  return answeredAt.get(message);
}

/** How often a resume and the drain look whether an iteration has ended. */
const ITERATION_CHECK_MS = 25;

interface Poller {
  readonly consumer: Consumer;
  /** Aborts this poller's ReceiveMessage in flight, and only that (close). */
  readonly receiveAbort: AbortController;
  /** True while a ReceiveMessage of this poller is in flight. */
  receiving: boolean;
  /** Set while a resume waits for the previous iteration to end. */
  resumeTimer: NodeJS.Timeout | undefined;
  /** The DeleteMessageBatch of this poller's last batch while it is not answered (never rejects). */
  pendingDelete: Promise<void> | undefined;
}

/** The pollers of one queue; `close()` is idempotent and drains within a deadline. */
export class QueuePollers {
  readonly name: string;
  readonly #pollers: Poller[];
  readonly #logger: Logger;
  #running = false;
  #closing: Promise<void> | undefined;

  constructor(options: QueuePollersOptions) {
    this.name = options.name;
    this.#logger = options.logger;
    this.#pollers = Array.from({ length: options.pollers }, () => this.#createPoller(options));
  }

  #createPoller(options: QueuePollersOptions): Poller {
    const receiveAbort = new AbortController();
    const poller: Poller = {
      consumer: undefined as unknown as Consumer,
      receiveAbort,
      receiving: false,
      resumeTimer: undefined,
      pendingDelete: undefined,
    };
    const consumer = Consumer.create({
      queueUrl: options.queueUrl,
      sqs: receiveTracked(options.sqs, poller),
      batchSize: options.batchSize,
      visibilityTimeout: options.visibilityTimeoutS,
      heartbeatInterval: options.heartbeatIntervalS,
      waitTimeSeconds: options.waitTimeS,
      attributeNames: [],
      messageAttributeNames: ['All'],
      // ApproximateFirstReceiveTimestamp: only for the per-event timeline of the debug log
      // (batch-handler.ts), which splits the emulator's delivery from the worker's own time.
      messageSystemAttributeNames: [
        'SentTimestamp',
        'ApproximateFirstReceiveTimestamp',
        'ApproximateReceiveCount',
      ],
      // The deletes are ours (#deleteAfter): sqs-consumer is given nothing to delete, so its
      // iteration ends, and the next receive starts, when the handler's effects are confirmed.
      handleMessageBatch: async (messages) => {
        const toDelete = await options.handleBatch(messages);
        await this.#deleteAfter(poller, options, toDelete);
        return [];
      },
    });
    consumer.on('error', (err) => {
      // Our abort of idle long polls is how close() works; that is not worth a warning.
      if (this.#closing && receiveAbort.signal.aborted && /abort/i.test(err.message)) return;
      this.#logger.warn(
        { err, queue: this.name },
        'sqs poll, heartbeat or delete failed; the messages come back',
      );
    });
    consumer.on('processing_error', (err) => {
      this.#logger.error({ err, queue: this.name }, 'batch handler failed; the messages come back');
    });
    return Object.assign(poller, { consumer });
  }

  /**
   * Starts the delete of `messages` without waiting for its answer, once the poller's
   * previous delete was answered (so at most one is pending per poller).
   */
  async #deleteAfter(p: Poller, options: QueuePollersOptions, messages: readonly Message[]): Promise<void> {
    if (p.pendingDelete) await p.pendingDelete;
    if (messages.length === 0) return;
    const pending = this.#delete(options, messages).finally(() => {
      if (p.pendingDelete === pending) p.pendingDelete = undefined;
    });
    p.pendingDelete = pending;
  }

  /** One DeleteMessageBatch; failures are logged (the messages come back), never thrown. */
  async #delete(options: QueuePollersOptions, messages: readonly Message[]): Promise<void> {
    try {
      const out = await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      const failed = out.Failed ?? [];
      if (failed.length > 0) {
        this.#logger.warn(
          { queue: this.name, failed: failed.length, codes: [...new Set(failed.map((f) => f.Code))] },
          'sqs refused some deletes; those messages come back after their visibility timeout',
        );
      }
    } catch (err) {
      this.#logger.warn(
        { err, queue: this.name, messages: messages.length },
        'sqs delete failed; the messages come back after their visibility timeout',
      );
    }
  }

  /** Starts (or resumes) polling; a poller still finishing an iteration continues after it. */
  start(): void {
    if (this.#closing) return;
    this.#running = true;
    for (const p of this.#pollers) this.#resume(p);
  }

  #resume(p: Poller): void {
    clearTimeout(p.resumeTimer);
    p.resumeTimer = undefined;
    if (!this.#running || this.#closing || p.consumer.status.isRunning) return;
    if (p.consumer.status.isPolling) {
      p.resumeTimer = setTimeout(() => this.#resume(p), ITERATION_CHECK_MS);
      return;
    }
    p.consumer.start();
  }

  /**
   * Stops asking for new messages; cheap and synchronous (the Redis gate calls it). A long
   * poll in flight is left to end: messages it returns are handled like any batch in hand.
   * (The kill switch gives such late messages back unhandled: invalidation-worker.ts. It does
   * not abort the poll: SQS can still take messages for a receive whose caller is gone, and
   * they would stay invisible for a whole visibility timeout.)
   */
  pause(): void {
    if (!this.#running) return;
    this.#running = false;
    for (const p of this.#pollers) {
      clearTimeout(p.resumeTimer);
      p.resumeTimer = undefined;
      p.consumer.stop();
    }
  }

  get running(): boolean {
    return this.#running;
  }

  /** Batches in hand across the pollers: received, and not yet handled and deleted. */
  get inFlight(): number {
    return this.#pollers.filter(inHand).length;
  }

  /**
   * Stops polling and waits for batches in hand to be handled and acked, at most
   * `deadlineMs`; idle long polls are aborted at once (no message was handed over yet).
   */
  close(deadlineMs: number): Promise<void> {
    this.#closing ??= this.#drain(deadlineMs);
    return this.#closing;
  }

  async #drain(deadlineMs: number): Promise<void> {
    this.#running = false;
    const deadline = Date.now() + deadlineMs;
    for (const p of this.#pollers) {
      clearTimeout(p.resumeTimer);
      p.resumeTimer = undefined;
      p.consumer.stop();
      // Only a receive is aborted: a batch in hand keeps its heartbeat and its deletes.
      p.receiveAbort.abort();
    }
    // An iteration ends after its handler; an aborted receive ends it at once. A receive
    // answered just before the abort hands its batch over, and is waited for like the rest.
    // Then the deletes the iterations started, which are answered by themselves.
    const busy = (p: Poller) => p.consumer.status.isPolling || p.pendingDelete !== undefined;
    while (this.#pollers.some(busy) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, ITERATION_CHECK_MS));
    }
    const stuck = this.#pollers.filter(inHand);
    const deleting = this.#pollers.filter((p) => p.pendingDelete !== undefined);
    if (stuck.length > 0 || deleting.length > 0) {
      this.#logger.warn(
        { queue: this.name, batches: stuck.length, deletes: deleting.length },
        'drain deadline passed; abandoning batches (their messages come back)',
      );
    }
  }
}

function inHand(p: Poller): boolean {
  return p.consumer.status.isPolling && !p.receiving;
}

/**
 * `sqs` as the poller's consumer sees it: ReceiveMessage calls also listen to the poller's
 * own abort signal and mark the poller as receiving; every other call passes through.
 */
function receiveTracked(sqs: SQSClient, poller: Poller): SQSClient {
  type Send = (command: unknown, options?: { abortSignal?: AbortSignal }) => Promise<unknown>;
  const send: Send = async (command, options = {}) => {
    const original = sqs.send.bind(sqs) as Send;
    if (!(command instanceof ReceiveMessageCommand)) return original(command, options);
    const signals = [poller.receiveAbort.signal, options.abortSignal].filter((s) => s !== undefined);
    poller.receiving = true;
    try {
      const out = await original(command, { ...options, abortSignal: AbortSignal.any(signals) });
      const at = Date.now();
      for (const m of (out as { Messages?: Message[] }).Messages ?? []) answeredAt.set(m, at);
      return out;
    } finally {
      poller.receiving = false;
    }
  };
  return new Proxy(sqs, {
    get: (target, property) =>
      property === 'send' ? send : (Reflect.get(target, property, target) as unknown),
  });
}
