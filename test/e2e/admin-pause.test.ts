/**
 * Issue 14, Done when (the kill switch), on a private world with 2 real worker processes:
 * `admin pause`: no message is received after 2 s (long polls of 20 s are in flight when it
 * is set: they are aborted); readiness and the metric show it; a worker restarted while
 * paused stays paused; `admin resume` restarts both and the held-back events are applied.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders } from '../../src/admin/admin-token.ts';
import { main as admin } from '../../src/cli/admin.ts';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { eventually, snsClient, sqsClient } from '../support/aws.ts';
import { productUpdated, publishAll } from '../support/events.ts';
import { privateWorld, type PrivateWorld } from '../support/private-world.ts';
import type { WorkerProcess } from '../support/worker-process.ts';

describe('admin pause / resume with 2 workers', () => {
  const namespace = 'adminpause';
  const keys = createKeyBuilder({ namespace });
  const sns = snsClient();
  const sqs = sqsClient();
  // Long polls that outlast the 2 s budget: the pause must abort them, not wait for them.
  const env = { WORKER_WAIT_TIME_S: '20' };
  let world: PrivateWorld;
  let workers: WorkerProcess[];

  const url = (w: WorkerProcess) => `http://127.0.0.1:${w.adminPort}`;
  const run = async (w: WorkerProcess, ...args: string[]) => {
    const out: string[] = [];
    const code = await admin(['node', 'admin', ...args, '--targets', url(w)], (s) => out.push(s), {
      ...process.env,
      ADMIN_OPERATOR: 'bob.oncall',
    });
    return { code, out: out.join('\n') };
  };
  const attributes = async () => {
    const res = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: world.messaging.queues.catalog.url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(res.Attributes?.ApproximateNumberOfMessages),
      inFlight: Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible),
    };
  };
  const seed = async (ids: readonly string[]) => {
    const all = ids.flatMap((id) => keys.variantKeys({ family: 'product', tenant: 'default', id }));
    await world.redis.client.mset(...all.flatMap((k) => [k, 'cached']));
    return all;
  };
  const ready = async (w: WorkerProcess) =>
    (await (await fetch(`${url(w)}/readyz`)).json()) as { status: string; checks: Record<string, unknown> };
  const ids = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => `B0${prefix}${String(i).padStart(5, '0')}`);

  beforeAll(async () => {
    world = await privateWorld();
    workers = [await world.startWorker(namespace, env), await world.startWorker(namespace, env)];
  });

  afterAll(async () => {
    await world?.teardown();
    sns.destroy();
    sqs.destroy();
  });

  it('stops every worker within 2 s, survives a restart, resumes both', async () => {
    const [a, b] = workers as [WorkerProcess, WorkerProcess];
    // Consuming: a first batch is applied.
    const warm = await seed(ids('WRM', 5));
    await publishAll(
      sns,
      world.messaging.topics.catalog,
      ids('WRM', 5).map((id) => productUpdated(id)),
    );
    await eventually(async () => ((await world.redis.client.exists(...warm)) === 0 ? true : undefined), {
      what: 'the warm-up events to be applied',
    });

    expect((await run(a, 'pause', '--reason', 'bad deploy of the catalog origin')).code).toBe(0);
    const pausedAt = Date.now();
    // Both workers' long polls are in flight now; within 2 s they must be gone.
    await new Promise((r) => setTimeout(r, Math.max(0, pausedAt + 2_000 - Date.now())));
    const held = ids('HLD', 20);
    const heldKeys = await seed(held);
    await publishAll(
      sns,
      world.messaging.topics.catalog,
      held.map((id) => productUpdated(id)),
    );
    await eventually(
      async () => {
        const at = await attributes();
        return at.visible + at.inFlight === 20 ? true : undefined;
      },
      { what: 'the 20 events to reach the queue' },
    );

    // Over the next 3 s nothing is handled: no key deleted. A long poll that was already in
    // flight before the pause may return some of them: they are given back at once, unhandled.
    for (let i = 0; i < 6; i++) {
      expect(await world.redis.client.exists(...heldKeys)).toBe(heldKeys.length);
      await new Promise((r) => setTimeout(r, 500));
    }
    await eventually(async () => ((await attributes()).visible === 20 ? true : undefined), {
      what: 'every held-back event to be visible (none kept by a paused worker)',
      timeoutMs: 2_000,
    });
    expect(await attributes()).toEqual({ visible: 20, inFlight: 0 });
    // The 20 s long polls in flight at the pause did receive them, and gave them back.
    const givenBack = [a, b]
      .flatMap((w) => w.logs)
      .filter((l) => l.msg === 'paused: a late receive was given back unhandled')
      .reduce((n, l) => n + Number(l.messages), 0);
    expect(givenBack).toBeGreaterThan(0);
    for (const w of [a, b]) {
      const r = await ready(w);
      expect(r.checks.paused).toBe('catalog,promotions,sessions,reviewRefresh');
      const metrics = await (await fetch(`${url(w)}/metrics`, { headers: adminHeaders() })).text();
      expect(metrics).toMatch(/invalidation_consumption_paused\{queue="catalog"[^}]*\} 1/);
    }
    const status = await run(b, 'status');
    expect(status.out).toMatch(/paused all: since .* by bob\.oncall \("bad deploy of the catalog origin"\)/);

    // A worker restarted while paused reads the switch before its first receive: stays paused.
    await b.stop();
    const c = await world.startWorker(namespace, env);
    expect((await ready(c)).checks.paused).toBe('catalog,promotions,sessions,reviewRefresh');
    // It never polls: all 20 stay visible and none is in flight for 3 s.
    for (let i = 0; i < 6; i++) {
      expect(await attributes()).toEqual({ visible: 20, inFlight: 0 });
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(c.logs.filter((l) => l.msg === 'paused: a late receive was given back unhandled')).toEqual([]);

    // Resume: both running workers consume again and apply the held-back events.
    expect((await run(c, 'resume', '--reason', 'origin fixed')).code).toBe(0);
    const resumedAt = Date.now();
    await eventually(async () => ((await world.redis.client.exists(...heldKeys)) === 0 ? true : undefined), {
      what: 'the held-back events to be applied after resume',
      timeoutMs: 20_000,
    });
    // Both running workers see the resume within 2 s of it.
    for (const w of [a, c])
      await eventually(async () => ((await ready(w)).checks.paused === 'none' ? true : undefined), {
        what: 'every worker to see the resume',
        timeoutMs: Math.max(1, resumedAt + 2_000 - Date.now()),
      });
    // Both consume: each applies events of a new burst (spread over both pollers' receives).
    const after = ids('AFT', 40);
    const afterKeys = await seed(after);
    await publishAll(
      sns,
      world.messaging.topics.catalog,
      after.map((id) => productUpdated(id)),
    );
    await eventually(async () => ((await world.redis.client.exists(...afterKeys)) === 0 ? true : undefined), {
      what: 'the burst after resume to be applied',
      timeoutMs: 20_000,
    });
    for (const w of [a, c]) {
      const metrics = await (await fetch(`${url(w)}/metrics`, { headers: adminHeaders() })).text();
      expect(metrics).toMatch(/invalidation_consumption_paused\{queue="catalog"[^}]*\} 0/);
      expect(metrics).not.toMatch(/invalidation_consumption_paused\{[^}]*\} 1/);
    }

    const audit = await run(a, 'audit', '--json');
    const actions = (JSON.parse(audit.out) as { action: string; actor: string; reason: string }[]).map(
      (r) => `${r.action} ${r.actor} ${r.reason}`,
    );
    expect(actions.slice(0, 2)).toEqual([
      'resume bob.oncall origin fixed',
      'pause bob.oncall bad deploy of the catalog origin',
    ]);
  });

  it('a single queue: pause --queue sessions leaves catalog consuming; resume --queue is refused while all are paused', async () => {
    const [a] = workers as [WorkerProcess];
    expect((await run(a, 'pause', '--queue', 'sessions', '--reason', 'session storm')).code).toBe(0);
    expect((await ready(a)).checks.paused).toBe('sessions');
    const more = ids('QON', 3);
    const moreKeys = await seed(more);
    await publishAll(
      sns,
      world.messaging.topics.catalog,
      more.map((id) => productUpdated(id)),
    );
    await eventually(async () => ((await world.redis.client.exists(...moreKeys)) === 0 ? true : undefined), {
      what: 'catalog events to be applied while only sessions is paused',
    });
    expect((await run(a, 'pause', '--reason', 'everything')).code).toBe(0);
    const refused = await run(a, 'resume', '--queue', 'sessions', '--reason', 'just sessions');
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/HTTP 409/);
    expect((await run(a, 'resume', '--reason', 'all clear')).code).toBe(0);
    expect((await ready(a)).checks.paused).toBe('none');
  });
});
