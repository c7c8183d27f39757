/**
 * Worker presence end to end (decision 0024): real worker processes on a private messaging
 * topology in LocalStack (never the shared queues) and a test namespace on the shared
 * Sentinel Redis. A read-side listener wired as the cache client wires it (PipelineWatermark
 * hands every non-watermark message to WorkerPresence) and a raw subscriber hear each worker:
 * - it announces a stable id every interval, the id its start-up log names;
 * - on SIGTERM, after its drain, it says "leaving" last, and its silence then distrusts nothing;
 * - on SIGKILL, the listener distrusts from a few missed intervals after the kill until the
 *   last presence + visibility + heartbeat + margin (the workers' 3 s and 1 s, margin 1.5 s).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePresence } from '../../src/adapters/redis/presence-message.ts';
import { watermarkChannel } from '../../src/adapters/redis/watermark-message.ts';
import { PipelineWatermark } from '../../src/client/pipeline-watermark.ts';
import { PRESENCE_DEFAULTS } from '../../src/client/presence-rule.ts';
import { WorkerPresence } from '../../src/client/worker-presence.ts';
import { privateMessaging, type PrivateMessaging } from '../support/private-messaging.ts';
import { stackAccess } from '../support/redis-access.ts';
import { eventually } from '../support/aws.ts';
import { stack } from '../support/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';

const INTERVAL_MS = 200;
const OPTIONS = { ...PRESENCE_DEFAULTS, intervalMs: INTERVAL_MS };
const SILENT_AFTER_MS = OPTIONS.intervalMs * OPTIONS.missedIntervals; // 600
const HAND_OVER_MS = OPTIONS.visibilityTimeoutMs + OPTIONS.visibilityHeartbeatMs + OPTIONS.handOverMarginMs; // 5,500

describe('worker presence through a real worker', () => {
  const s = stack();
  const namespace = `wp${Math.random().toString(36).slice(2, 8)}`;
  let messaging: PrivateMessaging;
  let watermark: PipelineWatermark;
  let presence: WorkerPresence;
  // The same rule on a clock the test sets, fed the same messages: judged at exact instants
  // after the listener heard a worker, whatever the stalls of a loaded runner.
  let exactNow = 0;
  const exact = new WorkerPresence(OPTIONS, { now: () => exactNow });
  const listenerHeardAt = new Map<string, number>();
  let raw: Redis;
  const heard: { at: number; worker: string; leaving: boolean }[] = [];
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    messaging = await privateMessaging();
    presence = new WorkerPresence(OPTIONS);
    watermark = new PipelineWatermark(
      {
        mode: 'sentinel',
        sentinels: s.redis.sentinels,
        name: s.redis.sentinelName,
        tuning: stackAccess().tuning,
      },
      namespace,
      {
        onOther: (m) => {
          exactNow = performance.now();
          const p = parsePresence(m);
          if (p !== undefined) listenerHeardAt.set(p.worker, exactNow);
          exact.receive(m);
          presence.receive(m);
        },
      },
    );
    await watermark.ready();
    raw = new Redis({ ...stackAccess().node, ...s.redis.primary });
    await raw.subscribe(watermarkChannel(namespace));
    raw.on('message', (_c, m: string) => {
      const p = parsePresence(m);
      if (p !== undefined) heard.push({ at: performance.now(), worker: p.worker, leaving: p.leaving });
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await watermark?.close();
    raw?.disconnect();
    await messaging?.teardown();
  });

  const start = async (): Promise<{ worker: WorkerProcess; id: string }> => {
    const worker = await startWorkerProcess({
      messaging,
      namespace,
      env: {
        WORKER_PRESENCE_INTERVAL_MS: String(INTERVAL_MS),
        WORKER_CANARY_INTERVAL_MS: '0',
        WORKER_REVIEW_REFRESH_QUEUE_URL: '',
        WORKER_REVIEW_REFRESH_DLQ_URL: '',
      },
    });
    workers.push(worker);
    const started = worker.logs.find((l) => l.msg === 'worker started');
    expect(typeof started?.workerId).toBe('string');
    return { worker, id: started!.workerId as string };
  };
  const of = (id: string) => heard.filter((h) => h.worker === id);

  it('announces a stable id every interval and says "leaving" last on SIGTERM; its silence then distrusts nothing', async () => {
    // Act
    const { worker, id } = await start();
    await eventually(() => (of(id).length >= 6 ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 20,
      what: 'six presence messages',
    });
    const stopped = await worker.stop('SIGTERM');
    const stoppedAt = performance.now();

    // Assess: one id, about one message per interval, "leaving" exactly once and last
    expect(stopped.code).toBe(0);
    const mine = of(id);
    expect(mine.at(-1)?.leaving).toBe(true);
    expect(mine.filter((h) => h.leaving)).toHaveLength(1);
    const gaps = mine.slice(1, -1).map((h, i) => h.at - mine[i]!.at);
    console.log(
      `worker presence: ${mine.length} messages from ${id}, gaps p50 ${gaps.sort((a, b) => a - b)[gaps.length >> 1]?.toFixed(0)} ms`,
    );
    expect(gaps.filter((g) => g > INTERVAL_MS / 2).length).toBeGreaterThan(gaps.length / 2);
    // Silent for longer than the threshold: still trusted (it drained, it holds nothing)
    while (performance.now() - stoppedAt < SILENT_AFTER_MS + 2 * INTERVAL_MS) {
      expect(presence.unproven()).toBe(false);
      await new Promise((r) => setTimeout(r, 20));
    }
  }, 60_000);

  it('on SIGKILL, a listener distrusts from a few missed intervals until last presence + visibility + heartbeat + margin', async () => {
    // Prepare
    const { worker, id } = await start();
    await eventually(() => (of(id).length >= 3 ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 20,
      what: 'three presence messages',
    });
    expect(presence.unproven()).toBe(false);

    // Act
    worker.proc.kill('SIGKILL');
    const killedAt = performance.now();
    let first: number | undefined;
    let last: number | undefined;
    while (performance.now() - killedAt < HAND_OVER_MS + 1_000) {
      if (presence.unproven()) {
        first ??= performance.now();
        last = performance.now();
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const lastHeard = of(id).at(-1)!;

    // Assess: no "leaving"; distrust began after the silence threshold, ended with the span
    expect(lastHeard.leaving).toBe(false);
    expect(first).toBeDefined();
    const began = first! - lastHeard.at;
    const ended = last! - lastHeard.at;
    console.log(
      `worker presence: SIGKILL; last presence ${(killedAt - lastHeard.at).toFixed(0)} ms before the kill, distrusted from +${began.toFixed(0)} to +${ended.toFixed(0)} ms after it (threshold ${SILENT_AFTER_MS}, span ${HAND_OVER_MS})`,
    );
    // A 20 ms poll can see the change late, never early: these two bounds are tight.
    expect(began).toBeGreaterThan(SILENT_AFTER_MS - 50); // the listener's receipt is a few ms after the raw one
    expect(ended).toBeLessThan(HAND_OVER_MS + 100);
    // A stall of the runner moves these two (a sample late, the last one early): loose here,
    // and exact on the set clock below.
    expect(began).toBeLessThan(SILENT_AFTER_MS + 1_500);
    expect(ended).toBeGreaterThan(HAND_OVER_MS - 1_500);
    expect(presence.unproven()).toBe(false);
    // Exact: trusted up to the threshold after the listener last heard the worker, distrusted
    // just past it and up to the span, trusted just past the span (in time order).
    const heardAt = listenerHeardAt.get(id)!;
    const judged = [SILENT_AFTER_MS - 1, SILENT_AFTER_MS + 1, HAND_OVER_MS - 1, HAND_OVER_MS + 1].map(
      (ms) => {
        exactNow = heardAt + ms;
        return exact.unproven();
      },
    );
    expect(judged).toEqual([false, true, true, false]);
  }, 60_000);
});
