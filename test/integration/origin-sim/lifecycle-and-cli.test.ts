import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveCliOptions } from '../../../src/origin-sim/cli-options.ts';
import type { EventPublisher } from '../../../src/origin-sim/event-publisher.ts';
import { createOriginSimulator } from '../../../src/origin-sim/origin-simulator.ts';
import { startSim } from './sim-harness.ts';

const MAIN = fileURLToPath(new URL('../../../src/origin-sim/main.ts', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'osim-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('simulator lifecycle', () => {
  it('close() is idempotent and closes the publisher it was not given only once', async () => {
    // Prepare
    let closes = 0;
    const publisher: EventPublisher = {
      publish: () => Promise.reject(new Error('unused')),
      close: () => void closes++,
    };
    const h = await startSim({ publisher, config: { latencyScale: 0 } });
    // Act
    const [a, b] = [h.sim.close(), h.sim.close()];
    await Promise.all([a, b]);
    await h.sim.close();
    // Assess: same promise; an injected publisher belongs to the caller
    expect(a).toBe(b);
    expect(closes).toBe(0);
    await expect(fetch(`${h.url}/healthz`)).rejects.toThrow();
  });

  it('answers 502 with the event when SNS refuses, after the entity changed', async () => {
    // Prepare
    const publisher: EventPublisher = {
      publish: () => Promise.reject(new Error('SNS is down')),
      close: () => undefined,
    };
    const h = await startSim({ publisher, topics: { catalog: 'arn:aws:sns:us-east-1:000000000000:x' } });
    try {
      // Act
      const res = await h.post('/_sim/change', { family: 'review', id: 'B0PUBFAIL1' });
      // Assess
      expect(res.status).toBe(502);
      expect(res.body).toMatchObject({
        error: 'publish_failed',
        message: 'SNS is down',
        event: { type: 'review.summary-changed', version: 2 },
      });
    } finally {
      await h.sim.close();
    }
  });

  it('refuses an invalid initial config, listing every problem', () => {
    expect(() => createOriginSimulator({ config: { latencyScale: -1, failRate: { reviews: 3 } } })).toThrow(
      /failRate\.reviews.*latencyScale/,
    );
  });
});

describe('CLI options', () => {
  const stackFile = {
    topics: { catalog: 'arn:aws:sns:us-east-1:1:file-catalog' },
    endpoint: 'http://h:1',
    region: 'eu-west-1',
  };

  it('takes flag > environment > env file > default', () => {
    const out = resolveCliOptions(
      { catalogTopicArn: 'arn:aws:sns:us-east-1:1:flag-catalog', latencyReviews: '20', latencyScale: '0.5' },
      stackFile,
      { AWS_REGION: 'ap-south-1' },
    );
    expect(out).toMatchObject({
      ok: true,
      settings: {
        port: 4599,
        host: '127.0.0.1',
        simulator: {
          topics: { catalog: 'arn:aws:sns:us-east-1:1:flag-catalog' },
          sns: { endpoint: 'http://h:1', region: 'ap-south-1', credentials: { accessKeyId: 'test' } },
          config: { latencyMs: { reviews: 20 }, latencyScale: 0.5 },
        },
      },
    });
  });

  it('reports every bad option at once', () => {
    const out = resolveCliOptions(
      { port: 'x', latencyProducts: '-3', sessionsTopicArn: 'sessions', logLevel: 'loud' },
      undefined,
      {},
    );
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.errors).toHaveLength(4);
  });
});

describe('main.ts', () => {
  it('starts from an env file, logs JSON, serves, and exits 0 on SIGTERM', async () => {
    // Prepare: the env file points at LocalStack with a topic that does not exist there
    const envFile = join(tmp, 'env.json');
    writeFileSync(
      envFile,
      JSON.stringify({
        region: 'us-east-1',
        localstack: { endpoint: 'http://127.0.0.1:4566' },
        topics: { catalog: 'arn:aws:sns:us-east-1:000000000000:osim-missing-topic' },
      }),
    );
    const child = spawn(
      process.execPath,
      [MAIN, '--port', '0', '--env-file', envFile, '--latency-scale', '0', '--latency-reviews', '30'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = once(child, 'exit');
    try {
      // Act: wait for the "listening" log line
      const lines = createInterface({ input: child.stdout });
      let url = '';
      for await (const line of lines) {
        const log = JSON.parse(line) as { msg?: string; url?: string };
        if (log.msg === 'origin simulator listening' && log.url) {
          url = log.url;
          break;
        }
      }
      const health = await fetch(`${url}/healthz`);
      const config = (await (await fetch(`${url}/_sim/config`)).json()) as { latencyMs: { reviews: number } };
      const change = await fetch(`${url}/_sim/change`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ family: 'product', id: 'B0CLITEST1' }),
      });
      const noTopic = await fetch(`${url}/_sim/change`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ family: 'session', id: 'u1' }),
      });
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null, NodeJS.Signals | null];

      // Assess: LocalStack was reached (it refused the unknown topic), sessions had no topic
      expect(health.status).toBe(200);
      expect(config.latencyMs.reviews).toBe(30);
      expect(change.status).toBe(502);
      expect(noTopic.status).toBe(409);
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
