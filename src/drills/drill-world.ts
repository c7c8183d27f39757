/**
 * One repetition's world: a private Redis Sentinel group (src/local/private-sentinel-group.ts),
 * a private origin simulator publishing to the drill's private topics, the worker fleet
 * (real processes), the demo Orchestrator's readers under load with their read traces, the
 * event publisher, the apply tap and a once-a-second sampler (fleet readiness and RSS,
 * origin calls). Nothing here touches the shared stack's Redis or queues: LocalStack is
 * shared, but only through the drill's own topics and queues.
 *
 * Optional network paths (Toxiproxy, network-faults.ts) sit between the WORKERS and Redis or
 * LocalStack; the readers, the origin simulator and the drill's own probes go direct.
 */
import { mkdirSync } from 'node:fs';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { readQueueDepth } from '../adapters/sqs/queue-depth.ts';
import { decodeStored } from '../client/cached-value.ts';
import type { ReadFamily } from '../client/cache-client.ts';
import type { HistoryInput } from '../consistency/read-staleness.ts';
import { parseEventMessage } from '../core/events/parse-event-message.ts';
import { asQueueUrl } from '../core/identifiers.ts';
import { createKeyBuilder, DEFAULT_LOCALES } from '../core/key-builder.ts';
import { parseKey } from '../core/key-parser.ts';
import type { HostPort } from '../local/endpoint-proxy.ts';
import type { LocalStackDescription } from '../local/env-file.ts';
import { LOCAL_REDIS_FILES } from '../local/local-redis.ts';
import { localWorkerEnv, redisAccessEnv } from '../local/local-worker-env.ts';
import {
  startPrivateSentinelGroup,
  type PrivateSentinelGroup,
  type SentinelProfile,
} from '../local/private-sentinel-group.ts';
import { createOriginSimulator, type OriginSimulator } from '../origin-sim/origin-simulator.ts';
import type { DeployedMessaging } from '../../infra/lib/messaging/deploy-messaging-locally.ts';
import { pino } from 'pino';
import { startAuditor, type Auditor } from '../auditor/index.ts';
import { startApplyTap, type ApplyTap } from './apply-tap.ts';
import type { ReaderMode } from '../orchestrator-sim/reader-settings.ts';
import { startEventLoad, type EventLoad } from './event-load.ts';
import type { NetworkFaults, NetworkPath } from './network-faults.ts';
import { startReaderFleet, type ReaderFleet, type TracedRead } from './reader-fleet.ts';
import { startWorkerFleet, type WorkerFleet } from './worker-fleet.ts';

export interface WorldOptions {
  readonly stack: LocalStackDescription;
  readonly messaging: DeployedMessaging;
  readonly profile: SentinelProfile;
  /** Sentinel down-after (default: the profile's). */
  readonly downAfterMs?: number;
  readonly workers: number;
  readonly readers: number;
  /** Reads per second, all readers together. */
  readonly readsPerS: number;
  readonly eventsPerS: number;
  /** Readers with an L1 (default) or without (every read reaches Redis). */
  readonly l1: boolean;
  /** The readers' design (src/scenarios/designs.ts `reader`); default the cache client. */
  readonly readerMode?: ReaderMode;
  /**
   * The drill's origin budget (calls/s per endpoint in any second): the readers' cache client
   * enforces it, less a 10 % margin (decision 0022). Unset: no client-side budget.
   */
  readonly originBudgetPerS?: number;
  /** The lag window the drill judges stale reads by: caps the readers' guard windows. */
  readonly lagWindowMs?: number;
  /** The workers' pipeline canary interval and the readers' guard (decision 0022). Default 250; 0: off. */
  readonly canaryIntervalMs?: number;
  /** Workers reach Redis through this fault path's factory (Toxiproxy), else directly. */
  readonly redisFaults?: NetworkFaults;
  /** Workers reach LocalStack through a fault path, else directly. */
  readonly localstackFaults?: NetworkFaults;
  readonly workerEnv?: Record<string, string>;
  readonly traceDir: string;
  readonly seed: number;
  readonly catalogSize: number;
  readonly users: number;
}

export interface TimelineSample {
  readonly t: number;
  readonly aliveWorkers: number;
  readonly readyWorkers: number;
  readonly rssMiB: readonly number[];
  /** Origin calls started since the previous sample, all endpoints. */
  readonly originCalls: number;
}

