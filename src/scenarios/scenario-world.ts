/**
 * The private world of one `npm run scenario` run, so nothing else on the machine is
 * disturbed: its own messaging topology in LocalStack (the same CDK construct as the stack,
 * under a random prefix, deleted at the end), and per design run its own Redis (a primary, a
 * replica and the endpoint in front of them, redis-nodes.ts), its own origin simulator (a
 * process, origin-process.ts: a fresh truth, every design starts at version 1) and its own
 * invalidator and readers.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudFormationClient, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { deployMessagingLocally } from '../../infra/lib/messaging/deploy-messaging-locally.ts';
import type { DeployedMessaging } from '../../infra/lib/messaging/deploy-messaging-locally.ts';
import { readQueueDepth } from '../adapters/sqs/queue-depth.ts';
import { asQueueUrl } from '../core/identifiers.ts';
import { DEFAULT_LOCALES } from '../core/key-builder.ts';
import { readLocalStack } from '../local/env-file.ts';
import type { LocalStackDescription } from '../local/env-file.ts';
import type { ReaderSettings } from '../orchestrator-sim/reader-settings.ts';
import type { SimConfigPatch } from '../origin-sim/sim-config.ts';
import type { Design } from './designs.ts';
import { startOriginProcess } from './origin-process.ts';
import type { OriginProcess } from './origin-process.ts';
import { startReaders, startScenarioWorker } from './fleet-processes.ts';
import type { ReaderGroup, ScenarioWorker } from './fleet-processes.ts';
import { LOCAL_REDIS_FILES, privateAccess } from '../local/local-redis.ts';
import { createKeyBuilder } from '../core/key-builder.ts';
import { startApplyTap } from '../drills/apply-tap.ts';
import type { ApplyTap } from '../drills/apply-tap.ts';
import type { ChangeRecord } from './stale-read-split.ts';
import { startRedisEndpoint, startRedisNode, waitForReplicaInSync } from './redis-nodes.ts';
import type { RedisEndpoint, RedisNode } from './redis-nodes.ts';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface ScenarioWorld {
  readonly stack: LocalStackDescription;
  readonly messaging: DeployedMessaging;
  readonly sqs: SQSClient;
  /** Where this run's read traces go. */
  readonly dir: string;
  /** Visible + in-flight messages over the consumer queues. */
  queueDepth(): Promise<number>;
  /** Receives and deletes whatever is left on the queues (a design's leftovers). */
  drainQueues(): Promise<number>;
  teardown(): Promise<void>;
}

