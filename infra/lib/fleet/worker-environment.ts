/**
 * Names of the environment variables the stack sets on the worker container. They are the
 * worker's own configuration variables (src/config/variables.ts, the one source of truth);
 * test/infra/fleet.test.ts ("sets only variables the worker reads") checks that every name
 * here is one the worker reads.
 */
import type { ConsumerName } from '../messaging/messaging-topology.ts';

export const WORKER_ENV = {
  /** `standalone` in AWS: the replication group's primary endpoint follows failover. */
  redisMode: 'REDIS_MODE',
  /** `host:port` of the primary endpoint. */
  redisAddresses: 'REDIS_ADDRESSES',
  redisTls: 'REDIS_TLS',
  /** Injected from Secrets Manager by ECS (never a plain environment value). */
  redisPassword: 'REDIS_PASSWORD',
  adminPort: 'WORKER_ADMIN_PORT',
  /** `0.0.0.0` in the task: reachable only where the security group admits (no one by default). */
  adminHost: 'WORKER_ADMIN_HOST',
  /** The admin API's bearer token: injected from Secrets Manager by ECS (never a plain value). */
  adminToken: 'ADMIN_TOKEN',
  drainDeadlineMs: 'WORKER_DRAIN_DEADLINE_MS',
  visibilityTimeoutS: 'WORKER_VISIBILITY_TIMEOUT_S',
  heartbeatIntervalS: 'WORKER_HEARTBEAT_INTERVAL_S',
  /** The Reviews origin the hourly refresh calls. */
  originUrl: 'WORKER_ORIGIN_URL',
  stopTimeoutMs: 'WORKER_STOP_TIMEOUT_MS',
  awsRegion: 'AWS_REGION',
  /**
   * The `Service` dimension of the worker's embedded metrics (see metric-names.ts). The
   * dashboard and alarms select on it, so the worker must publish with this exact value.
   */
  metricsService: 'WORKER_METRICS_SERVICE',
  /** `true`: the worker writes CloudWatch embedded metrics to stdout, which awslogs ships. */
  emfEnabled: 'WORKER_EMF_ENABLED',
  /** The pipeline canary's interval (decision 0022). */
  canaryIntervalMs: 'WORKER_CANARY_INTERVAL_MS',
  /** The worker presence interval (decision 0024). */
  presenceIntervalMs: 'WORKER_PRESENCE_INTERVAL_MS',
} as const;
export type WorkerEnvName = (typeof WORKER_ENV)[keyof typeof WORKER_ENV];

/** The variables that carry each consumer queue's URL and its DLQ's URL. */
export const QUEUE_URL_ENV: Readonly<Record<ConsumerName, { url: string; dlqUrl: string }>> = {
  catalog: { url: 'WORKER_CATALOG_QUEUE_URL', dlqUrl: 'WORKER_CATALOG_DLQ_URL' },
  promotions: { url: 'WORKER_PROMOTIONS_QUEUE_URL', dlqUrl: 'WORKER_PROMOTIONS_DLQ_URL' },
  sessions: { url: 'WORKER_SESSIONS_QUEUE_URL', dlqUrl: 'WORKER_SESSIONS_DLQ_URL' },
  reviewRefresh: { url: 'WORKER_REVIEW_REFRESH_QUEUE_URL', dlqUrl: 'WORKER_REVIEW_REFRESH_DLQ_URL' },
};

/** The variables that carry the topic feeding each topic-fed queue (the pipeline canary, decision 0022). */
export const TOPIC_ARN_ENV = {
  catalog: 'WORKER_CATALOG_TOPIC_ARN',
  promotions: 'WORKER_PROMOTIONS_TOPIC_ARN',
  sessions: 'WORKER_SESSIONS_TOPIC_ARN',
} as const satisfies Partial<Record<ConsumerName, string>>;

/** The worker's admin port (Prometheus `/metrics`, `/healthz`). */
export const DEFAULT_ADMIN_PORT = 9464;
