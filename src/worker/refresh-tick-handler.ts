/**
 * Routes `refresh.tick` messages of the review-refresh queue to the review refresher. The
 * tick is acked only when the run is settled (completed or skipped); an aborted run
 * (shutdown, lost lock) or a failure leaves it to come back, and the next delivery resumes
 * from the run's checkpoint. sqs-consumer keeps the message invisible while the run lasts.
 */
import type { Logger } from 'pino';
import type { WorkerConfig } from '../config/worker-config.ts';
import type { KeyBuilder } from '../core/key-builder.ts';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';
import { createRedisHotKeySource } from '../adapters/redis/hot-key-ranking.ts';
import { isAckable } from '../refresh/refresh-result.ts';
import { createReviewRefresher } from '../refresh/review-refresher.ts';
import type { IgnoredEventHandler } from './invalidation-worker.ts';
import type { WorkerMetrics } from '../metrics/worker-metrics.ts';

export interface RefreshTickDeps {
  readonly config: WorkerConfig;
  readonly redis: RedisClient;
  readonly keys: KeyBuilder;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  /** Aborted when the worker starts shutting down. */
  readonly signal: AbortSignal;
}

export function createRefreshTickHandler(deps: RefreshTickDeps): IgnoredEventHandler {
  const { config, logger } = deps;
  const originBaseUrl = config.refresh.originUrl;
  const refresher =
    originBaseUrl === undefined
      ? null
      : createReviewRefresher({
          redis: deps.redis,
          keys: deps.keys,
          originBaseUrl,
          hotKeys: createRedisHotKeySource(deps.redis, deps.keys),
          limits: { concurrency: config.refresh.concurrency, ratePerSecond: config.refresh.ratePerSecond },
          topN: config.refresh.topN,
          configuredAsins: config.refresh.asins,
          metrics: deps.metrics,
          logger: logger.child({ component: 'review-refresh' }),
        });

  return async (queue, message, decision) => {
    // The planner parsed it already. Anything valid that is not a tick, or a tick on another
    // queue, needs nothing from us.
    const { event } = decision;
    if (queue !== 'reviewRefresh' || event.type !== 'refresh.tick') return true;
    if (refresher === null) {
      logger.error('refresh tick received but WORKER_ORIGIN_URL is not set; leaving it in the queue');
      return false;
    }
    try {
      const result = await refresher.handleTick(event, { signal: deps.signal });
      logger.info({ eventId: event.eventId, messageId: message.MessageId, result }, 'refresh tick handled');
      return isAckable(result);
    } catch (err) {
      logger.error({ err, eventId: event.eventId }, 'refresh run failed; the tick comes back');
      return false;
    }
  };
}
