/**
 * The worker's configuration: one schema over an env-like record, validated once at start-up.
 * Every problem is reported at once (a ConfigError lists each variable and what to fix), then
 * the result is deep-frozen. An empty string counts as unset, so `FOO=` means "use the default".
 *
 * Variables (default in brackets):
 *
 *   REDIS_MODE                  standalone | sentinel | cluster [standalone]
 *   REDIS_ADDRESSES             comma-separated host:port; the server (standalone), the Sentinels
 *                               (sentinel) or seed nodes (cluster) [127.0.0.1:6379]
 *   REDIS_SENTINEL_NAME         master group name; required in sentinel mode
 *   REDIS_USERNAME              ACL user [none]
 *   REDIS_PASSWORD              password [none]; a secret, see redactConfig()
 *   REDIS_TLS                   true | false [false]
 *   REDIS_DB                    logical database 0-15 [0]; must be 0 in cluster mode
 *   REDIS_KEY_NAMESPACE         first segment of every key [mc]
 *   REDIS_COMMAND_TIMEOUT_MS    client deadline of one Redis command, > REDIS_WAIT_TIMEOUT_MS [2000]
 *   REDIS_WAIT_REPLICAS         replicas WAIT must reach for critical batches, 1-5 [1]; 0 only
 *                               with REDIS_ALLOW_NO_WAIT=true
 *   REDIS_ALLOW_NO_WAIT         true: accept REDIS_WAIT_REPLICAS=0 (no durable deletes) [false]
 *   REDIS_WAIT_TIMEOUT_MS       WAIT timeout, >= 1 (0 would block forever) [500]
 *   WORKER_EFFECTS_DEADLINE_MS  deadline of one batch's effects (a guard against a client
 *                               that queues forever), > REDIS_COMMAND_TIMEOUT_MS [10000]
 *   WORKER_LOCALES              comma-separated value-shaping locales [en-US,ja-JP]
 *   WORKER_CATALOG_QUEUE_URL, WORKER_PROMOTIONS_QUEUE_URL, WORKER_SESSIONS_QUEUE_URL,
 *   WORKER_REVIEW_REFRESH_QUEUE_URL
 *                               SQS queue URLs; each optional, at least one required
 *   WORKER_CATALOG_DLQ_URL, WORKER_PROMOTIONS_DLQ_URL, WORKER_SESSIONS_DLQ_URL,
 *   WORKER_REVIEW_REFRESH_DLQ_URL
 *                               where poison goes; optional (else the queue's redrive policy)
 *   WORKER_BATCH_SIZE           messages per receive, 1-10 [10]
 *   WORKER_POLLERS_PER_QUEUE    concurrent pollers per queue, 1-32 [2]
 *   WORKER_VISIBILITY_TIMEOUT_S SQS visibility timeout, 1-43200 [30]
 *   WORKER_HEARTBEAT_INTERVAL_S visibility extension interval, < visibility timeout [10]
 *   WORKER_WAIT_TIME_S          SQS long-poll wait, 0-20 [20]
 *   WORKER_RETRY_BACKOFF_BASE_S first visibility backoff after a transient failure [2]
 *   WORKER_RETRY_BACKOFF_MAX_S  cap of the growing backoff, <= 43200 [300]
 *   WORKER_REPLAY_WINDOW_MS     replication lag a failover replay covers, before the last moment
 *                               writes were known to be on a replica [10000]
 *   WORKER_REPLAY_MAX_BYTES     memory cap of the replay ring [67108864]
 *   WORKER_DURABILITY_HOLD_MS   longest an applied critical message waits for a replica's
 *                               confirmation before a degraded ack [120000]
 *   WORKER_DRAIN_DEADLINE_MS    how long SIGTERM waits for in-flight batches [20000]
 *   WORKER_STOP_TIMEOUT_MS      the orchestrator's stop timeout; drain must end before it [30000]
 *   WORKER_ADMIN_PORT           liveness/readiness/metrics port, 0 = ephemeral [9464]
 *   WORKER_LOG_LEVEL            fatal | error | warn | info | debug | trace | silent [info]
 *   WORKER_ORIGIN_URL           Reviews origin base URL; required with WORKER_REVIEW_REFRESH_QUEUE_URL
 *   WORKER_REFRESH_TOP_N        hot review keys refreshed per hourly run, 1-100000 [1000]
 *   WORKER_REFRESH_ASINS        comma-separated ASINs always refreshed [none]
 *   WORKER_REFRESH_RATE_PER_S   the Reviews origin's budget: calls per second at most [50]
 *   WORKER_REFRESH_CONCURRENCY  calls in flight at most [16]
 *   WORKER_METRICS_SERVICE      the `Service` dimension of the embedded metrics [invalidation-fleet]
 *   WORKER_EMF_ENABLED          write CloudWatch embedded metrics to stdout (the stack sets true) [false]
 *   AWS_REGION                  required, e.g. us-east-1
 *   AWS_ENDPOINT_URL            optional endpoint override (LocalStack: http://localhost:4566)
 */
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import type { ConfigProblem } from './errors.ts';
import { deepFreeze } from './deep-freeze.ts';
import type { DeepReadonly } from './deep-freeze.ts';
import { asQueueUrl } from './identifiers.ts';
import type { QueueUrl } from './identifiers.ts';
import { ASIN, LOCALE, NAMESPACE } from './identifier-rules.ts';
import { MAX_CONFIGURED_LOCALES } from './key-builder.ts';