export async function createScenarioWorld(options: { envFile: string; dir: string }): Promise<ScenarioWorld> {
  const stack = readLocalStack(options.envFile);
  const prefix = `scn-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const messaging = await deployMessagingLocally({
    endpoint: stack.localstack.endpoint,
    region: stack.region,
    stackName: `${prefix}-messaging`,
    namePrefix: prefix,
  });
  const sqs = new SQSClient({
    endpoint: stack.localstack.endpoint,
    region: stack.region,
    credentials: CREDENTIALS,
  });
  const urls = Object.values(messaging.queues).map((q) => asQueueUrl(q.url));
  mkdirSync(options.dir, { recursive: true });
  return {
    stack,
    messaging,
    sqs,
    dir: options.dir,
    async queueDepth() {
      const depths = await Promise.all(urls.map((u) => readQueueDepth(sqs, u)));
      return depths.reduce((a, b) => a + b, 0);
    },
    async drainQueues() {
      let drained = 0;
      for (const url of urls) {
        for (let empty = 0; empty < 2;) {
          const res = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
          );
          const msgs = res.Messages ?? [];
          if (msgs.length === 0) {
            empty++;
            continue;
          }
          drained += msgs.length;
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: url,
              Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
            }),
          );
        }
      }
      return drained;
    },
    async teardown() {
      sqs.destroy();
      const cfn = new CloudFormationClient({
        endpoint: stack.localstack.endpoint,
        region: stack.region,
        credentials: CREDENTIALS,
      });
      await cfn.send(new DeleteStackCommand({ StackName: messaging.stackName })).finally(() => cfn.destroy());
    },
  };
}

/** Runs the worker at each poll tick until the queues are empty: the Lambda that polls every 60 s. */
export class PollingInvalidator {
  readonly ticks: { readonly startedAt: number; readonly drainedAt: number }[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #startWorker: () => Promise<ScenarioWorker>;
  readonly #depth: () => Promise<number>;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(intervalMs: number, startWorker: () => Promise<ScenarioWorker>, depth: () => Promise<number>) {
    this.#startWorker = startWorker;
    this.#depth = depth;
    this.#timer = setInterval(() => {
      if (this.#running === undefined && !this.#closed)
        this.#running = this.#tick().finally(() => (this.#running = undefined));
    }, intervalMs);
  }

  async #tick(): Promise<void> {
    const startedAt = Date.now();
    const worker = await this.#startWorker();
    try {
      // The worker long-polls 1 s: give it one receive before trusting an empty depth.
      await sleep(1_500);
      while (!this.#closed && (await this.#depth()) > 0) await sleep(200);
    } finally {
      await worker.stop();
    }
    this.ticks.push({ startedAt, drainedAt: Date.now() });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#running;
  }
}

/** Everything one design's run owns. */
export interface DesignEnv {
  readonly design: Design;
  readonly namespace: string;
  readonly endpoint: RedisEndpoint;
  /** The current primary (after a lost node: its replacement). */
  primary: RedisNode;
  replica: RedisNode | undefined;
  readonly originUrl: string;
  readonly origin: OriginProcess;
  readonly worker: ScenarioWorker | undefined;
  readonly poller: PollingInvalidator | undefined;
  /** Trace directory of this run. */
  readonly traceDir: string;
  /** The demo Orchestrator's readers, ready, waiting for `start()`. */
  readonly group: ReaderGroup;
  /** Changes an entity at the origin (and publishes its event); returns the event. */
  change(body: Record<string, unknown>): Promise<{ event: { version: number; occurredAt: string } }>;
  /** Every change made through `change()`, with when the origin answered (after its SNS publish returned). */
  readonly changes: readonly ChangeRecord[];
  /**
   * The drills' apply tap on this design's Redis nodes (event-driven designs with the cache
   * client): event id -> Redis time of the broadcast that announced it applied.
   */
  readonly tap: ApplyTap | undefined;
  close(): Promise<void>;
}

export interface DesignEnvOptions {
  readonly world: ScenarioWorld;
  readonly design: Design;
  readonly story: string;
  readonly pollIntervalMs: number;
  readonly origin?: SimConfigPatch;
  readonly seed: number;
  readonly locales?: readonly string[];
  /**
   * Connect the worker and the readers through the endpoint (a story that replaces the node)
   * rather than to the primary directly. Default false: the endpoint's bytes pass through the
   * scenario process, one more hop that a starved CPU turns into Redis timeouts.
   */
  readonly viaEndpoint?: boolean;
  /** The readers: how many, and the story's settings over the design's defaults. */
  readonly readers: { readonly count: number; readonly settings: ReaderOverrides };
  /** The lag window the story judges reads by: caps our readers' pipeline guard windows. */
  readonly lagWindowMs?: number;
}

/**
 * The workers' pipeline canary interval for a design whose readers are our cache client fed
 * by the event-driven worker (decision 0022: the guard is part of our design; the other
 * designs' readers have none, and their workers publish no canaries).
 */
export const SCENARIO_CANARY_INTERVAL_MS = 250;

/** What a story sets of its readers (rate and duration at least). */
export type ReaderOverrides = Partial<ReaderSettings> & Pick<ReaderSettings, 'rate' | 'durationS'>;

/** Starts the design's Redis pair, origin, invalidator; resolves when ready to read. */
export async function startDesignEnv(o: DesignEnvOptions): Promise<DesignEnv> {
  const { world, design } = o;
  const namespace = `scn${randomBytes(3).toString('hex')}`;
  const traceDir = join(world.dir, o.story, design.name);
  mkdirSync(traceDir, { recursive: true });
  // Independent start-ups side by side: the machine is shared, waiting is the cost.
  const redisPair = (async () => {
    const primary = await startRedisNode();
    const replica = await startRedisNode({ replicaOf: primary.port });
    await waitForReplicaInSync(replica);
    return { primary, replica, endpoint: await startRedisEndpoint(primary.port) };
  })();
  const [{ primary, replica, endpoint }, origin] = await Promise.all([
    redisPair,
    startOriginProcess({
      topics: world.messaging.topics,
      sns: {
        endpoint: world.stack.localstack.endpoint,
        region: world.stack.region,
        credentials: CREDENTIALS,
      },
      ...(o.origin === undefined ? {} : { config: o.origin }),
    }),
    world.drainQueues(),
  ]);
  const originUrl = origin.url;
  const redisPort = o.viaEndpoint === true ? endpoint.port : primary.port;
  const guarded = design.reader === 'client' && design.invalidator === 'events';
  const canaryIntervalMs = guarded ? SCENARIO_CANARY_INTERVAL_MS : 0;
  const workerOf = () =>
    startScenarioWorker({
      stack: world.stack,
      messaging: world.messaging,
      namespace,
      redisPort,
      originUrl,
      logPath: join(traceDir, 'worker.log'),
      canaryIntervalMs,
    });
  const poller =
    design.invalidator === 'poll'
      ? new PollingInvalidator(o.pollIntervalMs, workerOf, () => world.queueDepth())
      : undefined;
  const locales = o.locales ?? DEFAULT_LOCALES;
  const readerSettings = (n: number, over: ReaderOverrides): ReaderSettings[] => {
    return Array.from({ length: n }, (_, index) => ({
      index,
      mode: design.reader,
      maxInFlight: 256,
      skew: 1.0,
      catalogSize: 10_000,
      users: 2_000,
      redis: { mode: 'standalone', host: '127.0.0.1', port: redisPort },
      // The private redis-server takes the local stack's TLS CA and password.
      redisAccess: { tls: { caFile: LOCAL_REDIS_FILES.ca }, passwordFile: LOCAL_REDIS_FILES.password },
      namespace,
      locales: [...locales],
      tenant: 'default',
      originUrl,
      adminPort: 0,
      l1Entries: design.l1 ? 10_000 : 0,
      hotnessSampleEvery: 0,
      tracePath: join(traceDir, `reader-${index}.jsonl`),
      // What each L1 heard and when (not .jsonl: the read analysis reads those as traces).
      ...(tapped && design.l1 ? { l1EventsPath: join(traceDir, `reader-${index}.l1.ndjson`) } : {}),
      seed: o.seed,
      ...(guarded
        ? { canaryIntervalMs, ...(o.lagWindowMs === undefined ? {} : { lagWindowMs: o.lagWindowMs }) }
        : {}),
      ...over,
    }));
  };
  // The worker and the readers start side by side; the readers wait for start().
  const tapped = design.invalidator === 'events' && design.reader === 'client';
  const tap = tapped
    ? await startApplyTap(
        [primary, replica].map((n) => ({ host: '127.0.0.1', port: n.port })),
        createKeyBuilder({ namespace, locales }).l1Channel().channel,
        privateAccess().node,
      )
    : undefined;
  const changes: ChangeRecord[] = [];
  const [worker, group] = await Promise.all([
    design.invalidator === 'events' ? workerOf() : Promise.resolve(undefined),
    startReaders(readerSettings(o.readers.count, o.readers.settings)),
  ]);
  const env: DesignEnv = {
    design,
    namespace,
    endpoint,
    primary,
    replica,
    originUrl,
    origin,
    worker,
    poller,
    traceDir,
    group,
    changes,
    tap,
    async change(body) {
      const requestedAtMs = Date.now();
      const res = await fetch(`${originUrl}/_sim/change`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { event: { version: number; occurredAt: string }; message?: string };
      if (!res.ok) throw new Error(`origin change answered ${res.status}: ${json.message ?? ''}`);
      const e = json.event as { eventId?: unknown; version: number; occurredAt: string };
      if (typeof e.eventId === 'string')
        changes.push({
          eventId: e.eventId,
          family: String(body.family),
          id: String(body.id),
          version: e.version,
          originAtMs: Date.parse(e.occurredAt),
          requestedAtMs,
          answeredAtMs: Date.now(),
          ...(Array.isArray(body.storeSections) ? { sections: body.storeSections.map(String) } : {}),
        });
      return json;
    },
    async close() {
      await group.stop();
      tap?.close();
      await poller?.close();
      await worker?.stop();
      await origin.close();
      await endpoint.close();
      await Promise.all([env.primary.stop(), env.replica?.stop(), primary.stop(), replica.stop()]);
    },
  };
  return env;
}
