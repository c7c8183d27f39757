/**
 * The environment a worker gets when it runs against the local stack: the same variables
 * the container gets from the CDK stack in AWS, filled from `.local/env.json`. Redis is
 * reached as in AWS, with REDIS_TLS and REDIS_PASSWORD (the AUTH token the stack injects
 * from Secrets Manager), plus REDIS_TLS_CA_FILE for the local stack's own CA.
 */
import type { LocalStackDescription } from './env-file.ts';
import { redisAccessTuning, type RedisAccessTuning } from './local-redis.ts';

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
  const access = redisAccessTuning(stack.redis);
  return {
    AWS_REGION: stack.region,
    AWS_ENDPOINT_URL: stack.localstack.endpoint,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    REDIS_MODE: mode,
    REDIS_ADDRESSES: addresses.map((a) => `${a.host}:${a.port}`).join(','),
    ...(mode === 'sentinel' ? { REDIS_SENTINEL_NAME: stack.redis.sentinelName } : {}),
    ...redisAccessEnv(access),
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
    // Local only; the token comes from .local/admin-token (src/admin/admin-token.ts).
    WORKER_ADMIN_HOST: '127.0.0.1',
    ...options.overrides,
  };
}

/** The worker variables that carry `access`: REDIS_TLS, REDIS_TLS_CA_FILE, REDIS_PASSWORD. */
export function redisAccessEnv(access: RedisAccessTuning): Record<string, string> {
  return {
    REDIS_TLS: String(access.tls === true),
    ...(access.tlsCaFile === undefined ? {} : { REDIS_TLS_CA_FILE: access.tlsCaFile }),
    ...(access.password === undefined ? {} : { REDIS_PASSWORD: access.password }),
  };
}
