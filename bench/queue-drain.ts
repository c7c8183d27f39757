/**
 * How fast a backlog drains from a LocalStack queue, by consumer and receive concurrency,
 * interleaved so machine load weighs on every variant alike (issue 13 item 4, "pollers per
 * queue, receive concurrency"):
 *
 *   node bench/queue-drain.ts [--backlog 2000] [--rounds 3] [--raw 2,8] [--pollers 2,8] [--waits 20]
 *                             [--attrs 8] [--idle 8] [--cpu-prof DIR]
 *
 * Each round, for each variant: `--backlog` product events are published to a private catalog
 * topic while nothing consumes (test/support/private-messaging.ts), the queue is seen holding
 * them, then the consumer starts; rate = (events - 1) / (last completion - first completion).
 *   raw N      N loops of ReceiveMessage(10) + DeleteMessageBatch, nothing else;
 *   rawattr N  the same, receiving as the worker does (every message attribute, SentTimestamp
 *              and ApproximateReceiveCount, a VisibilityTimeout): LocalStack's cost of those;
 *   rawidle N  raw N while 8 idle 20 s long polls wait on each other queue, as a worker's do;
 *   worker P/W one worker process (src/cli/worker.ts) with WORKER_POLLERS_PER_QUEUE=P and
 *              WORKER_WAIT_TIME_S=W (20 as deployed, 1 as the tests run it), on a private
 *              redis-server; completion = its broadcast.
 * The raw variants also print their mean receive and delete round trips. `--cpu-prof DIR`
 * runs the workers with `node --cpu-prof` into DIR (the profile covers start-up too).
 * SNS publish time is out of the figure: the backlog is in the queue before the clock starts.
 * After a worker stops, the next backlog waits out its aborted long polls (see
 * `outliveAbortedPolls`): they would otherwise take messages into flight for 30 s.
 */
import { parseArgs } from 'node:util';
import { PublishBatchCommand } from '@aws-sdk/client-sns';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type ReceiveMessageCommandInput,
} from '@aws-sdk/client-sqs';
import { parseBroadcast } from '../src/adapters/redis/broadcast-message.ts';
import { queueDepth, snsClient, sqsClient } from '../test/support/aws.ts';
import { privateMessaging } from '../test/support/private-messaging.ts';
import { startPrivateRedis } from '../test/support/private-redis.ts';
import { stack } from '../test/support/stack.ts';
import { startWorkerProcess } from '../test/support/worker-process.ts';
import { benchNamespace } from './worker/bench-keys.ts';
import { productEvent } from './worker/product-events.ts';
import { loadAverage, machine, median } from './worker/stats.ts';

const { values: args } = parseArgs({
  options: {
    backlog: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    raw: { type: 'string', default: '2,8' },
    pollers: { type: 'string', default: '2,8' },
    waits: { type: 'string', default: '20' },
    // raw loops that receive as the worker does (attributes, visibility timeout), to split
    // LocalStack's cost of an attribute-heavy receive from the worker's own
    attrs: { type: 'string', default: '' },
    // raw loops while 8 idle 20 s long polls wait on each other queue, as a worker's do
    idle: { type: 'string', default: '' },
    // a directory: the workers run with --cpu-prof into it
    'cpu-prof': { type: 'string', default: '' },
  },
});
const backlog = Number(args.backlog);
const rounds = Number(args.rounds);
const variants = [
  ...args.raw.split(',').map((n) => ({ kind: 'raw' as const, n: Number(n), attrs: false, idle: false })),
  ...(args.attrs === '' ? [] : args.attrs.split(',')).map((n) => ({
    kind: 'raw' as const,
    n: Number(n),
    attrs: true,
    idle: false,
  })),
  ...(args.idle === '' ? [] : args.idle.split(',')).map((n) => ({
    kind: 'raw' as const,
    n: Number(n),
    attrs: false,
    idle: true,
  })),
  ...args.pollers
    .split(',')
    .flatMap((n) => args.waits.split(',').map((w) => ({ kind: 'worker' as const, n: Number(n), waitS: w }))),
];
const log = (line = '') => console.log(line);
const sns = snsClient();
const sqs = sqsClient();
const m = machine();
log(`Queue drain by consumer (issue 13) — ${new Date().toISOString()}`);
log(`machine: ${m.cpus} CPUs, ${m.model}; Node ${m.node}; load average ${loadAverage()}`);

const messaging = await privateMessaging({ visibilityTimeoutSeconds: 30 });
const redis = await startPrivateRedis();
const namespace = benchNamespace();
const subscriber = redis.client.duplicate();
const done = new Map<string, number>();
await subscriber.subscribe(`${namespace}:l1`);
subscriber.on('message', (_c: string, raw: string) => {
  const b = parseBroadcast(raw);
  if (b?.type === 'invalidate') for (const id of b.eventIds) if (!done.has(id)) done.set(id, b.publishedAtMs);
});
const queueUrl = messaging.queues.catalog.url;
let index = 0;

async function publishBacklog(): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < backlog) {
        const n = Math.min(10, backlog - next);
        next += n;
        const chunk = Array.from({ length: n }, () => productEvent(index++));
        const res = await sns.send(
          new PublishBatchCommand({
            TopicArn: messaging.topics.catalog,
            PublishBatchRequestEntries: chunk.map((e, i) => ({
              Id: String(i),
              Message: JSON.stringify(e),
              MessageAttributes: { eventType: { DataType: 'String', StringValue: e.type } },
            })),
          }),
        );
        if ((res.Failed ?? []).length > 0) throw new Error('publish failed');
        ids.push(...chunk.map((e) => e.eventId));
      }
    }),
  );
  // The clock starts only once SQS holds the whole backlog.
  const deadline = Date.now() + 120_000;
  while ((await queueDepth(sqs, queueUrl)) < backlog && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  return ids;
}

