/**
 * The worker's configuration as the rest of the worker sees it: validated, assembled by
 * concern (redis, keys, queues, consumer, replay, ...) and deep-frozen (load-config.ts).
 */
import type { DeepReadonly } from '../core/deep-freeze.ts';
import type { QueueUrl } from '../core/identifiers.ts';
import type { QueueName } from './variables.ts';
import type { CanaryTopic } from '../core/events/canary-events.ts';
import type { ShadowCandidate } from '../worker/shadow-contract.ts';

export type { QueueName } from './variables.ts';

/** One queue the worker polls. */
export interface QueueConfig {
  readonly url: QueueUrl;
  readonly dlqUrl?: QueueUrl;
}

/** The validated, frozen configuration. */
export type WorkerConfig = DeepReadonly<{
  redis: {
    mode: 'standalone' | 'sentinel' | 'cluster';
    addresses: { host: string; port: number }[];
    sentinelName?: string;
    username?: string;
    password?: string;
    tls: boolean;
    /** PEM file of a private CA to trust (the local stack's); unset: Node's public CAs. */
    tlsCaFile?: string;
    db: number;
    commandTimeoutMs: number;
    waitReplicas: number;
    waitTimeoutMs: number;
    effectsDeadlineMs: number;
  };
  keys: { namespace: string; locales: string[] };
  /** The edge's body limit, bytes (a larger body is poison). */
  maxEventBodyBytes: number;
  /** Shadow mode's candidate contract (shadow-contract.ts); absent: shadow mode is off. */
  shadow?: ShadowCandidate;
  queues: Partial<Record<QueueName, QueueConfig>>;
  /** The pipeline canary (decision 0022): interval (0 = off) and the topic ARN of each fed queue. */
  canary: { intervalMs: number; topics: Partial<Record<CanaryTopic, string>> };
  /** Worker presence (decision 0024): the announcement interval, ms (0 = off). */
  presence: { intervalMs: number };
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
  /** The admin port and the address it listens on (the token: src/admin/admin-token.ts). */
  admin: { port: number; host: string };
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
  /** Test-only (NODE_ENV=test): events whose invalidation is dropped on purpose (test-drop-hook.ts). */
  testDropEventIds: string[];
  aws: { region: string; endpoint?: string };
}>;
