/**
 * Depth of the consumer queues and their dead-letter queues, read with GetQueueAttributes
 * from the queue URLs of the local stack description (`.local/env.json`).
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { readLocalStack } from '../local/env-file.ts';

export interface WatchedQueue {
  readonly name: string;
  readonly url: string;
  readonly dlqUrl: string | undefined;
}

export interface QueueSource {
  readonly queues: readonly WatchedQueue[];
  readonly endpoint: string | undefined;
  readonly region: string;
}

export interface QueueDepths {
  /** Visible messages per queue. */
  readonly depth: Record<string, number>;
  /** Messages in flight (received, not yet deleted) per queue. */
  readonly inFlight: Record<string, number>;
  /** Visible messages per dead-letter queue (keyed by the consumer queue's name). */
  readonly dlq: Record<string, number>;
}

/** Reads queue URLs, endpoint and region from a stack description file. */
export function readQueueSource(path: string): QueueSource {
  const stack = readLocalStack(path);
  return {
    queues: Object.entries(stack.queues).map(([name, q]) => ({ name, url: q.url, dlqUrl: q.dlqUrl })),
    endpoint: stack.localstack.endpoint,
    region: stack.region,
  };
}

/** Polls queue depths; one client for every call. */
export class QueueDepthReader {
  readonly #source: QueueSource;
  readonly #client: SQSClient;

  constructor(source: QueueSource) {
    this.#source = source;
    const local = source.endpoint !== undefined && process.env.AWS_ACCESS_KEY_ID === undefined;
    this.#client = new SQSClient({
      region: source.region,
      ...(source.endpoint === undefined ? {} : { endpoint: source.endpoint }),
      // LocalStack accepts any credentials; its documented defaults keep the SDK quiet.
      ...(local ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } : {}),
      maxAttempts: 1,
    });
  }

  get queues(): readonly WatchedQueue[] {
    return this.#source.queues;
  }

  /** Reads every queue; a queue that cannot be read is left out. */
  async read(timeoutMs = 2_000): Promise<QueueDepths> {
    const depths: QueueDepths = { depth: {}, inFlight: {}, dlq: {} };
    await Promise.all(
      this.#source.queues.flatMap((q) => [
        this.#attrs(q.url, timeoutMs).then((a) => {
          if (a === undefined) return;
          depths.depth[q.name] = a.visible;
          depths.inFlight[q.name] = a.inFlight;
        }),
        q.dlqUrl === undefined
          ? Promise.resolve()
          : this.#attrs(q.dlqUrl, timeoutMs).then((a) => {
              if (a !== undefined) depths.dlq[q.name] = a.visible;
            }),
      ]),
    );
    return depths;
  }

  close(): void {
    this.#client.destroy();
  }

  async #attrs(url: string, timeoutMs: number): Promise<{ visible: number; inFlight: number } | undefined> {
    try {
      const out = await this.#client.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
      return {
        visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    } catch {
      return undefined;
    }
  }
}
