/**
 * Issue 14, Done when (DLQ), on a private world (its own redis-server and messaging stack)
 * with real worker processes and the real `admin` CLI as a process:
 * 20 poison messages of 3 codes arrive through SNS and are dead-lettered by the worker;
 * `admin dlq list` shows them grouped by code (twice: listing consumes nothing). The cause of
 * one code is then "fixed": the worker was started with a 1 KiB body limit
 * (WORKER_MAX_EVENT_BODY_BYTES=1024), so large promotion events were EVENT_OVERSIZED; it is
 * restarted with the default 64 KiB. `admin dlq redrive --only EVENT_OVERSIZED` moves exactly
 * those 8 back, the new worker applies them (every key of their 480 sections is gone from
 * Redis, every fence is new), the other 12 stay in the DLQ, and the redrive is in the audit
 * trail, also as the fleet's `admin audit` reads it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/admin/audit-trail.ts';
import { main as adminInProcess } from '../../src/cli/admin.ts';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { privateAccess } from '../../src/local/local-redis.ts';
import { localWorkerEnv, redisAccessEnv } from '../../src/local/local-worker-env.ts';
import { eventually, queueDepth, snsClient, sqsClient } from '../support/aws.ts';
import { promotionChanged, publish, publishAll } from '../support/events.ts';
import { privateWorld, type PrivateWorld } from '../support/private-world.ts';
import { stack } from '../support/stack.ts';

const ADMIN = fileURLToPath(new URL('../../src/cli/admin.ts', import.meta.url));

describe('DLQ: list by code, fix the cause, redrive one code', () => {
  const namespace = 'dlqe2e';
  const keys = createKeyBuilder({ namespace, locales: ['en-US', 'ja-JP'] });
  const sqs = sqsClient();
  let sns: SNSClient;
  let world: PrivateWorld;
  let cliEnv: Record<string, string>;

  beforeAll(async () => {
    sns = snsClient();
    world = await privateWorld();
    cliEnv = localWorkerEnv(
      { ...stack(), topics: world.messaging.topics, queues: world.messaging.queues },
      {
        redisMode: 'standalone',
        overrides: {
          REDIS_ADDRESSES: `127.0.0.1:${world.redis.port}`,
          ...redisAccessEnv(privateAccess().tuning),
          REDIS_KEY_NAMESPACE: namespace,
          ADMIN_OPERATOR: 'dana.oncall',
        },
      },
    );
  });

  afterAll(async () => {
    await world?.teardown();
    sqs.destroy();
    sns?.destroy();
  });

  /** `node src/cli/admin.ts dlq ...` as an operator runs it; resolves with its exit code and stdout. */
  const admin = (...args: string[]): Promise<{ code: number; out: string; err: string }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [ADMIN, 'dlq', ...args],
        { env: { ...process.env, ...cliEnv }, timeout: 120_000 },
        (error, stdout, stderr) =>
          resolve({ code: error === null ? 0 : Number(error.code ?? 1), out: stdout, err: stderr }),
      );
    });
  const listed = async () => {
    const r = await admin('list', '--queue', 'promotions', '--json');
    expect(r.code, r.err).toBe(0);
    const queue = (
      JSON.parse(r.out) as { queues: { total: number; groups: { code: string; count: number }[] }[] }
    ).queues[0];
    return {
      total: queue?.total,
      groups: Object.fromEntries((queue?.groups ?? []).map((g) => [g.code, g.count])),
    };
  };
  const visible = async (url: string): Promise<number> => {
    const res = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    return Number(res.Attributes?.ApproximateNumberOfMessages ?? -1);
  };

  it('lists 20 poison messages by code, then redrives exactly the fixed code, applied and audited', async () => {
    const { messaging, redis } = world;
    const topic = messaging.topics.promotions;
    const { url: sourceUrl, dlqUrl } = messaging.queues.promotions;

    // Prepare: 8 valid promotion events of 60 sections each (about 1.4 KB: over a 1 KiB
    // limit), 7 bodies that are not JSON, 5 with a glob in a section; stale keys for the 480.
    const sections = (e: number) => Array.from({ length: 60 }, (_, i) => `flash-sale-${e}-${i}`);
    const large = Array.from({ length: 8 }, (_, e) => promotionChanged(sections(e)));
    for (const e of large) expect(Buffer.byteLength(JSON.stringify(e))).toBeGreaterThan(1_024);
    const variants = Array.from({ length: 8 }, (_, e) =>
      sections(e).flatMap((id) => keys.variantKeys({ family: 'promo', tenant: 'default', id })),
    ).flat();
    expect(variants).toHaveLength(8 * 60 * 2);
    for (const k of variants) await redis.client.set(k, 'stale');
    const control = keys.variantKeys({ family: 'promo', tenant: 'default', id: 'control' });
    for (const k of control) await redis.client.set(k, 'stale');

    // Act 1: the worker with the too-small limit receives all of it through SNS.
    // Exact DLQ copies are counted: a long visibility keeps a slow emulator's redelivery (a
    // second copy, at-least-once) out of the count (decision 0021).
    const strict = await world.startWorker(namespace, {
      WORKER_MAX_EVENT_BODY_BYTES: '1024',
      WORKER_VISIBILITY_TIMEOUT_S: '10',
      WORKER_HEARTBEAT_INTERVAL_S: '3',
    });
    await publishAll(sns, topic, [...large, promotionChanged(['control'])]);
    for (let i = 0; i < 7; i++) await publish(sns, topic, `{"type": "promotion.changed", "n": ${i}`);
    await publishAll(
      sns,
      topic,
      Array.from({ length: 5 }, (_, i) => promotionChanged([`deals-${i}*`])),
    );
    await eventually(
      async () =>
        (await visible(dlqUrl)) === 20 && (await queueDepth(sqs, sourceUrl)) === 0 ? true : undefined,
      { timeoutMs: 30_000, what: '20 messages in the DLQ and the source queue drained' },
    );
    // The small valid event was applied by the same worker: it is only the limit.
    expect(await redis.client.exists(...control)).toBe(0);
    await strict.stop();

    // Assess 1: grouped by code, exactly; a second listing sees the same 20.
    const expected = { EVENT_OVERSIZED: 8, EVENT_MALFORMED: 7, EVENT_BAD_IDENTIFIER: 5 };
    expect(await listed()).toEqual({ total: 20, groups: expected });
    const text = await admin('list', '--queue', 'promotions');
    expect(text.out).toContain('promotions DLQ: 20 messages, 3 codes');
    expect(text.out).toMatch(/EVENT_OVERSIZED {2}8 {2}/);
    expect(await listed()).toEqual({ total: 20, groups: expected });
    // Nothing was redriven yet: every stale key is still there.
    expect(await redis.client.exists(...variants)).toBe(variants.length);

    // Act 2: fix the cause (default limit), then redrive that code only.
    const fixed = await world.startWorker(namespace);
    const r = await admin(
      'redrive',
      '--queue',
      'promotions',
      '--only',
      'EVENT_OVERSIZED',
      '--rate',
      '20',
      '--reason',
      'WORKER_MAX_EVENT_BODY_BYTES back to 64 KiB',
      '--json',
    );
    expect(r.code, r.err || r.out).toBe(0);
    const result = JSON.parse(r.out) as {
      read: number;
      selected: string[];
      moved: string[];
      duplicated: string[];
    };
    expect([result.read, result.selected.length, result.moved.length, result.duplicated.length]).toEqual([
      20, 8, 8, 0,
    ]);

    // Assess 2: applied: every key of the 480 sections is gone and every fence is new.
    await eventually(async () => ((await redis.client.exists(...variants)) === 0 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'the redriven promotions to be applied',
    });
    const fences = sections(0).map((id) => keys.fenceKey({ family: 'promo', tenant: 'default', id }));
    for (const f of fences) expect(await redis.client.get(f)).toMatch(/^[1-9]\d{15}$/);
    await eventually(async () => ((await queueDepth(sqs, sourceUrl)) === 0 ? true : undefined), {
      what: 'the source queue drained again',
    });
    // Exactly the other two codes stay; none of the 8 came back as poison.
    expect(await listed()).toEqual({ total: 12, groups: { EVENT_MALFORMED: 7, EVENT_BAD_IDENTIFIER: 5 } });
    expect(fixed.logs.filter((l) => l.msg === 'poison message')).toHaveLength(0);

    // Audited: in the trail as written, and as the fleet's `admin audit` reads it.
    const trail = new AuditTrail({ client: redis.client, namespace });
    const [record] = await trail.read({ action: 'dlq.redrive' });
    expect(record).toMatchObject({
      actor: 'cli:dana.oncall',
      action: 'dlq.redrive',
      target: 'dlq:promotions',
      reason: 'WORKER_MAX_EVENT_BODY_BYTES back to 64 KiB',
      result: 'ok',
      details: { mode: 'selection', only: 'EVENT_OVERSIZED', read: 20, selected: 8, moved: 8, duplicated: 0 },
    });
    const lines: string[] = [];
    const code = await adminInProcess(
      [
        'node',
        'admin',
        'audit',
        '--action',
        'dlq',
        '--json',
        '--targets',
        `http://127.0.0.1:${fixed.adminPort}`,
      ],
      (s) => lines.push(s),
    );
    expect(code).toBe(0);
    expect(JSON.parse(lines.join('\n'))).toMatchObject([{ actor: 'cli:dana.oncall', details: { moved: 8 } }]);
  });
});
