/**
 * The pipeline canary (decision 0022), both halves the worker runs:
 *
 * - **Publishing.** Every `WORKER_CANARY_INTERVAL_MS`, one `pipeline.canary` per topic the
 *   worker consumes (`WORKER_<QUEUE>_TOPIC_ARN`) goes to SNS, with the worker's clock as its
 *   origin time (`occurredAt`), as an origin service would stamp a change. The fleet publishes
 *   one per topic per interval, not one per worker: each tick first takes a short Redis claim
 *   (`SET <ns>:{canary}:<topic> NX PX interval*0.9`); the worker that gets it publishes, and a
 *   worker that cannot reach Redis publishes anyway (a canary too many costs a receive).
 * - **Announcing.** A worker that handles a canary (after its batch's effects were applied:
 *   the batch handler runs ignored events last) publishes the canary's topic and origin time
 *   on the watermark channel (src/adapters/redis/watermark-message.ts), and sets the
 *   `pipeline_watermark_age_ms` gauge of its queue. The canary deletes nothing, is acked even
 *   when the announcement fails (the next one follows within an interval), and is never
 *   dead-lettered. It is not an invalidation: the lag metrics never see it.
 */
import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Logger } from 'pino';
import type { CanaryTopic, PipelineCanary } from '../core/events/canary-events.ts';
import { EVENT_SCHEMA_VERSION } from '../core/events/event-base.ts';
import { encodeWatermark, watermarkChannel } from '../adapters/redis/watermark-message.ts';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';
import type { WorkerMetrics } from '../metrics/worker-metrics.ts';

export const CANARY_EVENT_TYPE = 'pipeline.canary';

/** The canary event published at `nowMs` (its `version` grows with time, as versions must). */
export function buildCanary(topic: CanaryTopic, nowMs: number): PipelineCanary {
  return {
    schemaVersion: EVENT_SCHEMA_VERSION,
    eventId: randomUUID(),
    occurredAt: new Date(nowMs).toISOString(),
    version: Math.max(1, Math.floor(nowMs)),
    tenant: 'default',
    type: CANARY_EVENT_TYPE,
    topic,
  };
}

export interface CanaryLoop {
  stop(): Promise<void>;
}

export interface CanaryOptions {
  readonly intervalMs: number;
  readonly topics: Readonly<Partial<Record<CanaryTopic, string>>>;
  readonly aws: { readonly region: string; readonly endpoint?: string | undefined };
  readonly redis: RedisClient;
  readonly namespace: string;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
}

/** Starts publishing canaries; nothing runs when the interval is 0 or no topic is configured. */
export function startCanaries(o: CanaryOptions): CanaryLoop {
  const topics = Object.entries(o.topics) as [CanaryTopic, string][];
  if (o.intervalMs <= 0 || topics.length === 0) return { stop: () => Promise.resolve() };
  const sns = new SNSClient({
    region: o.aws.region,
    ...(o.aws.endpoint === undefined ? {} : { endpoint: o.aws.endpoint }),
    maxAttempts: 1, // the next canary is the retry
  });
  const claimMs = Math.max(1, Math.floor(o.intervalMs * 0.9));
  let inFlight: Promise<unknown> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  const publishOne = async (topic: CanaryTopic, arn: string): Promise<void> => {
    const claimed = await o.redis
      .set(`${o.namespace}:{canary}:${topic}`, String(process.pid), 'PX', claimMs, 'NX')
      .catch(() => 'unreachable');
    if (claimed === null) return; // another worker of the fleet publishes this interval's canary
    const canary = buildCanary(topic, Date.now());
    try {
      await sns.send(
        new PublishCommand({
          TopicArn: arn,
          Message: JSON.stringify(canary),
          MessageAttributes: { eventType: { DataType: 'String', StringValue: CANARY_EVENT_TYPE } },
        }),
      );
      o.metrics.canaryPublished?.(topic, 'ok');
    } catch (err) {
      o.metrics.canaryPublished?.(topic, 'failed');
      o.logger.debug({ err, topic }, 'canary not published');
    }
  };
  const timer = setInterval(() => {
    inFlight = Promise.all(topics.map(([topic, arn]) => publishOne(topic, arn)));
  }, o.intervalMs);
  timer.unref();
  return {
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(timer);
        await inFlight.catch(() => undefined);
        sns.destroy();
      })()),
  };
}

/** Announces a handled canary on the watermark channel; never throws (the canary is acked). */
export async function announceWatermark(
  deps: {
    readonly redis: RedisClient;
    readonly namespace: string;
    readonly metrics: WorkerMetrics;
    readonly logger: Logger;
  },
  queue: string,
  canary: PipelineCanary,
): Promise<void> {
  const originTimeMs = Date.parse(canary.occurredAt);
  try {
    await deps.redis.publish(
      watermarkChannel(deps.namespace),
      encodeWatermark({ topic: canary.topic, originTimeMs, queue }),
    );
    deps.metrics.pipelineWatermark?.(queue, Date.now() - originTimeMs);
  } catch (err) {
    deps.logger.debug({ err, queue }, 'watermark not announced; the canary is acked anyway');
  }
}
