/**
 * The worker process: pollers on each configured queue, the batch pipeline, the Redis gate,
 * L1 heartbeats, failover replay and the admin server, with an idempotent `close()`.
 *
 * Shutdown order (docs/operations.md): 1. readiness goes 503; 2. every queue stops polling
 * and finishes the batches it holds, within the drain deadline; 3. heartbeats stop;
 * 4. Redis closes; 5. the admin server closes; 6. the SQS client is released. Every step
 * runs even when an earlier one failed.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { QueueName, WorkerConfig } from '../core/config-schema.ts';
import type { InvalidationPlan, MessageDecision } from '../core/invalidation-plan.ts';
import { createKeyBuilder, type KeyBuilder } from '../core/key-builder.ts';
import { defaultL1Channel } from '../adapters/redis/broadcast-message.ts';
import { applyInvalidationPlan } from '../adapters/redis/invalidation-effects.ts';
import { startHeartbeats, type HeartbeatLoop } from '../adapters/redis/l1-heartbeat.ts';
import { RecentInvalidations } from '../adapters/redis/recent-invalidations.ts';
import { createRedisConnection, type RedisConnection } from '../adapters/redis/redis-connection.ts';
import { sendToDeadLetterQueue } from '../adapters/sqs/dead-letter-queue.ts';
import { changeVisibility } from '../adapters/sqs/message-visibility.ts';
import { readQueueDepth } from '../adapters/sqs/queue-depth.ts';
import { createSqsClient } from '../adapters/sqs/sqs-client.ts';
import { startAdminServer } from './admin-server.ts';
import { createBatchHandler } from './batch-handler.ts';
import { replayRecentInvalidations } from './failover-replay.ts';
import { QueuePollers } from './queue-pollers.ts';
import { RedisGate } from './redis-gate.ts';
import { redisConfigFrom } from './redis-settings.ts';
import { NO_METRICS, type WorkerMetrics } from './worker-metrics.ts';

/** Handles valid non-invalidation events (the review refresh tick); resolves true to ack. */
export type IgnoredEventHandler = (
  queue: QueueName,
  message: Message,
  decision: Extract<MessageDecision, { kind: 'ignore' }>,
) => Promise<boolean>;

export interface WorkerOptions {
  readonly config: WorkerConfig;
  readonly logger: Logger;
  readonly metrics?: WorkerMetrics;
  /** Registers extra admin routes (metrics). */
  readonly registerAdminRoutes?: (app: FastifyInstance) => void | Promise<void>;
  /** Builds the handler of valid non-invalidation events (the refresh tick). */
  readonly ignoredEvents?: (context: WorkerContext) => IgnoredEventHandler;
  readonly heartbeatIntervalMs?: number;
  /** How often each queue's depth is read for the metrics. Default 15 s. */
  readonly queueDepthIntervalMs?: number;
}

/** What the worker shares with the handlers it hosts. */
export interface WorkerContext {
  readonly redis: RedisConnection;
  readonly keys: KeyBuilder;
  readonly metrics: WorkerMetrics;
  /** Aborted the moment shutdown starts, so long jobs stop between steps. */
  readonly shutdown: AbortSignal;
}

/** A running worker. Create it with {@link startWorker}. */
export interface InvalidationWorker {
  /** The admin port actually bound (useful when configured as 0). */
  readonly adminPort: number;
  readonly redis: RedisConnection;
  /** Stops gracefully; idempotent (a second call waits on the first). */
  close(): Promise<void>;
}

