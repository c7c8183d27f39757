/**
 * The worker's environment variables: the one list, each variable with its parser, its
 * default and what it means. The loader reads it (load-config.ts), the variables table of
 * docs/operations.md is generated from it (config-doc.ts; a unit test fails when the doc
 * differs) and the CDK stack's names are checked against it (test/infra/fleet.test.ts).
 * The order is the order of the table and of the problems a bad start reports.
 */
import { z } from 'zod';
import { ASIN, LOCALE, NAMESPACE } from '../core/identifier-rules.ts';
import { MAX_EVENT_BODY_BYTES } from '../core/events/parse-event-message.ts';
import { MAX_CONFIGURED_LOCALES } from '../core/key-builder.ts';
import { shadowContractSchema } from '../worker/shadow-contract.ts';
import type { CanaryTopic } from '../core/events/canary-events.ts';
import { address, bool, httpUrl, int, list, pemFile, queueUrl } from './parsers.ts';
import { TOPIC_ARN_PATTERN } from '../core/events/sns-envelope.ts';

const topicArn = z.string().regex(TOPIC_ARN_PATTERN, { error: 'must be an SNS topic ARN' });

/** SQS's own limits. */
export const SQS_MAX_BATCH_SIZE = 10;
export const SQS_MAX_VISIBILITY_TIMEOUT_S = 43_200;
export const SQS_MAX_WAIT_TIME_S = 20;

/** One variable. */
export interface VariableSpec {
  /** What it means, one line of the table (markdown; no `|`). */
  readonly description: string;
  /**
   * The raw value used when the variable is unset or empty, parsed like any other. Without
   * one the parser decides: unset is fine (optional) or a problem (required).
   */
  readonly default?: string;
  /** Parser of the raw (trimmed) string. */
  readonly schema: z.ZodType;
}

const locale = z.string().regex(LOCALE.pattern, { error: `every locale must be ${LOCALE.description}` });