/** An env-like record (process.env fits). */
export type EnvRecord = Readonly<Record<string, string | undefined>>;

/** SQS's own limits. */
export const SQS_MAX_BATCH_SIZE = 10;
export const SQS_MAX_VISIBILITY_TIMEOUT_S = 43_200;
export const SQS_MAX_WAIT_TIME_S = 20;

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d{1,15}$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );

const bool = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

const list = <T extends z.ZodType<unknown, string>>(item: T, what: string) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part.length > 0),
    )
    .pipe(z.array(item).min(1, { error: `must list at least one ${what}` }));

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;
const address = z.string().transform((s, ctx) => {
  const colon = s.lastIndexOf(':');
  const host = s.slice(0, colon);
  const port = Number(s.slice(colon + 1));
  if (colon <= 0 || !HOST.test(host) || !/^\d{1,5}$/.test(s.slice(colon + 1)) || port < 1 || port > 65_535) {
    ctx.addIssue({ code: 'custom', message: 'every address must be host:port (port 1-65535)' });
    return z.NEVER;
  }
  return { host: host.replace(/^\[(.*)\]$/, '$1'), port };
});

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const queueUrl = httpUrl.transform(asQueueUrl);

/** Each variable, its schema (over the raw string) and its default. */
const VARIABLES = {
  REDIS_MODE: z
    .enum(['standalone', 'sentinel', 'cluster'], { error: 'must be standalone, sentinel or cluster' })
    .default('standalone'),
  REDIS_ADDRESSES: list(address, 'host:port').default([{ host: '127.0.0.1', port: 6379 }]),
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'must be 1-64 of A-Z a-z 0-9 _ . -' })
    .optional(),
  REDIS_USERNAME: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_TLS: bool.default(false),
  REDIS_DB: int(0, 15).default(0),
  REDIS_KEY_NAMESPACE: z
    .string()
    .regex(NAMESPACE.pattern, { error: `must be ${NAMESPACE.description}` })
    .max(NAMESPACE.maxLength)
    .default('mc'),
  REDIS_COMMAND_TIMEOUT_MS: int(50, 60_000).default(2_000),
  REDIS_WAIT_REPLICAS: int(0, 5).default(1),
  REDIS_ALLOW_NO_WAIT: bool.default(false),
  REDIS_WAIT_TIMEOUT_MS: int(1, 60_000).default(500),
  WORKER_EFFECTS_DEADLINE_MS: int(100, 600_000).default(10_000),
  WORKER_LOCALES: list(
    z.string().regex(LOCALE.pattern, { error: `every locale must be ${LOCALE.description}` }),
    'locale',
  )
    .pipe(
      z.array(z.string()).max(MAX_CONFIGURED_LOCALES, { error: `at most ${MAX_CONFIGURED_LOCALES} locales` }),
    )
    .default(['en-US', 'ja-JP']),
  WORKER_CATALOG_QUEUE_URL: queueUrl.optional(),
  WORKER_PROMOTIONS_QUEUE_URL: queueUrl.optional(),
  WORKER_SESSIONS_QUEUE_URL: queueUrl.optional(),
  WORKER_REVIEW_REFRESH_QUEUE_URL: queueUrl.optional(),
  WORKER_CATALOG_DLQ_URL: queueUrl.optional(),
  WORKER_PROMOTIONS_DLQ_URL: queueUrl.optional(),
  WORKER_SESSIONS_DLQ_URL: queueUrl.optional(),
  WORKER_REVIEW_REFRESH_DLQ_URL: queueUrl.optional(),
  WORKER_BATCH_SIZE: int(1, SQS_MAX_BATCH_SIZE).default(SQS_MAX_BATCH_SIZE),
  WORKER_POLLERS_PER_QUEUE: int(1, 32).default(2),
  WORKER_VISIBILITY_TIMEOUT_S: int(1, SQS_MAX_VISIBILITY_TIMEOUT_S).default(30),
  WORKER_HEARTBEAT_INTERVAL_S: int(1, SQS_MAX_VISIBILITY_TIMEOUT_S).default(10),
  WORKER_WAIT_TIME_S: int(0, SQS_MAX_WAIT_TIME_S).default(SQS_MAX_WAIT_TIME_S),
  WORKER_RETRY_BACKOFF_BASE_S: int(1, SQS_MAX_VISIBILITY_TIMEOUT_S).default(2),
  WORKER_RETRY_BACKOFF_MAX_S: int(1, SQS_MAX_VISIBILITY_TIMEOUT_S).default(300),
  WORKER_REPLAY_WINDOW_MS: int(0, 300_000).default(10_000),
  WORKER_REPLAY_MAX_BYTES: int(1_048_576, 4_294_967_296).default(64 * 1_048_576),
  WORKER_DURABILITY_HOLD_MS: int(1_000, 43_200_000).default(120_000),
  WORKER_DRAIN_DEADLINE_MS: int(0, 600_000).default(20_000),
  WORKER_STOP_TIMEOUT_MS: int(1, 600_000).default(30_000),
  WORKER_ADMIN_PORT: int(0, 65_535).default(9_464),
  WORKER_EMF_ENABLED: bool.default(false),
  WORKER_ORIGIN_URL: httpUrl.optional(),
  WORKER_REFRESH_TOP_N: int(1, 100_000).default(1_000),
  WORKER_REFRESH_ASINS: list(
    z.string().regex(ASIN.pattern, { error: `every ASIN must be ${ASIN.description}` }),
    'ASIN',
  ).optional(),
  WORKER_REFRESH_RATE_PER_S: int(1, 100_000).default(50),
  WORKER_REFRESH_CONCURRENCY: int(1, 1_024).default(16),
  WORKER_METRICS_SERVICE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." or "-", at most 64')
    .default('invalidation-fleet'),
  WORKER_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be fatal, error, warn, info, debug, trace or silent',
    })
    .default('info'),
  AWS_REGION: z.string({ error: 'is required (e.g. us-east-1)' }).regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, {
    error: 'must be an AWS region such as us-east-1',
  }),
  AWS_ENDPOINT_URL: httpUrl.optional(),
} as const;