/** Starts a worker: connects Redis, starts the admin server, then polls every configured queue. */
export async function startWorker(options: WorkerOptions): Promise<InvalidationWorker> {
  const { config, logger } = options;
  const metrics = options.metrics ?? NO_METRICS;
  const keys = createKeyBuilder({ namespace: config.keys.namespace, locales: config.keys.locales });
  const channel = defaultL1Channel(config.keys.namespace);
  const redis = createRedisConnection(redisConfigFrom(config.redis, `inval-worker-${process.pid}`));
  const sqs = createSqsClient(config.aws);
  const recent = new RecentInvalidations({ windowMs: config.replayWindowMs });
  const applyEffects = (plan: InvalidationPlan) =>
    applyInvalidationPlan(redis.client, plan, {
      channel,
      waitReplicas: config.redis.waitReplicas,
      waitTimeoutMs: config.redis.waitTimeoutMs,
    });

  const gate = new RedisGate({ probe: () => redis.client.ping() });
  const shutdown = new AbortController();
  const pollers: QueuePollers[] = [];
  let closing = false;

  redis.events.on('error', (err) => logger.debug({ err }, 'redis connection error'));
  redis.events.on('connection-lost', () => logger.warn('redis connection lost'));
  redis.events.on('primary-changed', (change) => {
    logger.warn({ change }, 'new redis primary detected; replaying recent invalidations');
    void replayRecentInvalidations({ recent, applyEffects, metrics, logger }, change.reason);
  });
  gate.on('open', (reason) => {
    logger.error({ reason }, 'redis unreachable: pausing every queue until it answers');
    for (const p of pollers) p.pause();
  });
  gate.on('close', (downForMs) => {
    logger.warn({ downForMs }, 'redis answers again: resuming polling');
    if (!closing) for (const p of pollers) p.start();
  });

  const ignored = options.ignoredEvents?.({ redis, keys, metrics, shutdown: shutdown.signal });
  for (const [name, queue] of Object.entries(config.queues) as unknown as [
    QueueName,
    { url: string; dlqUrl?: string },
  ][]) {
    const child = logger.child({ queue: name });
    const handleBatch = createBatchHandler({
      queue: name,
      keys,
      applyEffects,
      deadLetter:
        queue.dlqUrl === undefined
          ? null
          : (poison) => sendToDeadLetterQueue(sqs, queue.dlqUrl!, queue.url, poison),
      retryLater: (changes) => changeVisibility(sqs, queue.url, changes),
      onApplied: (plan) => recent.record(plan.effects),
      onRedisUnavailable: (reason) => gate.reportUnavailable(reason),
      ...(ignored === undefined ? {} : { onIgnored: (m, d) => ignored(name, m, d) }),
      backoff: config.consumer.retryBackoff,
      metrics,
      logger: child,
    });
    pollers.push(
      new QueuePollers({
        name,
        queueUrl: queue.url,
        sqs,
        pollers: config.consumer.pollersPerQueue,
        batchSize: config.consumer.batchSize,
        visibilityTimeoutS: config.consumer.visibilityTimeoutS,
        heartbeatIntervalS: config.consumer.heartbeatIntervalS,
        waitTimeS: config.consumer.waitTimeS,
        handleBatch: (messages) => {
          observeAge(name, messages);
          return handleBatch(messages);
        },
        logger: child,
      }),
    );
  }

  function observeAge(queue: string, messages: readonly Message[]): void {
    const sent = messages.map((m) => Number(m.Attributes?.SentTimestamp)).filter(Number.isFinite);
    if (sent.length > 0) metrics.queueObserved(queue, { oldestAgeMs: Date.now() - Math.min(...sent) });
  }

  const admin = await startAdminServer({
    port: config.admin.port,
    readiness: () => {
      const checks = {
        redis: redis.client.status === 'ready',
        polling: !gate.isOpen && pollers.every((p) => p.running),
        draining: closing,
      };
      return { ready: checks.redis && checks.polling && !closing, checks };
    },
    ...(options.registerAdminRoutes === undefined ? {} : { register: options.registerAdminRoutes }),
  });

  const heartbeats: HeartbeatLoop = startHeartbeats(
    redis.client,
    channel,
    options.heartbeatIntervalMs,
    (err) => logger.debug({ err }, 'heartbeat failed'),
  );
  // Depth feeds the `invalidation_queue_depth` gauge; a failed read only skips one sample.
  const observeDepths = () => {
    for (const [name, queue] of Object.entries(config.queues)) {
      readQueueDepth(sqs, String(queue.url)).then(
        (depth) => metrics.queueObserved(name, { depth }),
        (err: unknown) => logger.debug({ err, queue: name }, 'queue depth not read'),
      );
    }
  };
  observeDepths();
  const depthTimer = setInterval(observeDepths, options.queueDepthIntervalMs ?? 15_000);
  depthTimer.unref();
  for (const p of pollers) p.start();
  logger.info(
    { queues: pollers.map((p) => p.name), adminPort: admin.port, redisMode: config.redis.mode },
    'worker started',
  );

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      shutdown.abort();
      clearInterval(depthTimer);
      const started = Date.now();
      await step('drain queues', () =>
        Promise.all(pollers.map((p) => p.close(config.lifecycle.drainDeadlineMs))).then(() => undefined),
      );
      await step('stop heartbeats', () => heartbeats.stop());
      gate.dispose();
      await step('close redis', () => redis.close());
      await step('close admin server', () => admin.app.close());
      sqs.destroy();
      logger.info({ tookMs: Date.now() - started }, 'worker stopped');
    })());

  async function step(name: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      logger.error({ err, step: name }, 'shutdown step failed; continuing');
    }
  }

  return { adminPort: admin.port, redis, close };
}
