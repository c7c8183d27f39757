/**
 * The environment a worker gets when it runs against the local stack: the same variables
 * the container gets from the CDK stack in AWS, filled from `.local/env.json`.
 */
import { readFileSync } from 'node:fs';

/** The parts of `.local/env.json` a worker needs (written by scripts/lib/provision-messaging.ts). */
export interface LocalStackDescription {
  readonly region: string;
  readonly localstack: { readonly endpoint: string };
  readonly redis: {
    readonly primary: { host: string; port: number };
    readonly sentinels: readonly { host: string; port: number }[];
    readonly sentinelName: string;
    readonly cluster: readonly { host: string; port: number }[];
  };
  readonly queues: Readonly<
    Record<'catalog' | 'promotions' | 'sessions' | 'reviewRefresh', { url: string; dlqUrl: string }>
  >;
  readonly origin: { readonly url: string };
}

export function readLocalStack(file: string): LocalStackDescription {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LocalStackDescription;
  } catch (cause) {
    throw new Error(`cannot read ${file}: start the local stack with "npm run env:up"`, { cause });
  }
}

export type LocalRedisMode = 'sentinel' | 'standalone' | 'cluster';

/** Worker variables for the local stack; `overrides` win. */
export function localWorkerEnv(
  stack: LocalStackDescription,
  options: { redisMode?: LocalRedisMode; adminPort?: number; overrides?: Record<string, string> } = {},
): Record<string, string> {
  const mode = options.redisMode ?? 'sentinel';
  const addresses =
    mode === 'sentinel'
      ? stack.redis.sentinels
      : mode === 'cluster'
        ? stack.redis.cluster
        : [stack.redis.primary];
  const q = stack.queues;
  return {
    AWS_REGION: stack.region,
    AWS_ENDPOINT_URL: stack.localstack.endpoint,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    REDIS_MODE: mode,
    REDIS_ADDRESSES: addresses.map((a) => `${a.host}:${a.port}`).join(','),
    ...(mode === 'sentinel' ? { REDIS_SENTINEL_NAME: stack.redis.sentinelName } : {}),
    WORKER_CATALOG_QUEUE_URL: q.catalog.url,
    WORKER_CATALOG_DLQ_URL: q.catalog.dlqUrl,
    WORKER_PROMOTIONS_QUEUE_URL: q.promotions.url,
    WORKER_PROMOTIONS_DLQ_URL: q.promotions.dlqUrl,
    WORKER_SESSIONS_QUEUE_URL: q.sessions.url,
    WORKER_SESSIONS_DLQ_URL: q.sessions.dlqUrl,
    WORKER_REVIEW_REFRESH_QUEUE_URL: q.reviewRefresh.url,
    WORKER_REVIEW_REFRESH_DLQ_URL: q.reviewRefresh.dlqUrl,
    WORKER_ORIGIN_URL: stack.origin.url,
    WORKER_ADMIN_PORT: String(options.adminPort ?? 0),
    ...options.overrides,
  };
}
