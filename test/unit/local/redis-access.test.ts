/**
 * Redis with TLS and AUTH is one code path locally and in AWS: the stack injects REDIS_TLS
 * and REDIS_PASSWORD (the AUTH token from Secrets Manager); the local twin gives the same
 * variables plus REDIS_TLS_CA_FILE (its own CA). Here: the variables parse, bad ones stop
 * start-up with what to fix, and they end up as the ioredis options every client uses.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  accessOptions,
  redisOptions,
  sentinelAccessOptions,
} from '../../../src/adapters/redis/redis-connection.ts';
import { loadWorkerConfig } from '../../../src/config/load-config.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import type { LocalStackDescription } from '../../../src/local/env-file.ts';
import { redisAccessTuning } from '../../../src/local/local-redis.ts';
import { localWorkerEnv } from '../../../src/local/local-worker-env.ts';
import { redisConfigFrom } from '../../../src/worker/redis-settings.ts';

const dir = mkdtempSync(join(tmpdir(), 'redis-access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const caFile = join(dir, 'ca.crt');
writeFileSync(caFile, PEM);
const passwordFile = join(dir, 'redis-password');
writeFileSync(passwordFile, 'local-secret\n', { mode: 0o600 });

const QUEUE = 'http://localhost:4566/000000000000/catalog-events';
const base = { AWS_REGION: 'us-east-1', WORKER_CATALOG_QUEUE_URL: QUEUE };

function problems(env: Record<string, string>): string[] {
  try {
    loadWorkerConfig({ ...base, ...env });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.variable}: ${p.message}`);
    throw error;
  }
}

describe('REDIS_TLS, REDIS_TLS_CA_FILE, REDIS_PASSWORD', () => {
  it('as the CDK stack sets them (TLS, a token, no CA file): TLS with the public CAs and the token', () => {
    // Act
    const config = loadWorkerConfig({
      ...base,
      REDIS_TLS: 'true',
      REDIS_PASSWORD: 'token-from-secrets-manager',
    });
    const options = redisOptions(redisConfigFrom(config.redis, 'w').tuning);

    // Assess
    expect(config.redis.tlsCaFile).toBeUndefined();
    expect(options.tls).toEqual({});
    expect(options.password).toBe('token-from-secrets-manager');
  });

  it('as the local twin sets them: TLS trusting the CA file, and the password', () => {
    // Act
    const config = loadWorkerConfig({
      ...base,
      REDIS_TLS: 'true',
      REDIS_TLS_CA_FILE: caFile,
      REDIS_PASSWORD: 'pw',
    });
    const options = redisOptions(redisConfigFrom(config.redis, 'w').tuning);

    // Assess
    expect(config.redis.tlsCaFile).toBe(caFile);
    expect(String((options.tls as { ca: Buffer }).ca)).toBe(PEM);
    expect(options.password).toBe('pw');
  });

  it('a CA file that is missing, not a certificate, or without REDIS_TLS stops start-up saying so', () => {
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    expect(problems({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: join(dir, 'missing.crt') })).toEqual([
      `REDIS_TLS_CA_FILE: cannot read ${join(dir, 'missing.crt')} (ENOENT)`,
    ]);
    expect(problems({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: notPem })).toEqual([
      `REDIS_TLS_CA_FILE: ${notPem} holds no PEM certificate`,
    ]);
    expect(problems({ REDIS_TLS_CA_FILE: caFile })).toEqual([
      'REDIS_TLS_CA_FILE: is set but REDIS_TLS is not true: set REDIS_TLS=true (the CA is only used for TLS), or unset the CA file',
    ]);
  });

  it('Sentinel mode sends the same TLS and password to the Sentinels, and TLS to the primary they name', () => {
    // Act
    const sentinel = sentinelAccessOptions({ tls: true, tlsCaFile: caFile, password: 'pw' });

    // Assess
    expect(sentinel).toMatchObject({
      password: 'pw',
      sentinelPassword: 'pw',
      enableTLSForSentinelMode: true,
    });
    expect(String((sentinel.sentinelTLS as { ca: Buffer }).ca)).toBe(PEM);
    expect(sentinelAccessOptions({})).toEqual({});
    expect(() => accessOptions({ tlsCaFile: caFile })).toThrow(/TLS is not/);
  });
});

describe('the local stack description to the worker environment', () => {
  const stack = {
    region: 'us-east-1',
    localstack: { endpoint: 'http://127.0.0.1:4566' },
    redis: {
      primary: { host: '127.0.0.1', port: 6380 },
      replica: { host: '127.0.0.1', port: 6381 },
      sentinels: [{ host: '127.0.0.1', port: 26380 }],
      sentinelName: 'mcache',
      cluster: [{ host: '127.0.0.1', port: 7100 }],
      tls: { caFile },
      passwordFile,
    },
    queues: Object.fromEntries(
      ['catalog', 'promotions', 'sessions', 'reviewRefresh'].map((q) => [
        q,
        { url: `${QUEUE}-${q}`, arn: 'arn:x', dlqUrl: `${QUEUE}-${q}-dlq`, dlqArn: 'arn:y' },
      ]),
    ),
    origin: { url: 'http://127.0.0.1:4599' },
  } as unknown as LocalStackDescription;

  it('gives the worker REDIS_TLS, the CA file and the password read from its file, which it loads', () => {
    // Act
    const env = localWorkerEnv(stack);
    const config = loadWorkerConfig(env);

    // Assess
    expect(env).toMatchObject({
      REDIS_TLS: 'true',
      REDIS_TLS_CA_FILE: caFile,
      REDIS_PASSWORD: 'local-secret',
    });
    expect(config.redis).toMatchObject({ tls: true, tlsCaFile: caFile, password: 'local-secret' });
  });

  it('a missing password file names the file and the fix', () => {
    expect(() => redisAccessTuning({ passwordFile: join(dir, 'nope') })).toThrow(
      `cannot read the local Redis password at ${join(dir, 'nope')}: run "npm run env:up"`,
    );
  });
});
