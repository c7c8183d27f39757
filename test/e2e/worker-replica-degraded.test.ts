/**
 * Replication trouble never dead-letters a valid event, and never delays a delete (rules 1,
 * 4 and 9), with the promotions queue under load:
 *
 *   - the replica is FROZEN (SIGSTOP) for 60 s while 50 promotion events are published: from
 *     the worker's receive of each event (its debug "invalidation applied" line) to the
 *     primary deleting its keys (on the primary's clock: MONITOR's timestamps), p50 within
 *     250 ms and every one within the WAIT timeout (500 ms) + 1 s: a batch's deletes can
 *     queue on the connection behind another batch's WAIT (measured: up to 1.1 s with a 1.5 s
 *     WAIT timeout), while a delete that waited for a replica would take the 10 s visibility
 *     timeout or the 60 s repl-timeout. A WAIT sent before the deletes costs only the first
 *     batch the timeout (the worker then stops waiting on a replica it knows is behind), so
 *     these bounds do not tell it from that queueing. Publish to delete adds
 *     LocalStack's SNS delivery (2.03 s once in CI, seconds on a loaded machine): it is
 *     printed, not bounded. The acks are held (no message
 *     comes back, so no receive count grows) until a replica confirms, or acked degraded
 *     once the primary has dropped the silent replica (repl-timeout);
 *   - the replica is STOPPED for 120 s under 50 more, with the same bounds on the deletes:
 *     nothing is attached, so each message is acked once its deletes are on the primary, as
 *     degraded (reason no-replica).
 *
 * Each time: the promotions DLQ stays empty, the queue drains, and every event was applied
 * exactly once (a redelivery would count twice). The worker connects through the primary
 * endpoint in standalone mode, as in AWS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { VARIABLES } from '../../src/config/variables.ts';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { eventually, queueDepth, snsClient, sqsClient } from '../support/aws.ts';
import { promotionChanged, publish } from '../support/events.ts';
import { privateMessaging, type PrivateMessaging } from '../support/private-messaging.ts';
import { startPrivateSentinelGroup, type PrivateSentinelGroup } from '../support/private-sentinel-group.ts';
import { LOCAL_REDIS_FILES } from '../support/redis-access.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';
import { adminHeaders } from '../../src/admin/admin-token.ts';

const EVENTS = 50;
const WAIT_TIMEOUT_MS = Number(VARIABLES.REDIS_WAIT_TIMEOUT_MS.default);
/** The commands through which the worker deletes (its script, and the script's own calls). */
const DELETING = new Set(['evalsha', 'eval', 'unlink', 'del']);

interface World {
  readonly group: PrivateSentinelGroup;
  readonly messaging: PrivateMessaging;
  readonly worker: WorkerProcess;
  readonly primary: Redis;
  readonly keys: ReturnType<typeof createKeyBuilder>;
  /** When the primary first ran a deleting command naming each key (its clock, ms). */
  readonly deletedOnPrimaryAt: Map<string, number>;
  close(): Promise<void>;
}

/**
 * MONITOR on the primary through `redis-cli` (TLS, the password in REDISCLI_AUTH): each command
 * the primary runs, with the primary's own timestamp. Not ioredis's monitor(): it can throw
 * "Command queue state error" on a monitor line (ioredis#1981; a fresh clone's run saw it).
 */