type Variables = { [K in keyof typeof VARIABLES]: z.output<(typeof VARIABLES)[K]> };

/** Names of every variable the worker reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(VARIABLES));

/** One queue the worker polls. */
export interface QueueConfig {
  readonly url: QueueUrl;
  readonly dlqUrl?: QueueUrl;
}

/** The queues, by source. */
export type QueueName = 'catalog' | 'promotions' | 'sessions' | 'reviewRefresh';

/** The validated, frozen configuration. */
export type WorkerConfig = DeepReadonly<{
  redis: {
    mode: 'standalone' | 'sentinel' | 'cluster';
    addresses: { host: string; port: number }[];
    sentinelName?: string;
    username?: string;
    password?: string;
    tls: boolean;
    db: number;
    commandTimeoutMs: number;
    waitReplicas: number;
    waitTimeoutMs: number;
    effectsDeadlineMs: number;
  };
  keys: { namespace: string; locales: string[] };
  queues: Partial<Record<QueueName, QueueConfig>>;
  consumer: {
    batchSize: number;
    pollersPerQueue: number;
    visibilityTimeoutS: number;
    heartbeatIntervalS: number;
    waitTimeS: number;
    /** Fits `BackoffPolicy` of retry-backoff.ts. */
    retryBackoff: { baseS: number; maxS: number };
  };
  replay: {
    /** Replication lag covered before the last moment writes were known safe, ms. */
    windowMs: number;
    maxBytes: number;
    /** Longest hold of an applied critical message's ack, ms (held-acks.ts). */
    durabilityHoldMs: number;
  };
  lifecycle: { drainDeadlineMs: number; stopTimeoutMs: number };
  admin: { port: number };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  metricsService: string;
  emfEnabled: boolean;
  refresh: {
    originUrl?: string;
    topN: number;
    asins: string[];
    ratePerSecond: number;
    concurrency: number;
  };
  aws: { region: string; endpoint?: string };
}>;