/** Every variable the worker reads. */
export const VARIABLES = {
  REDIS_MODE: {
    description: '`standalone` (one server or the ElastiCache primary endpoint), `sentinel` or `cluster`',
    default: 'standalone',
    schema: z.enum(['standalone', 'sentinel', 'cluster'], {
      error: 'must be standalone, sentinel or cluster',
    }),
  },
  REDIS_ADDRESSES: {
    description:
      'comma-separated `host:port`: the server (standalone), the Sentinels (sentinel) or seed nodes (cluster)',
    default: '127.0.0.1:6379',
    schema: list(address, 'host:port'),
  },
  REDIS_SENTINEL_NAME: {
    description: 'master group name; required in sentinel mode',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'must be 1-64 of A-Z a-z 0-9 _ . -' })
      .optional(),
  },
  REDIS_USERNAME: { description: 'ACL user', schema: z.string().optional() },
  REDIS_PASSWORD: {
    description: 'password (AUTH; the stack injects the token as a secret); redacted in logs',
    schema: z.string().optional(),
  },
  REDIS_TLS: {
    description:
      'in-transit encryption: `true` or `false`; in sentinel mode the Sentinels too (with `REDIS_USERNAME`/`REDIS_PASSWORD`)',
    default: 'false',
    schema: bool,
  },
  REDIS_TLS_CA_FILE: {
    description:
      "PEM file of the CA that signed Redis's certificate (the local stack's `.local/tls/ca.crt`); unset: Node's public CAs (ElastiCache); needs `REDIS_TLS=true`",
    schema: pemFile.optional(),
  },
  REDIS_DB: {
    description: 'logical database 0-15; must be 0 in cluster mode',
    default: '0',
    schema: int(0, 15),
  },
  REDIS_KEY_NAMESPACE: {
    description: 'first segment of every key',
    default: 'mc',
    schema: z
      .string()
      .regex(NAMESPACE.pattern, { error: `must be ${NAMESPACE.description}` })
      .max(NAMESPACE.maxLength),
  },
  REDIS_COMMAND_TIMEOUT_MS: {
    description: 'client deadline of one Redis command; longer than `REDIS_WAIT_TIMEOUT_MS`',
    default: '2000',
    schema: int(50, 60_000),
  },
  REDIS_WAIT_REPLICAS: {
    description:
      'replicas `WAIT` must reach before a critical (promo) batch is acked, 1-5; 0 only with `REDIS_ALLOW_NO_WAIT=true`',
    default: '1',
    schema: int(0, 5),
  },
  REDIS_ALLOW_NO_WAIT: {
    description: '`true`: accept `REDIS_WAIT_REPLICAS=0` (no durable deletes)',
    default: 'false',
    schema: bool,
  },
  REDIS_WAIT_TIMEOUT_MS: {
    description: '`WAIT` timeout, at least 1 (0 would block forever)',
    default: '500',
    schema: int(1, 60_000),
  },
  WORKER_EFFECTS_DEADLINE_MS: {
    description:
      "deadline of one batch's effects (a guard against a client that queues forever); longer than `REDIS_COMMAND_TIMEOUT_MS` + `REDIS_WAIT_TIMEOUT_MS`",
    default: '10000',
    schema: int(100, 600_000),
  },
  WORKER_LOCALES: {
    description: 'comma-separated value-shaping locales',
    default: 'en-US,ja-JP',
    schema: list(locale, 'locale').pipe(
      z.array(z.string()).max(MAX_CONFIGURED_LOCALES, { error: `at most ${MAX_CONFIGURED_LOCALES} locales` }),
    ),
  },
  WORKER_MAX_EVENT_BODY_BYTES: {
    description:
      'largest message body accepted, UTF-8 bytes, 1024-262144; a larger one is poison (`EVENT_OVERSIZED`, dead-lettered whole)',
    default: String(MAX_EVENT_BODY_BYTES),
    schema: int(1_024, 262_144),
  },
  WORKER_SHADOW_CONTRACT: {
    description:
      'shadow mode: a candidate key contract as JSON (`name`, `locales`, `liveSchemaVersions` per family, `maxEventBodyBytes`), planned beside the live one for every batch and never applied; see operations.md, "Shadow mode"',
    schema: shadowContractSchema.optional(),
  },
  WORKER_CATALOG_QUEUE_URL: {
    description: 'catalog queue polled; at least one `WORKER_<QUEUE>_QUEUE_URL` is required',
    schema: queueUrl.optional(),
  },
  WORKER_PROMOTIONS_QUEUE_URL: { description: 'promotions queue polled', schema: queueUrl.optional() },
  WORKER_SESSIONS_QUEUE_URL: { description: 'sessions queue polled', schema: queueUrl.optional() },
  WORKER_REVIEW_REFRESH_QUEUE_URL: {
    description: 'review-refresh queue polled (the hourly `refresh.tick`); needs `WORKER_ORIGIN_URL`',
    schema: queueUrl.optional(),
  },
  WORKER_CATALOG_DLQ_URL: {
    description:
      "where the catalog queue's poison is copied with its reason; unset: the queue's redrive policy",
    schema: queueUrl.optional(),
  },
  WORKER_PROMOTIONS_DLQ_URL: { description: "the promotions queue's DLQ", schema: queueUrl.optional() },
  WORKER_SESSIONS_DLQ_URL: { description: "the sessions queue's DLQ", schema: queueUrl.optional() },
  WORKER_REVIEW_REFRESH_DLQ_URL: {
    description: "the review-refresh queue's DLQ",
    schema: queueUrl.optional(),
  },
  WORKER_CATALOG_TOPIC_ARN: {
    description:
      'SNS topic feeding the catalog queue: the worker publishes its pipeline canary there (decision 0022); needs `WORKER_CATALOG_QUEUE_URL`',
    schema: topicArn.optional(),
  },
  WORKER_PROMOTIONS_TOPIC_ARN: {
    description: 'SNS topic feeding the promotions queue (canaries); needs `WORKER_PROMOTIONS_QUEUE_URL`',
    schema: topicArn.optional(),
  },
  WORKER_SESSIONS_TOPIC_ARN: {
    description: 'SNS topic feeding the sessions queue (canaries); needs `WORKER_SESSIONS_QUEUE_URL`',
    schema: topicArn.optional(),
  },
  WORKER_CANARY_INTERVAL_MS: {
    description:
      'how often the worker publishes a `pipeline.canary` to each topic it consumes (`WORKER_<QUEUE>_TOPIC_ARN`), 50-10000 ms; `0`: off (readers running the pipeline guard then stop trusting their caches; decision 0022)',
    default: '250',
    schema: int(0, 10_000).refine((n) => n === 0 || n >= 50, { error: 'must be 0 (off) or 50-10000' }),
  },
  WORKER_PRESENCE_INTERVAL_MS: {
    description:
      'how often the worker announces its presence on the watermark channel (and "leaving" after its drain), 50-10000 ms; readers presume a worker silent 3 intervals dead holding messages (decision 0024); `0`: off',
    default: '250',
    schema: int(0, 10_000).refine((n) => n === 0 || n >= 50, { error: 'must be 0 (off) or 50-10000' }),
  },
  WORKER_BATCH_SIZE: {
    description: 'messages per receive, 1-10',
    default: String(SQS_MAX_BATCH_SIZE),
    schema: int(1, SQS_MAX_BATCH_SIZE),
  },
  WORKER_POLLERS_PER_QUEUE: {
    // 8: a backlog in LocalStack drained at 0.5-0.6x a plain receive+delete consumer with 2,
    // at 1.2-2.3x with 8 (docs/benchmarks.md, "Pollers per queue"); idle long polls are cheap.
    description: 'concurrent pollers (batches in flight) per queue, 1-32',
    default: '8',
    schema: int(1, 32),
  },
  WORKER_VISIBILITY_TIMEOUT_S: {
    description:
      "SQS visibility timeout on receive, 1-43200; bounds how late a crashed worker's in-flight events are (decision 0021)",
    default: '3',
    schema: int(1, SQS_MAX_VISIBILITY_TIMEOUT_S),
  },
  WORKER_HEARTBEAT_INTERVAL_S: {
    description: 'visibility extension interval while a batch runs; shorter than the visibility timeout',
    default: '1',
    schema: int(1, SQS_MAX_VISIBILITY_TIMEOUT_S),
  },
  WORKER_WAIT_TIME_S: {
    description: 'SQS long-poll wait, 0-20',
    default: String(SQS_MAX_WAIT_TIME_S),
    schema: int(0, SQS_MAX_WAIT_TIME_S),
  },
  WORKER_RETRY_BACKOFF_BASE_S: {
    description: 'first visibility back-off after a transient failure (e.g. poison whose DLQ copy failed)',
    default: '2',
    schema: int(1, SQS_MAX_VISIBILITY_TIMEOUT_S),
  },
  WORKER_RETRY_BACKOFF_MAX_S: {
    description: 'cap of the growing back-off, at most 43200',
    default: '300',
    schema: int(1, SQS_MAX_VISIBILITY_TIMEOUT_S),
  },
  WORKER_REPLAY_WINDOW_MS: {
    description:
      'replication lag a failover replay covers, before the last moment writes were known to be on a replica',
    default: '10000',
    schema: int(0, 300_000),
  },
  WORKER_REPLAY_MAX_BYTES: {
    description: 'memory cap of the replay ring (64 MiB)',
    default: String(64 * 1_048_576),
    schema: int(1_048_576, 4_294_967_296),
  },
  WORKER_DURABILITY_HOLD_MS: {
    description:
      "longest an applied critical message's ack waits for a replica's confirmation before a degraded ack",
    default: '120000',
    schema: int(1_000, 43_200_000),
  },
  WORKER_DRAIN_DEADLINE_MS: {
    description: 'how long SIGTERM waits for in-flight batches; shorter than `WORKER_STOP_TIMEOUT_MS`',
    default: '20000',
    schema: int(0, 600_000),
  },
  WORKER_STOP_TIMEOUT_MS: {
    description: "the orchestrator's stop timeout; the drain must end before it",
    default: '30000',
    schema: int(1, 600_000),
  },
  WORKER_ADMIN_PORT: {
    description: '`/healthz`, `/readyz`, `/metrics`, `/lag.json`; 0 = ephemeral',
    default: '9464',
    schema: int(0, 65_535),
  },
  WORKER_ADMIN_HOST: {
    description:
      'address the admin port listens on; `127.0.0.1` keeps it local (the ECS task sets `0.0.0.0`: its security group admits no one by default)',
    default: '127.0.0.1',
    schema: z.string().regex(/^(?:[0-9.]{7,15}|[0-9A-Fa-f:]{2,39}|localhost)$/, {
      error: 'must be an IPv4 or IPv6 address (127.0.0.1, 0.0.0.0, ::) or localhost',
    }),
  },
  ADMIN_TOKEN: {
    description:
      'bearer token of every admin route but `/healthz` and `/readyz` (the stack injects it from Secrets Manager); unset: the file `.local/admin-token` (`npm run env:up`); redacted in logs',
    schema: z.string().optional(),
  },
  WORKER_EMF_ENABLED: {
    description: 'write CloudWatch embedded metrics to stdout (the stack sets `true`)',
    default: 'false',
    schema: bool,
  },
  WORKER_ORIGIN_URL: {
    description: 'Reviews origin base URL; required with `WORKER_REVIEW_REFRESH_QUEUE_URL`',
    schema: httpUrl.optional(),
  },
  WORKER_REFRESH_TOP_N: {
    description: 'hot review keys refreshed per hourly run, 1-100000',
    default: '1000',
    schema: int(1, 100_000),
  },
  WORKER_REFRESH_ASINS: {
    description: 'comma-separated ASINs always refreshed',
    schema: list(
      z.string().regex(ASIN.pattern, { error: `every ASIN must be ${ASIN.description}` }),
      'ASIN',
    ).optional(),
  },
  WORKER_REFRESH_RATE_PER_S: {
    description: "the Reviews origin's budget: calls per second at most",
    default: '50',
    schema: int(1, 100_000),
  },
  WORKER_REFRESH_CONCURRENCY: {
    description: "the Reviews origin's budget: calls in flight at most",
    default: '16',
    schema: int(1, 1_024),
  },
  WORKER_METRICS_SERVICE: {
    description: 'the `Service` dimension of the embedded metrics',
    default: 'invalidation-fleet',
    schema: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." or "-", at most 64'),
  },
  WORKER_LOG_LEVEL: {
    description: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`',
    default: 'info',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be fatal, error, warn, info, debug, trace or silent',
    }),
  },
  WORKER_TEST_DROP_EVENT_IDS: {
    description:
      "TEST ONLY, refused unless `NODE_ENV=test`: comma-separated event ids whose invalidation is dropped on purpose (acked, nothing applied), for the consistency auditor's tests",
    schema: list(z.string().min(1), 'event id').optional(),
  },
  AWS_REGION: {
    description: 'AWS region, e.g. `us-east-1`',
    schema: z.string({ error: 'is required (e.g. us-east-1)' }).regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, {
      error: 'must be an AWS region such as us-east-1',
    }),
  },
  AWS_ENDPOINT_URL: {
    description: 'endpoint override (LocalStack: `http://localhost:4566`)',
    schema: httpUrl.optional(),
  },
} as const satisfies Record<string, VariableSpec>;