export interface AtRest {
  readonly valueKeys: number;
  /** Values older than the origin's latest version, still in L2 after the queues drained. */
  readonly resurrected: { key: string; family: ReadFamily; id: string; stored: number; latest: number }[];
}

export interface World {
  readonly namespace: string;
  readonly group: PrivateSentinelGroup;
  readonly origin: { readonly url: string; readonly sim: OriginSimulator };
  readonly fleet: WorkerFleet;
  readonly readers: ReaderFleet;
  readonly load: EventLoad;
  readonly tap: ApplyTap;
  readonly auditor: Auditor;
  readonly redisPath?: NetworkPath;
  readonly localstackPath?: NetworkPath;
  readonly timeline: TimelineSample[];
  readonly expectedWorkers: () => number;
  setExpectedWorkers(n: number): void;
  /** A client on the current primary (for fault injection and checks); the caller disconnects it. */
  primaryClient(): Redis;
  /** Visible + in-flight messages over the event queues. */
  queueDepth(): Promise<number>;
  /** Sets DelaySeconds of the event queues (SQS holds every message sent from now that long). */
  setQueueDelay(seconds: number): Promise<void>;
  /** Receives and deletes every DLQ message; how many parse as valid events. */
  drainDeadLetters(): Promise<{ total: number; valid: number }>;
  /** Origin calls: per-endpoint peak over any 1 s window since the last reset, and totals. */
  originStats(): Promise<{ peakPerS: number; calls: number; byEndpoint: Record<string, number> }>;
  resetOriginStats(): Promise<void>;
  /** The origin's version history (`GET /_sim/history`), for the read-staleness check. */
  originHistory(): Promise<HistoryInput>;
  /** Stops the readers and returns their reads. */
  stopReaders(): Promise<TracedRead[]>;
  atRest(): Promise<AtRest>;
  close(): Promise<void>;
}

const SAMPLE_MS = 1_000;
/** The auditor's windows after an event's origin time: the lag window, then a late look. */
export const AUDIT_WINDOWS_MS: readonly number[] = [2_000, 5_000];
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const hp = (a: HostPort) => `${a.host}:${a.port}`;