/** What the worker's pollers add to a receive (src/worker/queue-pollers.ts). */
const WORKER_RECEIVE: Partial<ReceiveMessageCommandInput> = {
  MessageAttributeNames: ['All'],
  MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
  VisibilityTimeout: 30,
};

/** Per raw variant: milliseconds of each ReceiveMessage that returned messages, and of each delete. */
const rawCalls = new Map<string, { receive: number[]; del: number[] }>();

/** 8 idle long polls on each queue but the catalog one, as a worker's other pollers; resolves at stop. */
function idlePolls(signal: AbortSignal): Promise<unknown> {
  const others = Object.entries(messaging.queues).filter(([name]) => name !== 'catalog');
  return Promise.allSettled(
    others.flatMap(([, q]) =>
      Array.from({ length: 8 }, async () => {
        while (!signal.aborted)
          await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: q.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 }),
            { abortSignal: signal },
          );
      }),
    ),
  );
}

async function drainRaw(
  name: string,
  loops: number,
  opts: { attrs: boolean; idle: boolean },
  ids: readonly string[],
): Promise<void> {
  const calls = rawCalls.get(name) ?? { receive: [], del: [] };
  rawCalls.set(name, calls);
  const idleStop = new AbortController();
  const idle = opts.idle ? idlePolls(idleStop.signal) : Promise.resolve();
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const began = performance.now();
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          ...(opts.attrs ? WORKER_RECEIVE : {}),
        }),
      );
      const received = performance.now();
      const messages = res.Messages ?? [];
      if (messages.length === 0) continue;
      calls.receive.push(received - began);
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((x, i) => ({ Id: String(i), ReceiptHandle: x.ReceiptHandle })),
        }),
      );
      calls.del.push(performance.now() - received);
      const at = Date.now();
      for (const x of messages) {
        const id = (JSON.parse(x.Body ?? '{}') as { eventId?: string }).eventId;
        if (id !== undefined && !done.has(id)) done.set(id, at);
      }
    }
  };
  const running = Array.from({ length: loops }, loop);
  await waitDone(ids);
  stop = true;
  await Promise.all(running);
  idleStop.abort();
  await idle;
  if (opts.idle) await outliveAbortedPolls(20);
}

async function drainWorker(pollers: number, waitS: string, ids: readonly string[]): Promise<void> {
  const worker = await startWorkerProcess({
    messaging,
    namespace,
    redisMode: 'standalone',
    redisAddresses: `127.0.0.1:${redis.port}`,
    env: {
      WORKER_POLLERS_PER_QUEUE: String(pollers),
      WORKER_WAIT_TIME_S: waitS,
      WORKER_ORIGIN_URL: stack().origin.url,
      ...(args['cpu-prof'] === '' ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${args['cpu-prof']}` }),
    },
  });
  try {
    await waitDone(ids);
  } finally {
    await worker.stop();
    await outliveAbortedPolls(Number(waitS));
  }
}

/**
 * A stopped worker aborts its idle long polls, but LocalStack keeps each one open until its
 * wait time ends: a message published meanwhile is handed to the dead poll and stays in flight
 * for the visibility timeout (30 s). The next backlog waits until those polls are over.
 */
async function outliveAbortedPolls(waitS: number): Promise<void> {
  await new Promise((r) => setTimeout(r, (waitS + 1) * 1000));
}

async function waitDone(ids: readonly string[]): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (ids.some((id) => !done.has(id)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
}

const rates = new Map<string, number[]>();
let exitCode = 0;
try {
  for (let r = 1; r <= rounds; r++) {
    const line: string[] = [];
    for (const v of variants) {
      const name =
        v.kind === 'raw'
          ? `${v.attrs ? 'rawattr' : v.idle ? 'rawidle' : 'raw'} ${v.n}`
          : `worker ${v.n}/${v.waitS}s`;
      const ids = await publishBacklog();
      if (v.kind === 'raw') await drainRaw(name, v.n, v, ids);
      else await drainWorker(v.n, v.waitS, ids);
      const times = ids.map((id) => done.get(id)).filter((t) => t !== undefined);
      if (times.length !== ids.length) exitCode = 1;
      const rate = ((times.length - 1) / (Math.max(...times) - Math.min(...times))) * 1000;
      rates.set(name, [...(rates.get(name) ?? []), rate]);
      line.push(`${name}: ${rate.toFixed(0)}/s`);
    }
    log(`round ${r}: ${line.join(', ')}   (load ${loadAverage()})`);
  }
  log();
  const base = median(
    rates.get(`raw ${variants.find((v) => v.kind === 'raw' && !v.attrs)?.n}`) ?? [Number.NaN],
  );
  for (const [name, xs] of rates)
    log(
      `${name.padEnd(10)} median ${median(xs).toFixed(0).padStart(5)}/s (${xs.map((x) => x.toFixed(0)).join(', ')})  ${(median(xs) / base).toFixed(2)} x the first raw variant`,
    );
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const [name, c] of rawCalls)
    log(
      `${name.padEnd(10)} per call: receive (with messages) mean ${mean(c.receive).toFixed(1)} ms, DeleteMessageBatch mean ${mean(c.del).toFixed(1)} ms`,
    );
  log(`DLQ depth ${await queueDepth(sqs, messaging.queues.catalog.dlqUrl)}`);
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  subscriber.disconnect();
  await redis.stop();
  await messaging.teardown().catch(() => undefined);
  sns.destroy();
  sqs.destroy();
}
process.exitCode = exitCode;
