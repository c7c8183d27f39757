import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import { loadWorkerConfig, redactConfig } from '../../../src/config/load-config.ts';
import type { EnvRecord } from '../../../src/config/load-config.ts';

const QUEUE = 'http://localhost:4566/000000000000/catalog-events';
const minimal: EnvRecord = { AWS_REGION: 'us-east-1', WORKER_CATALOG_QUEUE_URL: QUEUE };

/** The problems a ConfigError reports, as `VARIABLE: message` lines. */
function problemsOf(env: EnvRecord): string[] {
  try {
    loadWorkerConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.variable}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('loadWorkerConfig: defaults', () => {
  it('fills every default from a minimal environment', () => {
    // Act
    const config = loadWorkerConfig(minimal);

    // Assess
    expect(config).toEqual({
      redis: {
        mode: 'standalone',
        addresses: [{ host: '127.0.0.1', port: 6379 }],
        tls: false,
        db: 0,
        commandTimeoutMs: 2000,
        waitReplicas: 1,
        waitTimeoutMs: 500,
        effectsDeadlineMs: 10_000,
      },
      keys: { namespace: 'mc', locales: ['en-US', 'ja-JP'] },
      maxEventBodyBytes: 65_536,
      queues: { catalog: { url: QUEUE } },
      canary: { intervalMs: 250, topics: {} },
      presence: { intervalMs: 250 },
      consumer: {
        batchSize: 10,
        pollersPerQueue: 8,
        visibilityTimeoutS: 3,
        heartbeatIntervalS: 1,
        waitTimeS: 20,
        retryBackoff: { baseS: 2, maxS: 300 },
      },
      replay: { windowMs: 10_000, maxBytes: 64 * 1024 * 1024, durabilityHoldMs: 120_000 },
      lifecycle: { drainDeadlineMs: 20_000, stopTimeoutMs: 30_000 },
      // The port every other tool assumes (lag, dashboard, the stack's health check).
      admin: { port: 9464, host: '127.0.0.1' },
      logLevel: 'info',
      metricsService: 'invalidation-fleet',
      emfEnabled: false,
      refresh: { topN: 1_000, asins: [], ratePerSecond: 50, concurrency: 16 },
      aws: { region: 'us-east-1' },
      // The test-only drop hook is off unless NODE_ENV=test names events (auditor tests).
      testDropEventIds: [],
    });
  });

  it('reads a full sentinel setup with LocalStack endpoint', () => {
    // Prepare
    const env: EnvRecord = {
      ...minimal,
      REDIS_MODE: 'sentinel',
      REDIS_ADDRESSES: ' 10.0.0.1:26379, sentinel-2:26379 ,[::1]:26380',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_PASSWORD: 's3cret',
      REDIS_TLS: 'true',
      WORKER_LOCALES: 'en-US,ja-JP,en-US,fr-FR',
      WORKER_PROMOTIONS_QUEUE_URL: 'http://localhost:4566/000000000000/promo-events',
      WORKER_PROMOTIONS_DLQ_URL: 'http://localhost:4566/000000000000/promo-events-dlq',
      WORKER_BATCH_SIZE: '5',
      WORKER_ADMIN_PORT: '0',
      WORKER_LOG_LEVEL: 'debug',
      AWS_ENDPOINT_URL: 'http://localhost:4566',
      UNRELATED: 'ignored',
    };

    // Act
    const config = loadWorkerConfig(env);

    // Assess
    expect(config.redis).toMatchObject({
      mode: 'sentinel',
      sentinelName: 'mymaster',
      tls: true,
      addresses: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
    });
    expect(config.keys.locales).toEqual(['en-US', 'ja-JP', 'fr-FR']);
    expect(config.queues.promotions).toEqual({
      url: 'http://localhost:4566/000000000000/promo-events',
      dlqUrl: 'http://localhost:4566/000000000000/promo-events-dlq',
    });
    expect(config.consumer.batchSize).toBe(5);
    expect(config.admin.port).toBe(0);
    expect(config.aws).toEqual({ region: 'us-east-1', endpoint: 'http://localhost:4566' });
  });

  it('treats an empty variable as unset', () => {
    // Act / Assess
    expect(loadWorkerConfig({ ...minimal, WORKER_BATCH_SIZE: '', REDIS_MODE: '  ' }).consumer.batchSize).toBe(
      10,
    );
  });
});

describe('loadWorkerConfig: every problem at once', () => {
  it('reports all field and cross-field problems in one ConfigError', () => {
    // Prepare
    const env: EnvRecord = {
      REDIS_MODE: 'cluster',
      REDIS_DB: '3',
      REDIS_ADDRESSES: 'redis-1:6379,nope',
      REDIS_KEY_NAMESPACE: 'mc:{x}',
      WORKER_LOCALES: 'en-US,en_GB',
      WORKER_BATCH_SIZE: '11',
      WORKER_POLLERS_PER_QUEUE: 'two',
      WORKER_VISIBILITY_TIMEOUT_S: '5',
      WORKER_HEARTBEAT_INTERVAL_S: '5',
      REDIS_WAIT_TIMEOUT_MS: '4000',
      REDIS_COMMAND_TIMEOUT_MS: '2000',
      WORKER_DRAIN_DEADLINE_MS: '30000',
      WORKER_STOP_TIMEOUT_MS: '30000',
      WORKER_LOG_LEVEL: 'loud',
      AWS_ENDPOINT_URL: 'ftp://localstack',
    };

    // Act
    const problems = problemsOf(env);

    // Assess
    const variables = problems.map((p) => p.split(':')[0]);
    expect(variables).toEqual(
      expect.arrayContaining([
        'REDIS_ADDRESSES',
        'REDIS_KEY_NAMESPACE',
        'WORKER_LOCALES',
        'WORKER_BATCH_SIZE',
        'WORKER_POLLERS_PER_QUEUE',
        'WORKER_LOG_LEVEL',
        'AWS_REGION',
        'AWS_ENDPOINT_URL',
        'REDIS_DB',
        'WORKER_HEARTBEAT_INTERVAL_S',
        'REDIS_WAIT_TIMEOUT_MS',
        'WORKER_DRAIN_DEADLINE_MS',
        'WORKER_*_QUEUE_URL',
      ]),
    );
    // REDIS_WAIT_TIMEOUT_MS breaks two rules (visibility and command timeout): 14 problems.
    expect(problems).toHaveLength(14);
    expect(problems).toContain('AWS_REGION: is required (e.g. us-east-1)');
    expect(problems).toContain('WORKER_BATCH_SIZE: must be at most 10');
  });

  it.each([
    [{ REDIS_MODE: 'sentinel' }, 'REDIS_SENTINEL_NAME: is required when REDIS_MODE=sentinel'],
    [
      { REDIS_ADDRESSES: 'a:1,b:2' },
      'REDIS_ADDRESSES: must hold exactly one host:port when REDIS_MODE=standalone',
    ],
    [{ REDIS_ADDRESSES: 'redis:99999' }, 'REDIS_ADDRESSES: every address must be host:port (port 1-65535)'],
    [{ REDIS_WAIT_TIMEOUT_MS: '0' }, 'REDIS_WAIT_TIMEOUT_MS: must be at least 1'],
    [
      { WORKER_RETRY_BACKOFF_BASE_S: '600' },
      'WORKER_RETRY_BACKOFF_BASE_S: must not exceed WORKER_RETRY_BACKOFF_MAX_S',
    ],
    [
      { WORKER_CATALOG_QUEUE_URL: undefined },
      expect.stringMatching(/^WORKER_\*_QUEUE_URL: set at least one/),
    ],
    [
      { WORKER_SESSIONS_DLQ_URL: QUEUE },
      'WORKER_SESSIONS_DLQ_URL: is set but WORKER_SESSIONS_QUEUE_URL is not',
    ],
    [{ WORKER_CATALOG_DLQ_URL: QUEUE }, 'WORKER_CATALOG_DLQ_URL: must differ from WORKER_CATALOG_QUEUE_URL'],
    [{ WORKER_SESSIONS_QUEUE_URL: QUEUE }, 'WORKER_*_QUEUE_URL: each queue URL must be different'],
    [{ WORKER_CATALOG_QUEUE_URL: 'not a url' }, 'WORKER_CATALOG_QUEUE_URL: must be an http(s) URL'],
    [{ REDIS_TLS: 'yes' }, 'REDIS_TLS: must be true or false'],
    [{ WORKER_BATCH_SIZE: '1.5' }, 'WORKER_BATCH_SIZE: must be a whole number'],
    [{ AWS_REGION: 'mars' }, 'AWS_REGION: must be an AWS region such as us-east-1'],
    [
      // (a visibility long enough that the sum rule holds: only this rule may fire)
      { REDIS_WAIT_TIMEOUT_MS: '2000', WORKER_VISIBILITY_TIMEOUT_S: '10' },
      expect.stringMatching(/^REDIS_WAIT_TIMEOUT_MS: must be shorter than REDIS_COMMAND_TIMEOUT_MS/),
    ],
    [
      { WORKER_EFFECTS_DEADLINE_MS: '2400' },
      expect.stringMatching(
        /^WORKER_EFFECTS_DEADLINE_MS: must exceed REDIS_COMMAND_TIMEOUT_MS \+ REDIS_WAIT_TIMEOUT_MS/,
      ),
    ],
    [
      { REDIS_WAIT_REPLICAS: '0' },
      expect.stringMatching(/^REDIS_WAIT_REPLICAS: must be at least 1: .*REDIS_ALLOW_NO_WAIT=true/),
    ],
    [
      {
        WORKER_DURABILITY_HOLD_MS: '5000',
        WORKER_HEARTBEAT_INTERVAL_S: '5',
        WORKER_VISIBILITY_TIMEOUT_S: '10',
      },
      expect.stringMatching(/^WORKER_DURABILITY_HOLD_MS: must be longer than WORKER_HEARTBEAT_INTERVAL_S/),
    ],
  ] as const)('%j -> %s', (overrides, expected) => {
    // Act
    const problems = problemsOf({ ...minimal, ...overrides });

    // Assess
    expect(problems).toEqual([expected]);
  });

  it('accepts REDIS_WAIT_REPLICAS=0 only with the explicit override', () => {
    // Act
    const config = loadWorkerConfig({ ...minimal, REDIS_WAIT_REPLICAS: '0', REDIS_ALLOW_NO_WAIT: 'true' });

    // Assess
    expect(config.redis.waitReplicas).toBe(0);
  });

  it('names every problem in the error message', () => {
    // Act
    const error = (() => {
      try {
        loadWorkerConfig({});
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/2 problems/);
    expect(error.message).toMatch(/AWS_REGION/);
    expect(error.message).toMatch(/WORKER_\*_QUEUE_URL/);
  });
});

describe('loadWorkerConfig: frozen result', () => {
  it('deep-freezes the configuration', () => {
    // Act
    const config = loadWorkerConfig(minimal);

    // Assess
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.redis.addresses[0])).toBe(true);
    expect(Object.isFrozen(config.keys.locales)).toBe(true);
    expect(() => {
      (config.consumer as { batchSize: number }).batchSize = 1;
    }).toThrow(TypeError);
  });

  it('redacts the password for logging and leaves the original intact', () => {
    // Prepare
    const config = loadWorkerConfig({ ...minimal, REDIS_PASSWORD: 's3cret' });

    // Act
    const safe = redactConfig(config);

    // Assess
    expect(JSON.stringify(safe)).not.toContain('s3cret');
    expect(config.redis.password).toBe('s3cret');
    expect(Object.isFrozen(safe.redis)).toBe(true);
  });
});

describe('loadWorkerConfig: the review refresh', () => {
  const base = { AWS_REGION: 'us-east-1', WORKER_REVIEW_REFRESH_QUEUE_URL: 'http://127.0.0.1:4566/queue/r' };

  it('requires the origin URL when the refresh queue is polled, and validates the ASIN list', () => {
    // Act
    const error = (() => {
      try {
        loadWorkerConfig({ ...base, WORKER_REFRESH_ASINS: 'B08X1YRSTR,not-an-asin' });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();

    // Assess: both problems, at once.
    expect(error.problems.map((p) => p.variable).sort()).toEqual([
      'WORKER_ORIGIN_URL',
      'WORKER_REFRESH_ASINS',
    ]);
  });

  it('reads the budget and the configured hot list', () => {
    const config = loadWorkerConfig({
      ...base,
      WORKER_ORIGIN_URL: 'http://127.0.0.1:4599',
      WORKER_REFRESH_ASINS: 'B08X1YRSTR, B0CCCCCCCC',
      WORKER_REFRESH_RATE_PER_S: '20',
    });
    expect(config.refresh).toEqual({
      originUrl: 'http://127.0.0.1:4599',
      topN: 1_000,
      asins: ['B08X1YRSTR', 'B0CCCCCCCC'],
      ratePerSecond: 20,
      concurrency: 16,
    });
  });
});