const QUEUE_VARS: readonly [
  QueueName,
  (
    | 'WORKER_CATALOG_QUEUE_URL'
    | 'WORKER_PROMOTIONS_QUEUE_URL'
    | 'WORKER_SESSIONS_QUEUE_URL'
    | 'WORKER_REVIEW_REFRESH_QUEUE_URL'
  ),
  (
    | 'WORKER_CATALOG_DLQ_URL'
    | 'WORKER_PROMOTIONS_DLQ_URL'
    | 'WORKER_SESSIONS_DLQ_URL'
    | 'WORKER_REVIEW_REFRESH_DLQ_URL'
  ),
][] = [
  ['catalog', 'WORKER_CATALOG_QUEUE_URL', 'WORKER_CATALOG_DLQ_URL'],
  ['promotions', 'WORKER_PROMOTIONS_QUEUE_URL', 'WORKER_PROMOTIONS_DLQ_URL'],
  ['sessions', 'WORKER_SESSIONS_QUEUE_URL', 'WORKER_SESSIONS_DLQ_URL'],
  ['reviewRefresh', 'WORKER_REVIEW_REFRESH_QUEUE_URL', 'WORKER_REVIEW_REFRESH_DLQ_URL'],
];

/** Validate the environment into a frozen WorkerConfig; throws ConfigError listing every problem. */
export function loadWorkerConfig(env: EnvRecord): WorkerConfig {
  const problems: ConfigProblem[] = [];
  const values: Partial<Record<keyof typeof VARIABLES, unknown>> = {};

  // Each variable on its own, so one bad value never hides another.
  for (const [name, schema] of Object.entries(VARIABLES) as [keyof typeof VARIABLES, z.ZodType][]) {
    const raw = env[name]?.trim();
    const result = schema.safeParse(raw === '' ? undefined : raw);
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
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(assemble(values as Variables));
}

/** Rules between variables; each runs only when the variables it reads are themselves valid. */
function crossFieldProblems(v: Partial<Variables>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const rule = (ok: boolean | undefined, variable: string, message: string) => {
    if (ok === false) problems.push({ variable, message });
  };
  const both = <A, B>(a: A | undefined, b: B | undefined, f: (a: A, b: B) => boolean) =>
    a === undefined || b === undefined ? undefined : f(a, b);

  rule(
    both(v.WORKER_HEARTBEAT_INTERVAL_S, v.WORKER_VISIBILITY_TIMEOUT_S, (h, vis) => h < vis),
    'WORKER_HEARTBEAT_INTERVAL_S',
    'must be shorter than WORKER_VISIBILITY_TIMEOUT_S, or messages reappear before their visibility is extended',
  );
  rule(
    both(
      v.REDIS_WAIT_TIMEOUT_MS,
      v.WORKER_VISIBILITY_TIMEOUT_S,
      (w, vis) => w + (v.REDIS_COMMAND_TIMEOUT_MS ?? 0) < vis * 1000,
    ),
    'REDIS_WAIT_TIMEOUT_MS',
    'REDIS_WAIT_TIMEOUT_MS + REDIS_COMMAND_TIMEOUT_MS must be shorter than WORKER_VISIBILITY_TIMEOUT_S, or a batch is redelivered while still being applied',
  );
  rule(
    both(v.REDIS_WAIT_TIMEOUT_MS, v.REDIS_COMMAND_TIMEOUT_MS, (w, c) => w < c),
    'REDIS_WAIT_TIMEOUT_MS',
    'must be shorter than REDIS_COMMAND_TIMEOUT_MS, or the client gives up on a WAIT that Redis still runs and a Redis error is reported instead of a replica shortfall',
  );
  rule(
    both(
      v.WORKER_EFFECTS_DEADLINE_MS,
      v.REDIS_COMMAND_TIMEOUT_MS,
      (d, c) => d > c + (v.REDIS_WAIT_TIMEOUT_MS ?? 0),
    ),
    'WORKER_EFFECTS_DEADLINE_MS',
    'must exceed REDIS_COMMAND_TIMEOUT_MS + REDIS_WAIT_TIMEOUT_MS, or a batch is given up while its commands may still succeed',
  );
  rule(
    both(v.REDIS_WAIT_REPLICAS, v.REDIS_ALLOW_NO_WAIT, (n, allow) => n > 0 || allow),
    'REDIS_WAIT_REPLICAS',
    'must be at least 1: promotion deletes are confirmed on a replica before the ack (set REDIS_ALLOW_NO_WAIT=true to accept 0 knowingly, e.g. a Redis without replica)',
  );
  rule(
    both(v.WORKER_DURABILITY_HOLD_MS, v.WORKER_HEARTBEAT_INTERVAL_S, (h, b) => h > b * 1_000),
    'WORKER_DURABILITY_HOLD_MS',
    'must be longer than WORKER_HEARTBEAT_INTERVAL_S, or a held message is acked degraded before its visibility was ever extended',
  );
  rule(
    both(v.WORKER_DRAIN_DEADLINE_MS, v.WORKER_STOP_TIMEOUT_MS, (d, s) => d < s),
    'WORKER_DRAIN_DEADLINE_MS',
    'must be shorter than WORKER_STOP_TIMEOUT_MS, or the orchestrator kills the worker mid-drain',
  );
  rule(
    v.WORKER_REVIEW_REFRESH_QUEUE_URL === undefined || v.WORKER_ORIGIN_URL !== undefined,
    'WORKER_ORIGIN_URL',
    'is required when WORKER_REVIEW_REFRESH_QUEUE_URL is set: the hourly refresh fetches review summaries from it',
  );
  rule(
    both(v.WORKER_RETRY_BACKOFF_BASE_S, v.WORKER_RETRY_BACKOFF_MAX_S, (b, m) => b <= m),
    'WORKER_RETRY_BACKOFF_BASE_S',
    'must not exceed WORKER_RETRY_BACKOFF_MAX_S',
  );
  if (v.REDIS_MODE === 'sentinel' && 'REDIS_SENTINEL_NAME' in v && v.REDIS_SENTINEL_NAME === undefined) {
    problems.push({ variable: 'REDIS_SENTINEL_NAME', message: 'is required when REDIS_MODE=sentinel' });
  }
  rule(
    both(v.REDIS_MODE, v.REDIS_DB, (mode, db) => mode !== 'cluster' || db === 0),
    'REDIS_DB',
    'must be 0 when REDIS_MODE=cluster (cluster mode has one database)',
  );
  rule(
    both(v.REDIS_MODE, v.REDIS_ADDRESSES, (mode, a) => mode !== 'standalone' || a.length === 1),
    'REDIS_ADDRESSES',
    'must hold exactly one host:port when REDIS_MODE=standalone',
  );
  const queues = QUEUE_VARS.map(([, q]) => v[q]).filter((u) => u !== undefined);
  // Only complain about "no queue" when every queue variable parsed (a bad URL is reported already).
  if (queues.length === 0 && QUEUE_VARS.every(([, q]) => q in v)) {
    problems.push({
      variable: 'WORKER_*_QUEUE_URL',
      message:
        'set at least one of WORKER_CATALOG_QUEUE_URL, WORKER_PROMOTIONS_QUEUE_URL, WORKER_SESSIONS_QUEUE_URL, WORKER_REVIEW_REFRESH_QUEUE_URL',
    });
  }
  for (const [, q, dlq] of QUEUE_VARS) {
    rule(v[dlq] === undefined || !(q in v) || v[q] !== undefined, dlq, `is set but ${q} is not`);
    rule(v[dlq] === undefined || v[dlq] !== v[q], dlq, `must differ from ${q}`);
  }
  rule(new Set(queues).size === queues.length, 'WORKER_*_QUEUE_URL', 'each queue URL must be different');
  return problems;
}

function assemble(v: Variables): WorkerConfig {
  const queues: Partial<Record<QueueName, QueueConfig>> = {};
  for (const [name, q, dlq] of QUEUE_VARS) {
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
      db: v.REDIS_DB,
      commandTimeoutMs: v.REDIS_COMMAND_TIMEOUT_MS,
      waitReplicas: v.REDIS_WAIT_REPLICAS,
      waitTimeoutMs: v.REDIS_WAIT_TIMEOUT_MS,
      effectsDeadlineMs: v.WORKER_EFFECTS_DEADLINE_MS,
    },
    keys: { namespace: v.REDIS_KEY_NAMESPACE, locales: [...new Set(v.WORKER_LOCALES)] },
    queues,
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
    admin: { port: v.WORKER_ADMIN_PORT },
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
