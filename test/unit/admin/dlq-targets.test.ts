/**
 * Which queues `admin dlq` works on (dlq-targets.ts): the worker's own variables when the
 * environment names a queue, else the local stack's description; and clear errors for a
 * queue that is unknown or has no DLQ.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../../../src/config/load-config.ts';
import { adminEnvironment, dlqTargets } from '../../../src/admin/dlq-targets.ts';

const dir = mkdtempSync(join(tmpdir(), 'dlq-targets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const queue = (name: string) => ({
  url: `http://127.0.0.1:4566/000000000000/${name}`,
  arn: `arn:aws:sqs:us-east-1:000000000000:${name}`,
  dlqUrl: `http://127.0.0.1:4566/000000000000/${name}-dlq`,
  dlqArn: `arn:aws:sqs:us-east-1:000000000000:${name}-dlq`,
});
const hostPort = (port: number) => ({ host: '127.0.0.1', port });
const file = join(dir, 'env.json');
writeFileSync(
  file,
  JSON.stringify({
    region: 'us-east-1',
    localstack: { endpoint: 'http://127.0.0.1:4566' },
    redis: {
      primary: hostPort(6380),
      replica: hostPort(6381),
      sentinels: [hostPort(26380)],
      sentinelName: 'mcache',
      cluster: [hostPort(7100)],
    },
    topics: {
      catalog: 'arn:aws:sns:us-east-1:000000000000:c',
      promotions: 'arn:aws:sns:us-east-1:000000000000:p',
      sessions: 'arn:aws:sns:us-east-1:000000000000:s',
    },
    queues: {
      catalog: queue('local-catalog'),
      promotions: queue('local-promo'),
      sessions: queue('local-session'),
      reviewRefresh: queue('local-review'),
    },
    origin: { url: 'http://127.0.0.1:4599' },
  }),
);

describe('adminEnvironment and dlqTargets', () => {
  it('fills an environment that names no queue from the local stack, the caller winning', () => {
    const env = adminEnvironment({ REDIS_KEY_NAMESPACE: 'ops', PATH: '/bin' }, file);
    expect(env.WORKER_PROMOTIONS_DLQ_URL).toBe(queue('local-promo').dlqUrl);
    expect(env.REDIS_KEY_NAMESPACE).toBe('ops');
    expect(env.AWS_ENDPOINT_URL).toBe('http://127.0.0.1:4566');
  });

  it('uses an environment that names a queue as it is (AWS), and finds only its DLQs', () => {
    const env = {
      AWS_REGION: 'eu-west-1',
      WORKER_CATALOG_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/catalog',
      WORKER_CATALOG_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/1/catalog-dlq',
      WORKER_SESSIONS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/sessions',
    };
    expect(adminEnvironment(env, join(dir, 'missing.json'))).toBe(env);
    const config = loadWorkerConfig(env);
    expect(dlqTargets(config)).toEqual([
      { queue: 'catalog', sourceUrl: env.WORKER_CATALOG_QUEUE_URL, dlqUrl: env.WORKER_CATALOG_DLQ_URL },
    ]);
    expect(() => dlqTargets(config, 'sessions')).toThrow(
      'queue sessions has no DLQ configured: set WORKER_SESSIONS_QUEUE_URL and WORKER_SESSIONS_DLQ_URL',
    );
    expect(() => dlqTargets(config, 'orders')).toThrow(/--queue must be one of catalog, promotions/);
  });
});