/** A variable's name. */
export type VariableName = keyof typeof VARIABLES;

/** The parsed value of each variable. */
export type Variables = { [K in VariableName]: z.output<(typeof VARIABLES)[K]['schema']> };

/** Names of every variable the worker reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(VARIABLES));

/** The queues, by source. */
export type QueueName = 'catalog' | 'promotions' | 'sessions' | 'reviewRefresh';

/** Each queue with its URL variable and its DLQ URL variable. */
/** The queues fed by an SNS topic, with the variable of that topic's ARN (canaries, decision 0022). */
export const TOPIC_VARIABLES = [
  ['catalog', 'WORKER_CATALOG_TOPIC_ARN', 'WORKER_CATALOG_QUEUE_URL'],
  ['promotions', 'WORKER_PROMOTIONS_TOPIC_ARN', 'WORKER_PROMOTIONS_QUEUE_URL'],
  ['sessions', 'WORKER_SESSIONS_TOPIC_ARN', 'WORKER_SESSIONS_QUEUE_URL'],
] as const satisfies readonly (readonly [QueueName & CanaryTopic, VariableName, VariableName])[];

export const QUEUE_VARIABLES = [
  ['catalog', 'WORKER_CATALOG_QUEUE_URL', 'WORKER_CATALOG_DLQ_URL'],
  ['promotions', 'WORKER_PROMOTIONS_QUEUE_URL', 'WORKER_PROMOTIONS_DLQ_URL'],
  ['sessions', 'WORKER_SESSIONS_QUEUE_URL', 'WORKER_SESSIONS_DLQ_URL'],
  ['reviewRefresh', 'WORKER_REVIEW_REFRESH_QUEUE_URL', 'WORKER_REVIEW_REFRESH_DLQ_URL'],
] as const satisfies readonly (readonly [QueueName, VariableName, VariableName])[];
