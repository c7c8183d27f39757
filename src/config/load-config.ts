/**
 * Loads the worker's configuration: one pass over an env-like record, validated once at
 * start-up. Every problem is reported at once (a ConfigError lists each variable and what to
 * fix), then the result is assembled by concern and deep-frozen. An empty string counts as
 * unset, so `FOO=` means "use the default". The variables, their defaults and meanings are
 * in variables.ts (docs/operations.md's table is generated from it), the rules between them
 * in cross-field-rules.ts.
 */
import { ConfigError } from '../core/errors.ts';
import type { ConfigProblem } from '../core/errors.ts';
import { deepFreeze } from '../core/deep-freeze.ts';
import { crossFieldProblems } from './cross-field-rules.ts';
import { QUEUE_VARIABLES, TOPIC_VARIABLES, VARIABLES } from './variables.ts';
import type { VariableName, VariableSpec, Variables } from './variables.ts';
import type { QueueConfig, QueueName, WorkerConfig } from './worker-config.ts';

/** An env-like record (process.env fits). */
export type EnvRecord = Readonly<Record<string, string | undefined>>;

/** Validate the environment into a frozen WorkerConfig; throws ConfigError listing every problem. */
export function loadWorkerConfig(env: EnvRecord): WorkerConfig {
  const problems: ConfigProblem[] = [];
  const values: Partial<Record<VariableName, unknown>> = {};

  // Each variable on its own, so one bad value never hides another.
  for (const [name, spec] of Object.entries(VARIABLES) as [VariableName, VariableSpec][]) {
    const raw = env[name]?.trim();
    const result = spec.schema.safeParse(raw === '' || raw === undefined ? spec.default : raw);
    if (result.success) values[name] = result.data;
    else {
      const messages = [
        ...new Set(
          result.error.issues.map((i) =>
            raw === undefined && i.code === 'invalid_type' && i.message.startsWith('Invalid input')
              ? 'is required'
              : i.message,
          ),
        ),
      ];
      problems.push(...messages.map((message) => ({ variable: name, message })));
    }
  }

  problems.push(...crossFieldProblems(values as Partial<Variables>));
  // A hook that loses invalidations on purpose must never reach a deployed worker.
  if (values.WORKER_TEST_DROP_EVENT_IDS !== undefined && env.NODE_ENV !== 'test') {
    problems.push({
      variable: 'WORKER_TEST_DROP_EVENT_IDS',
      message: 'is a test-only hook that drops invalidations; it is refused unless NODE_ENV=test: unset it',
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(assemble(values as Variables));
}

function assemble(v: Variables): WorkerConfig {
  const queues: Partial<Record<QueueName, QueueConfig>> = {};
  for (const [name, q, dlq] of QUEUE_VARIABLES) {
    const url = v[q];
    const dlqUrl = v[dlq];
    if (url !== undefined) queues[name] = dlqUrl === undefined ? { url } : { url, dlqUrl };
  }
  return {
    redis: {
      mode: v.REDIS_MODE,
      addresses: v.REDIS_ADDRESSES,
      ...(v.REDIS_SENTINEL_NAME === undefined ? {} : { sentinelName: v.REDIS_SENTINEL_NAME }),
      ...(v.REDIS_USERNAME === undefined ? {} : { username: v.REDIS_USERNAME }),
      ...(v.REDIS_PASSWORD === undefined ? {} : { password: v.REDIS_PASSWORD }),
      tls: v.REDIS_TLS,
      ...(v.REDIS_TLS_CA_FILE === undefined ? {} : { tlsCaFile: v.REDIS_TLS_CA_FILE }),
      db: v.REDIS_DB,
      commandTimeoutMs: v.REDIS_COMMAND_TIMEOUT_MS,
      waitReplicas: v.REDIS_WAIT_REPLICAS,
      waitTimeoutMs: v.REDIS_WAIT_TIMEOUT_MS,
      effectsDeadlineMs: v.WORKER_EFFECTS_DEADLINE_MS,
    },
    keys: { namespace: v.REDIS_KEY_NAMESPACE, locales: [...new Set(v.WORKER_LOCALES)] },
    maxEventBodyBytes: v.WORKER_MAX_EVENT_BODY_BYTES,
    ...(v.WORKER_SHADOW_CONTRACT === undefined ? {} : { shadow: v.WORKER_SHADOW_CONTRACT }),
    queues,
    canary: {
      intervalMs: v.WORKER_CANARY_INTERVAL_MS,
      topics: Object.fromEntries(
        TOPIC_VARIABLES.flatMap(([name, topic]) => (v[topic] === undefined ? [] : [[name, v[topic]]])),
      ),
    },
    presence: { intervalMs: v.WORKER_PRESENCE_INTERVAL_MS },
    consumer: {
      batchSize: v.WORKER_BATCH_SIZE,
      pollersPerQueue: v.WORKER_POLLERS_PER_QUEUE,
      visibilityTimeoutS: v.WORKER_VISIBILITY_TIMEOUT_S,
      heartbeatIntervalS: v.WORKER_HEARTBEAT_INTERVAL_S,
      waitTimeS: v.WORKER_WAIT_TIME_S,
      retryBackoff: { baseS: v.WORKER_RETRY_BACKOFF_BASE_S, maxS: v.WORKER_RETRY_BACKOFF_MAX_S },
    },
    replay: {
      windowMs: v.WORKER_REPLAY_WINDOW_MS,
      maxBytes: v.WORKER_REPLAY_MAX_BYTES,
      durabilityHoldMs: v.WORKER_DURABILITY_HOLD_MS,
    },
    lifecycle: { drainDeadlineMs: v.WORKER_DRAIN_DEADLINE_MS, stopTimeoutMs: v.WORKER_STOP_TIMEOUT_MS },
    admin: { port: v.WORKER_ADMIN_PORT, host: v.WORKER_ADMIN_HOST },
    logLevel: v.WORKER_LOG_LEVEL,
    metricsService: v.WORKER_METRICS_SERVICE,
    emfEnabled: v.WORKER_EMF_ENABLED,
    refresh: {
      ...(v.WORKER_ORIGIN_URL === undefined ? {} : { originUrl: v.WORKER_ORIGIN_URL }),
      topN: v.WORKER_REFRESH_TOP_N,
      asins: v.WORKER_REFRESH_ASINS ?? [],
      ratePerSecond: v.WORKER_REFRESH_RATE_PER_S,
      concurrency: v.WORKER_REFRESH_CONCURRENCY,
    },
    testDropEventIds: v.WORKER_TEST_DROP_EVENT_IDS ?? [],
    aws: {
      region: v.AWS_REGION,
      ...(v.AWS_ENDPOINT_URL === undefined ? {} : { endpoint: v.AWS_ENDPOINT_URL }),
    },
  };
}

/** A copy safe to log: secrets replaced by `[redacted]`. */
export function redactConfig(config: WorkerConfig): WorkerConfig {
  if (config.redis.password === undefined) return config;
  return deepFreeze({ ...config, redis: { ...config.redis, password: '[redacted]' } });
}