export async function startWorld(o: WorldOptions): Promise<World> {
  const namespace = `dr${o.seed.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const canaryIntervalMs = o.canaryIntervalMs ?? 250;
  mkdirSync(o.traceDir, { recursive: true });
  const cleanups: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    const group = await startPrivateSentinelGroup({
      profile: o.profile,
      ...(o.downAfterMs === undefined ? {} : { downAfterMs: o.downAfterMs }),
    });
    cleanups.push(() => group.stop());

    const sim = createOriginSimulator({
      topics: { ...o.messaging.topics },
      sns: { endpoint: o.stack.localstack.endpoint, region: o.stack.region, credentials },
    });
    const originUrl = await sim.listen(0);
    cleanups.push(() => sim.close());

    const keys = createKeyBuilder({ namespace });
    const channel = keys.l1Channel().channel;
    const tap = await startApplyTap(
      group.nodes().map((n) => ({ host: n.host, port: n.port })),
      channel,
      group.access.node,
    );
    cleanups.push(() => tap.close());

    // Where each side reaches Redis: Sentinel in the fast profile; the primary endpoint
    // (standalone, a DNS name in AWS) in the ElastiCache-like one or behind a fault path.
    const redisPath = o.redisFaults
      ? await o.redisFaults.path(`redis-${namespace}`, group.endpoint)
      : undefined;
    const readerRedis =
      o.profile === 'fast'
        ? { mode: 'sentinel' as const, sentinels: [...group.sentinels], name: group.masterName }
        : { mode: 'standalone' as const, ...group.endpoint };
    const workerRedis: Record<string, string> = redisPath
      ? { REDIS_MODE: 'standalone', REDIS_ADDRESSES: hp(redisPath.listen) }
      : o.profile === 'fast'
        ? {
            REDIS_MODE: 'sentinel',
            REDIS_ADDRESSES: group.sentinels.map(hp).join(','),
            REDIS_SENTINEL_NAME: group.masterName,
          }
        : { REDIS_MODE: 'standalone', REDIS_ADDRESSES: hp(group.endpoint) };
    const lsUrl = new URL(o.stack.localstack.endpoint);
    const localstackPath = o.localstackFaults
      ? await o.localstackFaults.path(`ls-${namespace}`, { host: lsUrl.hostname, port: Number(lsUrl.port) })
      : undefined;

    const local: LocalStackDescription = {
      ...o.stack,
      topics: { ...o.messaging.topics },
      queues: { ...o.messaging.queues },
      origin: { url: originUrl },
    };
    const env = localWorkerEnv(local, {
      redisMode: 'standalone',
      adminPort: 0,
      overrides: {
        REDIS_KEY_NAMESPACE: namespace,
        // debug: an "invalidation applied" line per event, the drill's second witness of an
        // apply beside the broadcast tap (run-drills.ts witnessedApplied).
        WORKER_LOG_LEVEL: 'debug',
        WORKER_WAIT_TIME_S: '1',
        REDIS_COMMAND_TIMEOUT_MS: '1000',
        ...redisAccessEnv(group.access.tuning),
        ...workerRedis,
        ...(localstackPath ? { AWS_ENDPOINT_URL: `http://${hp(localstackPath.listen)}` } : {}),
        // The pipeline canary (decision 0022), on the drill's own topics.
        WORKER_CATALOG_TOPIC_ARN: o.messaging.topics.catalog,
        WORKER_PROMOTIONS_TOPIC_ARN: o.messaging.topics.promotions,
        WORKER_SESSIONS_TOPIC_ARN: o.messaging.topics.sessions,
        WORKER_CANARY_INTERVAL_MS: String(canaryIntervalMs),
        ...o.workerEnv,
      },
    });
    if (workerRedis.REDIS_MODE !== 'sentinel') delete env.REDIS_SENTINEL_NAME;
    const fleet = await startWorkerFleet(env, o.workers, o.traceDir);
    cleanups.push(() => fleet.stop());
    let expected = o.workers;

    const readers = await startReaderFleet(
      {
        mode: o.readerMode ?? 'client',
        rate: o.readsPerS / o.readers,
        maxInFlight: 256,
        skew: 1,
        catalogSize: o.catalogSize,
        users: o.users,
        redis: readerRedis,
        ...(group.access.tls
          ? {
              redisAccess: {
                tls: { caFile: LOCAL_REDIS_FILES.ca },
                passwordFile: LOCAL_REDIS_FILES.password,
              },
            }
          : {}),
        namespace,
        locales: [...DEFAULT_LOCALES],
        tenant: 'default',
        originUrl,
        l1Entries: o.l1 ? 10_000 : 0,
        hotnessSampleEvery: 0,
        durationS: 0,
        seed: o.seed,
        canaryIntervalMs,
        ...(o.lagWindowMs === undefined ? {} : { lagWindowMs: o.lagWindowMs }),
        ...(o.originBudgetPerS === undefined
          ? {}
          : { originBudgetPerS: Math.floor(o.originBudgetPerS * 0.9), budgetProcesses: o.readers }),
      },
      o.readers,
      o.traceDir,
    );
    cleanups.push(async () => void (await readers.stop()));

    // The consistency auditor (issue 13) is told every event as it is published and reads
    // the primary, the replica and every reader's L1 at its windows after the origin time.
    const auditor = await startAuditor({
      redis: group.redisConfig(o.profile === 'fast' ? 'sentinel' : 'standalone'),
      ...(group.replica() ? { replica: group.replica() } : {}),
      namespace,
      locales: [...DEFAULT_LOCALES],
      readers: readers.adminPorts.map((p) => `http://127.0.0.1:${p}`),
      windowsMs: AUDIT_WINDOWS_MS,
      maxFindings: 100_000,
      origin: { url: originUrl },
      logger: pino({ level: 'silent' }),
    });
    cleanups.push(() => auditor.close());

    const load = startEventLoad({
      onPublished: (body) => auditor.observe(body),
      originUrl,
      eventsPerS: o.eventsPerS,
      catalogSize: o.catalogSize,
      users: o.users,
      skew: 1,
      seed: o.seed * 7 + 1,
    });
    cleanups.push(() => load.stop());

    const stats = async () => {
      const res = await fetch(`${originUrl}/_sim/stats`);
      return (await res.json()) as { calls: Record<string, number>; maxPerSecond: Record<string, number> };
    };
    const timeline: TimelineSample[] = [];
    let lastCalls = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const t = Date.now();
        const [f, s] = await Promise.all([fleet.sample(), stats().catch(() => undefined)]);
        const calls = s ? Object.values(s.calls).reduce((a, b) => a + b, 0) : lastCalls;
        timeline.push({
          t,
          aliveWorkers: f.alive,
          readyWorkers: f.ready,
          rssMiB: f.rssMiB,
          originCalls: Math.max(0, calls - lastCalls),
        });
        lastCalls = calls;
        await new Promise((r) => setTimeout(r, Math.max(0, SAMPLE_MS - (Date.now() - t))));
      }
    })();
    cleanups.push(async () => {
      sampling = false;
      await sampler;
    });

    const sqs = new SQSClient({ endpoint: o.stack.localstack.endpoint, region: o.stack.region, credentials });
    cleanups.push(() => sqs.destroy());
    const queues = Object.values(o.messaging.queues);

    const primaryClient = () => {
      const c = new Redis({
        ...group.access.node,
        ...group.primary(),
        maxRetriesPerRequest: 2,
        connectTimeout: 2_000,
      });
      c.on('error', () => undefined);
      return c;
    };

    return {
      namespace,
      group,
      origin: { url: originUrl, sim },
      fleet,
      readers,
      load,
      tap,
      auditor,
      ...(redisPath ? { redisPath } : {}),
      ...(localstackPath ? { localstackPath } : {}),
      timeline,
      expectedWorkers: () => expected,
      setExpectedWorkers: (n) => void (expected = n),
      primaryClient,
      async queueDepth() {
        const depths = await Promise.all(queues.map((q) => readQueueDepth(sqs, asQueueUrl(q.url))));
        return depths.reduce((a, b) => a + b, 0);
      },
      async setQueueDelay(seconds) {
        await Promise.all(
          queues.map((q) =>
            sqs.send(
              new SetQueueAttributesCommand({
                QueueUrl: q.url,
                Attributes: { DelaySeconds: String(seconds) },
              }),
            ),
          ),
        );
      },
      async drainDeadLetters() {
        let total = 0;
        let valid = 0;
        for (const q of queues) {
          for (;;) {
            const res = await sqs.send(
              new ReceiveMessageCommand({ QueueUrl: q.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
            );
            const msgs = res.Messages ?? [];
            if (msgs.length === 0) break;
            for (const m of msgs) {
              total++;
              if (parseEventMessage(m.Body ?? '').ok) valid++;
            }
            await sqs.send(
              new DeleteMessageBatchCommand({
                QueueUrl: q.dlqUrl,
                Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
              }),
            );
          }
        }
        return { total, valid };
      },
      async originStats() {
        const s = await stats();
        return {
          peakPerS: Math.max(0, ...Object.values(s.maxPerSecond)),
          calls: Object.values(s.calls).reduce((a, b) => a + b, 0),
          byEndpoint: s.maxPerSecond,
        };
      },
      async resetOriginStats() {
        await fetch(`${originUrl}/_sim/reset`, { method: 'POST' }).then((r) => r.body?.cancel());
        lastCalls = 0;
      },
      async originHistory() {
        const res = await fetch(`${originUrl}/_sim/history`);
        return (await res.json()) as HistoryInput;
      },
      stopReaders: () => readers.stop(),
      async atRest() {
        const c = primaryClient();
        try {
          const resurrected: AtRest['resurrected'] = [];
          let valueKeys = 0;
          const gens = new Map<string, string | null>();
          let cursor = '0';
          do {
            const [next, found] = await c.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
            cursor = next;
            for (const key of found) {
              const parsed = parseKey(key, namespace);
              if (parsed?.kind !== 'value') continue;
              const raw = await c.get(key);
              if (raw === null) continue;
              const stored = decodeStored(raw);
              if (!stored?.found) continue;
              valueKeys++;
              if (parsed.family === 'reco') {
                // A reco value under an old generation is unreachable: not stale, just dead.
                const genKey = keys.fenceKey({ family: 'reco', tenant: parsed.tenant, id: parsed.id });
                if (!gens.has(genKey)) gens.set(genKey, await c.get(genKey));
                if (gens.get(genKey) !== String(parsed.generation)) continue;
              }
              const family = parsed.family;
              const latest = load.history.latest(family, parsed.id);
              if (stored.version < latest)
                resurrected.push({ key, family, id: parsed.id, stored: stored.version, latest });
            }
          } while (cursor !== '0');
          return { valueKeys, resurrected };
        } finally {
          c.disconnect();
        }
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