async function monitorPrimary(
  node: { host: string; port: number },
  onCommand: (atMs: number, args: string[]) => void,
): Promise<ChildProcess> {
  const child = spawn(
    'redis-cli',
    ['--tls', '--cacert', LOCAL_REDIS_FILES.ca, '-h', node.host, '-p', String(node.port), 'monitor'],
    { env: { ...process.env, REDISCLI_AUTH: readFileSync(LOCAL_REDIS_FILES.password, 'utf8').trim() } },
  );
  let ok!: () => void;
  const ready = new Promise<void>((resolve) => (ok = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    // 1796176743.840003 [0 127.0.0.1:33206] "evalsha" "..." "3" "key" ...
    const m = /^(\d+\.\d+) \[[^\]]*\] (.*)$/.exec(line);
    if (m === null) return line.trim() === 'OK' ? ok() : undefined;
    const args = [...m[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((a) => a[1]!);
    onCommand(Number(m[1]) * 1_000, args);
  });
  await Promise.race([
    ready,
    once(child, 'exit').then(([code]) => {
      throw new Error(`redis-cli monitor exited with ${String(code)} before it was ready`);
    }),
  ]);
  return child;
}

/** A private replication group, messaging stack and worker (on the primary endpoint) per scenario. */
async function world(): Promise<World> {
  const [group, messaging] = await Promise.all([
    startPrivateSentinelGroup({ profile: 'fast' }),
    privateMessaging({ visibilityTimeoutSeconds: 10, maxReceiveCount: 3 }),
  ]);
  const primary = new Redis({ ...group.access.node, ...group.primary(), maxRetriesPerRequest: 3 });
  primary.on('error', () => undefined);
  const deletedOnPrimaryAt = new Map<string, number>();
  const namespace = `rd${Math.random().toString(36).slice(2, 7)}`;
  let monitor: ChildProcess | undefined;
  let worker: WorkerProcess | undefined;
  const close = async () => {
    await worker?.stop();
    monitor?.kill();
    primary.disconnect();
    await messaging.teardown();
    await group.stop();
  };
  try {
    monitor = await monitorPrimary(group.primary(), (atMs, args) => {
      if (!DELETING.has(String(args[0]).toLowerCase())) return;
      for (const a of args.slice(1)) if (!deletedOnPrimaryAt.has(a)) deletedOnPrimaryAt.set(a, atMs);
    });
    worker = await startWorkerProcess({
      messaging,
      namespace,
      redisMode: 'standalone',
      redisAddresses: `${group.endpoint.host}:${group.endpoint.port}`,
      env: {
        WORKER_VISIBILITY_TIMEOUT_S: '10',
        WORKER_HEARTBEAT_INTERVAL_S: '3',
        WORKER_LOG_LEVEL: 'debug',
      },
    });
  } catch (err) {
    // A world that fails half-built stops what it started (a fresh clone's run once left
    // this group's three processes behind).
    await close();
    throw err;
  }
  return {
    group,
    messaging,
    worker,
    primary,
    keys: createKeyBuilder({ namespace, locales: ['en-US', 'ja-JP'] }),
    deletedOnPrimaryAt,
    close,
  };
}

// The two scenarios own everything they touch, so they run side by side (half the wall time).
describe.concurrent('promotion deletes while the replica is frozen, or stopped', () => {
  const sns = snsClient();
  const sqs = sqsClient();

  afterAll(() => {
    sns.destroy();
    sqs.destroy();
  });

  interface Deleted {
    readonly eventId: string;
    readonly keys: readonly string[];
    readonly publishedAtMs: number;
    /** When the test saw every key of the event gone from the primary. */
    readonly goneAtMs: number;
  }

  /** Publishes `EVENTS` promotion changes spread over `spanMs`; resolves when each one's keys are gone. */
  async function streamPromotions(w: World, label: string, spanMs: number): Promise<Deleted[]> {
    const deleted: Promise<Deleted>[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const section = `${label}-section-${i}`;
      const variants = w.keys.variantKeys({ family: 'promo', tenant: 'default', id: section });
      for (const k of variants) await w.primary.set(k, 'old coupon', 'EX', 900);
      const event = promotionChanged([section]);
      const publishedAtMs = Date.now();
      await publish(sns, w.messaging.topics.promotions, event);
      deleted.push(
        eventually(
          async () =>
            (await w.primary.exists(...variants)) === 0
              ? { eventId: event.eventId, keys: variants, publishedAtMs, goneAtMs: Date.now() }
              : undefined,
          { what: `the keys of ${section} to go`, timeoutMs: 60_000, intervalMs: 50 },
        ),
      );
      await new Promise((r) => setTimeout(r, spanMs / EVENTS));
    }
    return Promise.all(deleted);
  }

  async function promoMetrics(
    w: World,
  ): Promise<{ applied: number; confirmed: number; degraded: Record<string, number> }> {
    const text = await (
      await fetch(`http://127.0.0.1:${w.worker.adminPort}/metrics`, { headers: adminHeaders() })
    ).text();
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    const degraded: Record<string, number> = {};
    for (const m of text.matchAll(
      /^invalidation_degraded_acks_total\{queue="promotions",reason="([^"]+)"\} (\d+)/gm,
    ))
      degraded[m[1]!] = Number(m[2]);
    return {
      applied: value(/^invalidation_events_processed_total\{family="promo"\} (\d+)/m),
      confirmed: value(/^invalidation_held_acks_confirmed_total\{queue="promotions"\} (\d+)/m),
      degraded,
    };
  }

  /**
   * The deletes were not held back for a replica: from the worker's receive of each event to
   * the primary deleting its keys, p50 within 250 ms and every one within the WAIT timeout +
   * 1 s. Publish to delete (through
   * LocalStack's SNS delivery, seen by the test's poll) is printed beside it.
   */
  async function expectPromptDeletes(w: World, deleted: readonly Deleted[], label: string): Promise<void> {
    // The monitor's and the worker's lines come through pipes: wait until each event has both.
    const ids = new Set(deleted.map((d) => d.eventId));
    await eventually(
      () =>
        deleted.every((d) => d.keys.every((k) => w.deletedOnPrimaryAt.has(k))) &&
        w.worker.applied.filter((l) => ids.has(l.eventId)).length >= deleted.length
          ? true
          : undefined,
      { what: "every event's delete on the monitor and its receive in the worker's log", timeoutMs: 10_000 },
    ).catch(() => undefined); // what is still missing fails the check below, by event id
    const quantiles = (xs: readonly number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
      return { p50: Math.round(at(0.5)), p90: Math.round(at(0.9)), max: Math.round(at(1)) };
    };
    const receivedAt = new Map<string, number>();
    for (const l of w.worker.applied) {
      const at = l.receiveAnsweredAtMs ?? l.receivedAtMs;
      receivedAt.set(l.eventId, Math.min(at, receivedAt.get(l.eventId) ?? Infinity));
    }
    const receiveToGone = deleted.map(
      (d) =>
        Math.max(...d.keys.map((k) => w.deletedOnPrimaryAt.get(k) ?? NaN)) -
        (receivedAt.get(d.eventId) ?? NaN),
    );
    const fleet = quantiles(receiveToGone);
    console.log(
      `${label}: receive to delete ${JSON.stringify(fleet)} ms; publish to delete ` +
        `${JSON.stringify(quantiles(deleted.map((d) => d.goneAtMs - d.publishedAtMs)))} ms`,
    );
    expect(deleted).toHaveLength(EVENTS);
    expect(deleted.filter((_, i) => !Number.isFinite(receiveToGone[i])).map((d) => d.eventId)).toEqual([]);
    expect(fleet.p50).toBeLessThanOrEqual(250);
    expect(fleet.max).toBeLessThanOrEqual(WAIT_TIMEOUT_MS + 1_000);
  }

  const drained = (w: World) => async () =>
    (await queueDepth(sqs, w.messaging.queues.promotions.url)) === 0 ? true : undefined;
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

  it('replica frozen 60 s: deletes prompt, acks held then settled by the rule, DLQ empty', async () => {
    const w = await world();
    try {
      // Act
      w.group.freezeReplica();
      const frozenAt = Date.now();
      const delays = await streamPromotions(w, 'frozen', 50_000);
      await new Promise((r) => setTimeout(r, Math.max(0, 60_000 - (Date.now() - frozenAt))));
      const beforeThaw = (await (await fetch(`http://127.0.0.1:${w.worker.adminPort}/readyz`)).json()) as {
        checks: { heldAcks: number; replication: string };
      };
      w.group.thawReplica();
      await eventually(drained(w), { what: 'the promotions queue to drain', timeoutMs: 60_000 });

      // Assess
      const m = await promoMetrics(w);
      console.log(`frozen: before thaw ${JSON.stringify(beforeThaw.checks)}; acks ${JSON.stringify(m)}`);
      await expectPromptDeletes(w, delays, 'frozen');
      expect(await queueDepth(sqs, w.messaging.queues.promotions.dlqUrl)).toBe(0);
      // Held, never redelivered: each event applied once, and acked by exactly one rule.
      expect(m.applied).toBe(EVENTS);
      expect(m.confirmed + sum(m.degraded)).toBe(EVENTS);
      expect(Object.keys(m.degraded).filter((r) => r !== 'no-replica')).toEqual([]);
      expect(beforeThaw.checks.replication).not.toBe('healthy');
    } finally {
      await w.close();
    }
  }, 240_000);

  it('replica stopped 120 s: deletes prompt, each message acked degraded (no replica), DLQ empty', async () => {
    const w = await world();
    try {
      // Act
      await w.group.stopReplica();
      const stoppedAt = Date.now();
      const delays = await streamPromotions(w, 'stopped', 110_000);
      await eventually(drained(w), { what: 'the promotions queue to drain', timeoutMs: 30_000 });
      await new Promise((r) => setTimeout(r, Math.max(0, 120_000 - (Date.now() - stoppedAt))));
      await w.group.startReplica();

      // Assess
      const m = await promoMetrics(w);
      console.log(`stopped: acks ${JSON.stringify(m)}`);
      await expectPromptDeletes(w, delays, 'stopped');
      expect(await queueDepth(sqs, w.messaging.queues.promotions.dlqUrl)).toBe(0);
      expect(m.applied).toBe(EVENTS);
      expect(m.degraded['no-replica'] ?? 0).toBe(EVENTS);
      expect(m.confirmed).toBe(0);
    } finally {
      await w.close();
    }
  }, 240_000);
});
