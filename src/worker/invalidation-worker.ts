/**
 * The worker process: pollers on each configured queue, the batch pipeline, the Redis gate,
 * replication health and held acks, L1 heartbeats, failover replay, worker presence
 * (decision 0024) and the admin server,
 * with an idempotent `close()` that follows the shutdown order of docs/operations.md
 * ("Shutdown"); every step runs even when an earlier one failed.
 */
import { hostname } from 'node:os';
import type { Message } from '@aws-sdk/client-sqs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { QueueConfig, QueueName, WorkerConfig } from '../config/worker-config.ts';
import type { QueueUrl } from '../core/identifiers.ts';
import type { InvalidationPlan, MessageDecision } from '../core/invalidation-plan.ts';
import { createKeyBuilder, type KeyBuilder } from '../core/key-builder.ts';
import { applyInvalidationPlan } from '../adapters/redis/invalidation-effects.ts';
import { startHeartbeats, type HeartbeatLoop } from '../adapters/redis/l1-heartbeat.ts';
import { purgeFamilies } from '../adapters/redis/family-purge.ts';
import { probeWritable, readReplication, waitForReplicas } from '../adapters/redis/replication-info.ts';
import { createRedisConnection, type RedisConnection } from '../adapters/redis/redis-connection.ts';
import { sendToDeadLetterQueue } from '../adapters/sqs/dead-letter-queue.ts';
import { deleteMessages } from '../adapters/sqs/message-acks.ts';
import { changeVisibility } from '../adapters/sqs/message-visibility.ts';
import { readQueueDepth } from '../adapters/sqs/queue-depth.ts';
import { createSqsClient } from '../adapters/sqs/sqs-client.ts';
import { startAdminServer } from './admin-server.ts';
import { loadAdminToken } from '../admin/admin-token.ts';
import { NO_ADMIN_METRICS, type AdminMetrics } from '../admin/admin-metrics.ts';
import { registerAdminApi } from '../admin/admin-routes.ts';
import { AuditTrail } from '../admin/audit-trail.ts';
import { PauseWatcher, pausedOnly } from '../admin/pause-switch.ts';
import { Purger } from '../admin/purge.ts';
import {
  createBatchHandler,
  type BatchObserver,
  type DeadLetterPort,
  type DurabilityPort,
  type EffectsPort,
  type VisibilityPort,
} from './batch-handler.ts';
import { replayRecentInvalidations } from './failover-replay.ts';
import { HeldAcks } from './held-acks.ts';
import { QueuePollers } from './queue-pollers.ts';
import { RecentInvalidations } from './recent-invalidations.ts';
import { RedisGate } from './redis-gate.ts';
import { withTestDrops } from './test-drop-hook.ts';
import { announceWatermark, startCanaries } from './pipeline-canary.ts';
import { startPresence } from './worker-presence.ts';
import { ReplicationMonitor } from './replication-health.ts';
import { redisConfigFrom } from './redis-settings.ts';
import { createShadowPlanner, describeCandidate } from './shadow-contract.ts';
import { ShadowEvaluator, type ShadowMetrics } from './shadow-evaluator.ts';
import { registerShadowRoutes } from './shadow-routes.ts';
import { NO_METRICS, type WorkerMetrics } from '../metrics/worker-metrics.ts';

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
  /** Where shadow mode's comparisons go besides /shadow.json (PrometheusMetrics implements it). */
  readonly shadowMetrics?: ShadowMetrics;
  /** The admin token. Default: loadAdminToken() (ADMIN_TOKEN, else .local/admin-token). */
  readonly adminToken?: string;
  /** Refused admin calls, audited actions, the kill switch (PrometheusMetrics implements it). */
  readonly adminMetrics?: AdminMetrics;
  /** How often the kill switch is read. Default 500 ms. */
  readonly pausePollMs?: number;
  /** Purges allowed per minute across the fleet. Default 30. */
  readonly purgesPerMinute?: number;
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
  const adminMetrics = options.adminMetrics ?? NO_ADMIN_METRICS;
  // Before anything connects: a worker without a token cannot close its admin surface.
  const adminToken = options.adminToken ?? loadAdminToken();
  const keys = createKeyBuilder({ namespace: config.keys.namespace, locales: config.keys.locales });
  const channel = keys.l1Channel();
  // Shadow mode (WORKER_SHADOW_CONTRACT): a candidate planned beside the live contract, never applied.
  const shadow =
    config.shadow === undefined
      ? undefined
      : new ShadowEvaluator({
          planner: createShadowPlanner(config.shadow, {
            ...config.keys,
            maxBodyBytes: config.maxEventBodyBytes,
          }),
          instance: `${hostname()}:${process.pid}`,
          ...(options.shadowMetrics === undefined ? {} : { metrics: options.shadowMetrics }),
          logger: logger.child({ component: 'shadow' }),
        });
  const redis = createRedisConnection(redisConfigFrom(config.redis, `inval-worker-${process.pid}`));
  const sqs = createSqsClient(config.aws);
  const required = config.redis.waitReplicas;
  const monitor = new ReplicationMonitor({ read: () => readReplication(redis.client), required });
  const recent = new RecentInvalidations({
    windowMs: config.replay.windowMs,
    maxBytes: config.replay.maxBytes,
    safeSince: () => monitor.safeSinceMs,
  });
  const applyEffects = (plan: InvalidationPlan, waitReplicas: number) =>
    applyInvalidationPlan(redis.client, plan, {
      channel,
      waitReplicas,
      waitTimeoutMs: config.redis.waitTimeoutMs,
      deadlineMs: config.redis.effectsDeadlineMs,
    });
  // Held acks name their queue; only configured queues ever hold (the handler of each).
  const queueUrl = (name: string): QueueUrl => {
    const queue = config.queues[name as QueueName];
    if (queue === undefined) throw new Error(`held acks for an unconfigured queue: ${name}`);
    return queue.url;
  };
  const held = new HeldAcks({
    // Short: WAIT blocks the connection every batch shares; held acks retry every second.
    confirm: async () => (await waitForReplicas(redis.client, required, 100)) >= required,
    replicationState: () => monitor.state,
    onConfirmed: (at) => monitor.noteConfirmed(at),
    ack: (queue, messages) => deleteMessages(sqs, queueUrl(queue), messages),
    extend: (queue, messages, timeoutS) =>
      changeVisibility(
        sqs,
        queueUrl(queue),
        messages.map((message) => ({ message, timeoutS })),
      ),
    visibilityTimeoutS: config.consumer.visibilityTimeoutS,
    extendEveryMs: config.consumer.heartbeatIntervalS * 1_000,
    maxHoldMs: config.replay.durabilityHoldMs,
    metrics,
    logger: logger.child({ component: 'held-acks' }),
  });

  const gate = new RedisGate({ probe: () => probeWritable(redis.client, keys.writeProbeKey()) });
  const shutdown = new AbortController();
  const pollers: QueuePollers[] = [];
  let closing = false;
  // One replay at a time, in the order the changes were seen.
  let replaying: Promise<unknown> = Promise.resolve();

  redis.events.on('error', (err) => logger.debug({ err }, 'redis connection error'));
  redis.events.on('connection-lost', () => {
    logger.warn('redis connection lost');
    // Whatever the last sample said was about a node this connection may never reach again.
    monitor.forget();
  });
  redis.events.on('ready', () => {
    logger.info('redis connection ready');
    // The node it reached may take writes: probe now rather than at the gate's next interval,
    // and sample its replication now (a new primary has no replica: acks go degraded at once).
    gate.probeNow();
    void monitor.poll();
  });
  redis.events.on('not-primary', (node) =>
    logger.warn({ node }, 'connected to a node that is not the primary; reconnecting'),
  );
  redis.events.on('primary-changed', (change) => {
    const safeSinceMs = monitor.safeSinceMs;
    logger.warn({ change, safeSinceMs }, 'new redis primary detected; replaying recent invalidations');
    replaying = replaying.then(() =>
      replayRecentInvalidations(
        {
          recent,
          applyEffects: (plan) => applyEffects(plan, 0),
          escalate: async (families) => {
            const unlinked = await purgeFamilies(redis.client, {
              keys,
              families,
              channel,
            });
            logger.error({ families: [...families], unlinked }, 'escalation: families purged');
          },
          metrics,
          logger,
        },
        { reason: change.reason, safeSinceMs },
      ),
    );
  });
  monitor.on('sample', (sample) => metrics.replicationObserved(sample));
  monitor.on('change', (sample, previous) => {
    const level = sample.state === 'healthy' || sample.state === 'unknown' ? 'info' : 'warn';
    logger[level]({ replication: sample, previous }, 'replication state changed');
  });
  gate.on('open', (reason) => {
    logger.error({ reason }, 'redis does not accept writes: pausing every queue until it does');
    for (const p of pollers) p.pause();
  });
  gate.on('close', (downForMs) => {
    logger.warn({ downForMs }, 'redis accepts writes again: resuming polling');
    syncPolling();
  });

  // The kill switch (src/admin/pause-switch.ts): read before the first receive, then every
  // pausePollMs. A queue polls only while Redis takes writes AND the switch lets it.
  const pause = new PauseWatcher({
    client: redis.client,
    namespace: config.keys.namespace,
    ...(options.pausePollMs === undefined ? {} : { pollMs: options.pausePollMs }),
  });
  function syncPolling(): void {
    if (closing) return;
    for (const p of pollers) {
      const paused = pause.isPaused(p.name);
      adminMetrics.consumptionPaused(p.name, paused);
      if (paused) p.pause();
      else if (!gate.isOpen) p.start();
    }
  }
  pause.on('change', (state) => {
    logger.warn({ paused: pausedOnly(state) }, 'kill switch changed');
    syncPolling();
  });
  pause.on('vanished', (last) =>
    logger.error(
      { paused: pausedOnly(last) },
      'the kill switch vanished from Redis while paused: staying paused until an explicit admin resume',
    ),
  );
  pause.on('error', (err) => logger.debug({ err }, 'kill switch not read; the last state stands'));

  const hosted = options.ignoredEvents?.({ redis, keys, metrics, shutdown: shutdown.signal });
  // The pipeline canary (decision 0022) is announced on the watermark channel, then acked.
  const watermarkDeps = { redis: redis.client, namespace: config.keys.namespace, metrics, logger };
  const ignored: IgnoredEventHandler = async (queue, message, decision) => {
    if (decision.event.type !== 'pipeline.canary') return hosted ? hosted(queue, message, decision) : true;
    await announceWatermark(watermarkDeps, queue, decision.event);
    return true;
  };
  // The ports every queue's handler shares (BatchHandlerDeps); the per-queue ones follow.
  const effects: EffectsPort = { apply: applyEffects };
  const observer: BatchObserver = {
    applied: (plan) => {
      recent.record(plan.effects);
      metrics.replayRing({ bytes: recent.bytes, effects: recent.size });
    },
    redisUnavailable: (reason) => gate.reportUnavailable(reason),
  };
  for (const [name, queue] of Object.entries(config.queues) as [QueueName, QueueConfig][]) {
    const child = logger.child({ queue: name });
    const dlqUrl = queue.dlqUrl;
    const durability: DurabilityPort = {
      required,
      state: () => monitor.state,
      hold: (messages) => held.hold(name, messages),
      confirmed: (at) => monitor.noteConfirmed(at),
    };
    const deadLetters: DeadLetterPort | null =
      dlqUrl === undefined
        ? null
        : { send: (poison) => sendToDeadLetterQueue(sqs, dlqUrl, queue.url, poison) };
    const visibility: VisibilityPort = { retryLater: (changes) => changeVisibility(sqs, queue.url, changes) };
    const handleBatch = withTestDrops(
      createBatchHandler({
        queue: name,
        keys,
        effects,
        durability,
        deadLetters,
        visibility,
        observer,
        ...(ignored === undefined ? {} : { ignored: { consume: (m, d) => ignored(name, m, d) } }),
        shutdown: shutdown.signal,
        redisRecovered: () => gate.whenClosed(),
        backoff: config.consumer.retryBackoff,
        metrics,
        logger: child,
        maxBodyBytes: config.maxEventBodyBytes,
        ...(shadow === undefined ? {} : { shadow }),
      }),
      config.testDropEventIds,
      child,
    );
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
        handleBatch: async (messages) => {
          // A long poll that was in flight when the kill switch was set can still return
          // messages: they are given back at once (visible again, receive count + 1), never
          // handled. Batches handed over before the switch finish as usual.
          if (pause.isPaused(name)) {
            await changeVisibility(
              sqs,
              queue.url,
              messages.map((message) => ({ message, timeoutS: 0 })),
            ).catch((err: unknown) => child.warn({ err }, 'paused: giving back a late batch failed'));
            child.info({ messages: messages.length }, 'paused: a late receive was given back unhandled');
            return [];
          }
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

  const audit = new AuditTrail({
    client: redis.client,
    namespace: config.keys.namespace,
    logger: logger.child({ component: 'audit' }),
    onRecord: (r) => adminMetrics.adminAction(r.action, r.result),
  });
  const purger = new Purger({
    client: redis.client,
    keys,
    applyEffects: (plan) => applyEffects(plan, required),
    onApplied: (plan) => observer.applied(plan),
    ...(options.purgesPerMinute === undefined ? {} : { perMinute: options.purgesPerMinute }),
  });
  const admin = await startAdminServer({
    port: config.admin.port,
    host: config.admin.host,
    token: adminToken,
    onRefused: (reason, route) => adminMetrics.adminRefused(reason, route),
    readiness: () => {
      const paused = pollers.filter((p) => pause.isPaused(p.name)).map((p) => p.name);
      const checks = {
        redis: redis.client.status === 'ready',
        // A queue paused by the kill switch is not polling on purpose: still ready.
        polling: !gate.isOpen && pollers.every((p) => p.running || pause.isPaused(p.name)),
        draining: closing,
        // The kill switch: the queues it pauses here ("unknown" until it was first read).
        paused: pause.state === undefined ? 'unknown' : paused.length === 0 ? 'none' : paused.join(','),
        // Not a readiness condition (the worker still applies every delete), but an operator
        // must see it: critical deletes are not confirmed on a replica right now.
        durability: monitor.state === 'healthy' || monitor.state === 'unknown' ? 'ok' : 'degraded',
        replication: monitor.state,
        heldAcks: held.size,
      };
      return { ready: checks.redis && checks.polling && !closing, checks };
    },
    register: async (app) => {
      registerAdminApi(app, {
        client: redis.client,
        namespace: config.keys.namespace,
        queues: pollers.map((p) => p.name),
        purger,
        audit,
        pause,
        token: adminToken,
      });
      registerShadowRoutes(app, shadow);
      await options.registerAdminRoutes?.(app);
    },
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
      readQueueDepth(sqs, queue.url).then(
        (depth) => metrics.queueObserved(name, { depth }),
        (err: unknown) => logger.debug({ err, queue: name }, 'queue depth not read'),
      );
    }
  };
  observeDepths();
  const depthTimer = setInterval(observeDepths, options.queueDepthIntervalMs ?? 15_000);
  depthTimer.unref();
  // One replication sample before the first batch, so its WAIT decision is informed.
  await monitor.poll();
  monitor.start();
  held.start();
  // The switch is read before the first receive: a worker started while paused stays paused.
  await pause.poll();
  pause.start();
  // Decision 0024: announced before the first receive, so no message is held unannounced.
  const presence = await startPresence({
    redis: redis.client,
    namespace: config.keys.namespace,
    intervalMs: config.presence.intervalMs,
    onError: (err) => logger.debug({ err }, 'presence not announced'),
  });
  syncPolling();
  const canaries = startCanaries({
    intervalMs: config.canary.intervalMs,
    topics: config.canary.topics,
    aws: config.aws,
    redis: redis.client,
    namespace: config.keys.namespace,
    metrics,
    logger: logger.child({ component: 'canary' }),
  });
  const uncanaried = (['catalog', 'promotions', 'sessions'] as const).filter(
    (q) => config.queues[q] !== undefined && config.canary.topics[q] === undefined,
  );
  if (config.canary.intervalMs > 0 && uncanaried.length > 0)
    logger.warn(
      { queues: uncanaried },
      'no WORKER_<QUEUE>_TOPIC_ARN for these queues: no pipeline canary, so readers running the pipeline guard never trust the caches of the families they feed (decision 0022)',
    );
  if (required === 0)
    logger.warn('REDIS_WAIT_REPLICAS=0: critical deletes are acked without any replica confirmation');
  logger.info(
    {
      queues: pollers.map((p) => p.name),
      workerId: presence.workerId,
      adminPort: admin.port,
      redisMode: config.redis.mode,
      replication: monitor.sample,
      ...(config.shadow === undefined ? {} : { shadow: describeCandidate(config.shadow) }),
    },
    'worker started',
  );

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      shutdown.abort();
      pause.stop();
      clearInterval(depthTimer);
      const started = Date.now();
      await step('stop canaries', () => canaries.stop());
      await step('drain queues', () =>
        Promise.all(pollers.map((p) => p.close(config.lifecycle.drainDeadlineMs))).then(() => undefined),
      );
      await step('settle held acks', () => held.close());
      await step('stop heartbeats', () => heartbeats.stop());
      await step('wait for a running replay', () => replaying);
      // Decision 0024: "leaving" only when no batch is in hand (none abandoned at the drain
      // deadline); otherwise silence, and the readers wait out the messages' hand-over.
      if (pollers.every((p) => p.inFlight === 0)) await step('announce leaving', () => presence.leave());
      else logger.warn('batches abandoned at the drain: not announcing "leaving" (decision 0024)');
      monitor.stop();
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
