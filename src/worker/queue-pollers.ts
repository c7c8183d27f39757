/**
 * Several sqs-consumer pollers on one queue, so a process is not capped at one batch (10
 * messages) in flight per queue. Adds what the worker needs around sqs-consumer:
 * - pause/resume (the Redis gate stops polling while Redis is down, so receives, and with
 *   them receive counts toward the DLQ, do not pile up during an outage);
 * - a drain that finishes batches being handled but does not wait out an idle long poll:
 *   sqs-consumer's own `pollingCompleteWaitTimeMs` waits for both, and its `abort` would
 *   also cancel the deletes of a batch that is finishing.
 */
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

interface Poller {
  readonly consumer: Consumer;
  /** True from the moment a batch is handed to us until its deletes are done. */
  handling: boolean;
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
    const poller: Poller = { consumer: undefined as unknown as Consumer, handling: false };
    const consumer = Consumer.create({
      queueUrl: options.queueUrl,
      sqs: options.sqs,
      batchSize: options.batchSize,
      visibilityTimeout: options.visibilityTimeoutS,
      heartbeatInterval: options.heartbeatIntervalS,
      waitTimeSeconds: options.waitTimeS,
      attributeNames: [],
      messageAttributeNames: ['All'],
      messageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      handleMessageBatch: async (messages) => {
        poller.handling = true;
        return options.handleBatch(messages);
      },
    });
    consumer.on('response_processed', () => {
      poller.handling = false;
    });
    consumer.on('error', (err) => {
      poller.handling = false;
      // Aborting idle long polls is how close() works; that is not worth a warning.
      if (this.#closing && /aborted/i.test(err.message)) return;
      this.#logger.warn({ err, queue: this.name }, 'sqs poll or delete failed; the messages come back');
    });
    consumer.on('processing_error', (err) => {
      this.#logger.error({ err, queue: this.name }, 'batch handler failed; the messages come back');
    });
    return Object.assign(poller, { consumer });
  }

  /** Starts (or resumes) polling. */
  start(): void {
    if (this.#closing) return;
    this.#running = true;
    for (const p of this.#pollers) p.consumer.start();
  }

  /** Stops asking for new messages; batches being handled finish on their own. */
  pause(): void {
    if (!this.#running) return;
    this.#running = false;
    for (const p of this.#pollers) p.consumer.stop();
  }

  get running(): boolean {
    return this.#running;
  }

  /** Batches currently being handled across the pollers. */
  get inFlight(): number {
    return this.#pollers.filter((p) => p.handling).length;
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
    for (const p of this.#pollers) p.consumer.stop({ abort: !p.handling });
    while (this.#pollers.some((p) => p.handling) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const stuck = this.#pollers.filter((p) => p.handling);
    if (stuck.length > 0) {
      this.#logger.warn(
        { queue: this.name, batches: stuck.length },
        'drain deadline passed; abandoning batches',
      );
    }
  }
}
