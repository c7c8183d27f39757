/**
 * `admin dlq` against LocalStack on a private messaging topology (the same CDK construct as
 * the stack), with the DLQ filled the way the worker fills it (sendToDeadLetterQueue) plus a
 * forged hostile message, and the audit trail on a private Redis. The adversaries: escape
 * sequences in the body and in attributes (they must never reach the output raw), a copy
 * the worker had to truncate (never redriven), a listing run twice (nothing consumed), a
 * DLQ delete that fails after the copy was sent (at least once: in both queues, reported),
 * an unreachable audit trail (nothing moves), and SQS's own move task at a rate.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_ATTRIBUTES,
  sendToDeadLetterQueue,
} from '../../../src/adapters/sqs/dead-letter-queue.ts';
import type { AdminCliContext } from '../../../src/admin/admin-cli.ts';
import { AuditTrail } from '../../../src/admin/audit-trail.ts';
import { registerDlqCommand, type DlqAudit, type DlqDeps } from '../../../src/admin/dlq-command.ts';
import { asQueueUrl } from '../../../src/core/identifiers.ts';
import { drainQueue, eventually, sqsClient } from '../../support/aws.ts';
import { privateMessaging, type PrivateMessaging } from '../../support/private-messaging.ts';
import { startPrivateRedis, type PrivateRedis } from '../../support/private-redis.ts';
import { stack } from '../../support/stack.ts';

// SQS refuses C0 controls but ESC's 8-bit twin CSI (U+009B), CR and bidi overrides pass it.
const CSI = '\u009b';
const NAMESPACE = 'dlqcli';

describe('admin dlq on LocalStack', () => {
  const sqs = sqsClient();
  let messaging: PrivateMessaging;
  let redis: PrivateRedis;
  let trail: AuditTrail;
  let dlqUrl = '';
  let sourceUrl = '';

  beforeAll(async () => {
    [messaging, redis] = await Promise.all([privateMessaging(), startPrivateRedis()]);
    trail = new AuditTrail({ client: redis.client, namespace: NAMESPACE });
    dlqUrl = messaging.queues.catalog.dlqUrl;
    sourceUrl = messaging.queues.catalog.url;
  });

  afterAll(async () => {
    await redis?.stop();
    await messaging?.teardown();
    sqs.destroy();
  });

  const env = (): NodeJS.ProcessEnv => ({
    AWS_REGION: stack().region,
    AWS_ENDPOINT_URL: stack().localstack.endpoint,
    WORKER_CATALOG_QUEUE_URL: sourceUrl,
    WORKER_CATALOG_DLQ_URL: dlqUrl,
    REDIS_MODE: 'standalone',
    REDIS_KEY_NAMESPACE: NAMESPACE,
    ADMIN_OPERATOR: 'alice',
  });

  /** Runs `admin dlq <args>` in-process; resolves with the exit code and the output. */
  async function admin(
    args: string[],
    options: { sqs?: () => SQSClient; audit?: () => DlqAudit } = {},
  ): Promise<{ code: number; out: string }> {
    const lines: string[] = [];
    let code = 0;
    const context: AdminCliContext = {
      out: (l) => lines.push(l),
      env: env(),
      fail: (c = 1) => (code = Math.max(code, c)),
    };
    const deps: DlqDeps = {
      sqs: options.sqs ?? (() => sqsClient()),
      audit:
        options.audit ??
        (() => ({
          check: async () => void (await redis.client.ping()),
          append: (r) => trail.append(r),
          close: () => Promise.resolve(),
        })),
    };
    const program = new Command('admin').exitOverride();
    registerDlqCommand(program, context, deps);
    await program.parseAsync(['node', 'admin', 'dlq', ...args]);
    return { code, out: lines.join('\n') };
  }

  const visible = async (url: string): Promise<number> => {
    const res = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    return Number(res.Attributes?.ApproximateNumberOfMessages ?? -1);
  };

  /** Dead-letters `count` bodies under `code` the way the worker does; resolves with the DLQ ids. */
  async function deadLetter(code: string, bodies: string[], limit?: number): Promise<void> {
    const poison = bodies.map((body, i) => ({
      message: {
        MessageId: `${code}-${i}-${Math.random().toString(36).slice(2)}`,
        Body: body,
        MessageAttributes: { eventType: { DataType: 'String', StringValue: 'catalog.product.updated' } },
      } satisfies Message,
      code,
      reason: `reason of ${code}`,
    }));
    const confirmed = await sendToDeadLetterQueue(
      sqs,
      asQueueUrl(dlqUrl),
      asQueueUrl(sourceUrl),
      poison,
      limit === undefined ? {} : { maxPayloadBytes: limit },
    );
    expect(confirmed.size).toBe(bodies.length);
  }

  it('lists by code without consuming, escapes what is hostile, and redrives exactly a selection', async () => {
    // Prepare: 6 + 4 + 1 truncated worker copies, and one forged hostile message.
    await deadLetter(
      'EVENT_MALFORMED',
      Array.from({ length: 6 }, (_, i) => `{"broken": ${i}`),
    );
    await deadLetter(
      'EVENT_UNKNOWN_TYPE',
      Array.from({ length: 4 }, (_, i) => JSON.stringify({ type: 'catalog.product.exploded', n: i })),
    );
    await deadLetter('EVENT_MALFORMED', [`{"big": "${'x'.repeat(5_000)}`], 2_048);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: `${CSI}]0;pwned${CSI}\\ ${CSI}[31mred\u202Egnp.exe`,
        MessageAttributes: {
          [DEAD_LETTER_ATTRIBUTES.code]: { DataType: 'String', StringValue: `EVIL${CSI}[2J` },
          [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: 'String', StringValue: `${CSI}[1Aoverwrite` },
          note: { DataType: 'String', StringValue: `\rbell${CSI}[0m` },
        },
      }),
    );

    // Act: list twice (text and JSON).
    const text = await admin(['list', '--queue', 'catalog', '--verbose']);
    const json = await admin(['list', '--queue', 'catalog', '--json']);

    // Assess: grouped by code, counted exactly, nothing consumed, nothing raw.
    expect(text.code).toBe(0);
    const groups = (
      JSON.parse(json.out) as {
        queues: { total: number; groups: { code: string; count: number; truncated: number }[] }[];
      }
    ).queues[0];
    expect(groups?.total).toBe(12);
    expect(groups?.groups.map((g) => [g.code, g.count, g.truncated])).toEqual([
      ['EVENT_MALFORMED', 7, 1],
      ['EVENT_UNKNOWN_TYPE', 4, 0],
      ['EVIL\\x9b[2J', 1, 0],
    ]);
    for (const out of [text.out, json.out]) {
      expect(out).not.toContain(CSI);
      expect(out).not.toContain('\r');
      expect(out).not.toContain('\u202E');
      expect(out).not.toContain('broken'); // no body in a listing
    }
    expect(text.out).toContain('\\x9b[1Aoverwrite');
    await eventually(async () => ((await visible(dlqUrl)) === 12 ? true : undefined), {
      what: 'all 12 visible again right after the listings',
      timeoutMs: 5_000,
    });

    // show: the body on purpose, escaped.
    const forged = await admin(['list', '--queue', 'catalog', '--json']).then(
      (r) =>
        (
          JSON.parse(r.out) as { queues: { groups: { code: string; entries: { messageId: string }[] }[] }[] }
        ).queues[0]?.groups.find((g) => g.code.startsWith('EVIL'))?.entries[0]?.messageId ?? '',
    );
    const shown = await admin(['show', forged, '--queue', 'catalog']);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('\\x9b]0;pwned\\x9b\\\\ \\x9b[31mred\\u202egnp.exe');
    expect(shown.out).not.toContain(CSI);

    // Act: redrive only the unknown types.
    const moved = await admin([
      'redrive',
      '--queue',
      'catalog',
      '--only',
      'EVENT_UNKNOWN_TYPE',
      '--reason',
      'type deployed',
      '--json',
    ]);

    // Assess: exactly those 4 are on the source queue, with the producer's attribute and
    // without ours; the other 8 stay in the DLQ; the redrive is audited.
    expect(moved.code).toBe(0);
    expect(JSON.parse(moved.out)).toMatchObject({ read: 12, truncated: [], failed: [], duplicated: [] });
    const back = await drainQueue(sqs, sourceUrl, 4, 10_000);
    expect(
      back
        .map((m) => JSON.parse(m.Body ?? '{}') as { n: number })
        .map((b) => b.n)
        .sort(),
    ).toEqual([0, 1, 2, 3]);
    for (const m of back) {
      expect(Object.keys(m.MessageAttributes ?? {})).toEqual(['eventType']);
    }
    await eventually(async () => ((await visible(dlqUrl)) === 8 ? true : undefined), {
      what: '8 left in the DLQ',
      timeoutMs: 5_000,
    });
    const [record] = await trail.read({ action: 'dlq.redrive' });
    expect(record).toMatchObject({
      actor: 'cli:alice',
      target: 'dlq:catalog',
      reason: 'type deployed',
      result: 'ok',
      details: {
        mode: 'selection',
        only: 'EVENT_UNKNOWN_TYPE',
        read: 12,
        selected: 4,
        moved: 4,
        truncated: 0,
      },
    });

    // A selection with the truncated copy: that one is never sent (it would be poison again).
    const malformed = await admin([
      'redrive',
      '--queue',
      'catalog',
      '--only',
      'EVENT_MALFORMED',
      '--reason',
      'parser fixed',
      '--dry-run',
      '--json',
    ]);
    expect(JSON.parse(malformed.out)).toMatchObject({ selected: expect.any(Array) as unknown, moved: [] });
    const dry = JSON.parse(malformed.out) as { selected: string[]; truncated: string[] };
    expect([dry.selected.length, dry.truncated.length]).toEqual([6, 1]);
    expect((await trail.read({ action: 'dlq.redrive', limit: 1 }))[0]?.result).toBe('dry-run');
    await eventually(async () => ((await visible(dlqUrl)) === 8 ? true : undefined), {
      what: '8 still',
      timeoutMs: 5_000,
    });
  });

  it('refuses without a reason, and when the audit trail cannot be reached moves nothing', async () => {
    const before = await visible(dlqUrl);
    expect((await admin(['redrive', '--queue', 'catalog', '--only', 'EVENT_MALFORMED'])).code).toBe(2);
    const unreachable = await admin(
      ['redrive', '--queue', 'catalog', '--only', 'EVENT_MALFORMED', '--reason', 'x'],
      {
        audit: () => ({
          check: () => Promise.reject(new Error('connect ECONNREFUSED')),
          append: () => Promise.reject(new Error('unreachable')),
          close: () => Promise.resolve(),
        }),
      },
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.out).toMatch(/^refused: the audit trail cannot be reached, nothing was moved/);
    expect(await visible(dlqUrl)).toBe(before);
    expect(await visible(sourceUrl)).toBe(0);

    // An --id that is not in the DLQ moves nothing and says so (exit 1).
    const unknown = await admin([
      'redrive',
      '--queue',
      'catalog',
      '--id',
      'no-such-id',
      '--reason',
      'typo',
      '--json',
    ]);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.out)).toMatchObject({ selected: [], moved: [], notSelected: ['no-such-id'] });
    // A listing cut by --limit says the DLQ may hold more.
    const limited = await admin(['list', '--queue', 'catalog', '--limit', '3', '--json']);
    expect(JSON.parse(limited.out)).toMatchObject({ queues: [{ total: 3, limited: true }] });
    await eventually(async () => ((await visible(dlqUrl)) === before ? true : undefined), {
      what: 'everything visible again',
      timeoutMs: 5_000,
    });
  });

  it('a DLQ delete that fails after the copy was sent leaves the message in both queues, and says so', async () => {
    // Adversary: SQS accepts the copy on the source queue, then refuses the DLQ delete.
    const failingDeletes = (): SQSClient => {
      const client = sqsClient();
      const send = client.send.bind(client) as (c: unknown) => Promise<unknown>;
      (client as unknown as { send: (c: unknown) => Promise<unknown> }).send = (command) =>
        command instanceof DeleteMessageBatchCommand
          ? Promise.reject(new Error('InternalError'))
          : send(command);
      return client;
    };
    const forged = await admin(['list', '--queue', 'catalog', '--json']).then(
      (r) =>
        (
          JSON.parse(r.out) as { queues: { groups: { code: string; entries: { messageId: string }[] }[] }[] }
        ).queues[0]?.groups.find((g) => g.code.startsWith('EVIL'))?.entries[0]?.messageId ?? '',
    );
    const before = await visible(dlqUrl);
    const r = await admin(['redrive', '--queue', 'catalog', '--id', forged, '--reason', 'drill', '--json'], {
      sqs: failingDeletes,
    });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ selected: [forged], moved: [], duplicated: [forged] });
    const copies = await drainQueue(sqs, sourceUrl, 1, 10_000);
    expect(copies).toHaveLength(1);
    await eventually(async () => ((await visible(dlqUrl)) === before ? true : undefined), {
      what: 'the DLQ copy visible again',
      timeoutMs: 5_000,
    });
    expect((await trail.read({ action: 'dlq.redrive', limit: 1 }))[0]).toMatchObject({
      result: 'failed',
      details: { duplicated: 1, moved: 0 },
    });
  });

  it('moves everything with StartMessageMoveTask at the rate asked, audited', async () => {
    const count = await visible(dlqUrl);
    expect(count).toBe(8);
    const t0 = Date.now();
    const r = await admin([
      'redrive',
      '--queue',
      'catalog',
      '--rate',
      '4',
      '--reason',
      'all fixed',
      '--wait',
    ]);
    const tookMs = Date.now() - t0;
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/move task started on the catalog DLQ at 4\/s/);
    expect(r.out).toMatch(/COMPLETED moved 8 of/);
    // 8 messages at 4/s: about 2 s (LocalStack paces one message every 1/rate s).
    expect(tookMs).toBeGreaterThanOrEqual(1_500);
    const back = await drainQueue(sqs, sourceUrl, 8, 10_000);
    expect(back).toHaveLength(8);
    expect(await visible(dlqUrl)).toBe(0);
    expect((await trail.read({ action: 'dlq.redrive', limit: 1 }))[0]).toMatchObject({
      result: 'ok',
      reason: 'all fixed',
      details: { mode: 'move-task', rate: 4 },
    });
    const tasks = await admin(['tasks', '--queue', 'catalog', '--json']);
    expect((JSON.parse(tasks.out) as { tasks: { status: string }[] }).tasks[0]?.status).toBe('COMPLETED');
    console.log(`move task: 8 messages at 4/s took ${tookMs} ms`);
  });
});
