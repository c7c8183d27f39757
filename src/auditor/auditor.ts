/**
 * The consistency auditor: what Polaris does for TAO, for this fleet. It takes in a sample of
 * the invalidation events (from a queue of its own on the same topics, independent of the
 * workers), and at fixed windows after each event's origin time (1 s, 10 s, 60 s by default)
 * reads every tier that may hold the event's entities: the Redis primary, the replica when
 * asked, the L1 of read-side processes. A value older than the event (staleness-rule.ts) is a
 * flag; the flag is read again after a short delay and counted only if it is still there, so
 * a fill or a delete in flight is not a false alarm. Confirmed findings carry the key, tier,
 * stored and event versions and the age. Consistency is counted per family and window
 * (consistency-tally.ts) and exported as Prometheus series and, in AWS, EMF.
 *
 * Load: a few GETs per entity and window on each tier; on the origin, at most
 * `origin.ratePerSecond` calls (promo versions, origin-versions.ts), or none.
 * Lifecycle: `close()` is idempotent and runs every step: stop polling, cancel the checks
 * not yet due, wait for the running ones, close the admin server and the Redis connections.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { pino, type Logger } from 'pino';
import { loadAdminToken } from '../admin/admin-token.ts';
import {
  createRedisConnection,
  redisOptions,
  type ConnectionTuning,
  type HostPort,
  type RedisConfig,
  type RedisConnection,
} from '../adapters/redis/redis-connection.ts';
import { createSqsClient, type AwsSettings } from '../adapters/sqs/sqs-client.ts';
import { parseEventMessage } from '../core/events/parse-event-message.ts';
import { createKeyBuilder } from '../core/key-builder.ts';
import { startAdminServer } from '../worker/admin-server.ts';
import { QueuePollers } from '../worker/queue-pollers.ts';
import { auditEmfLine } from './audit-emf.ts';
import { auditTargets, type AuditTarget } from './audit-target.ts';
import { AuditorMetrics } from './auditor-metrics.ts';
import { ConsistencyTally, windowLabel, type WindowTally } from './consistency-tally.ts';
import { OriginVersions } from './origin-versions.ts';
import { judge, type Expectation, type StaleRule } from './staleness-rule.ts';
import { l1Tier, redisTier, type Tier, type TierReader, type TierReading } from './tier-readers.ts';

/** Defaults of {@link AuditorOptions}. */
export const AUDITOR_DEFAULTS = {
  windowsMs: [1_000, 10_000, 60_000],
  recheckDelayMs: 500,
  lateToleranceMs: 1_000,
  sampleRate: 1,
  maxPendingChecks: 20_000,
  maxFindings: 1_000,
  clockSkewMs: 0,
  tierTimeoutMs: 1_000,
  originRatePerSecond: 2,
  waitTimeS: 20,
  emfIntervalMs: 60_000,
} as const;

export interface AuditorOptions {
  /** The primary, exactly as the workers connect (standalone, Sentinel or cluster). */
  readonly redis: RedisConfig;
  /** Also read this replica (standalone address, the primary's tuning: TLS, AUTH). */
  readonly replica?: HostPort;
  /** REDIS_KEY_NAMESPACE and WORKER_LOCALES of the fleet. */
  readonly namespace?: string;
  readonly locales?: readonly string[];
  /** The auditor's own queue (subscribed to the topics, raw delivery). Absent: only `observe()`. */
  readonly queue?: { readonly url: string; readonly aws: AwsSettings; readonly waitTimeS?: number };
  /** Admin base URLs of read-side processes whose L1 is read (their `GET /l1`). */
  readonly readers?: readonly string[];
  /** The admin token: sent to the readers, required by the admin port; default `loadAdminToken()`. */
  readonly adminToken?: () => string;
  /** Windows after the origin time, ms. Default 1 s, 10 s, 60 s. */
  readonly windowsMs?: readonly number[];
  /** Delay before a flag is read again, ms. Default 500. */
  readonly recheckDelayMs?: number;
  /** A window already past by more than this when the event arrives is not checked. Default 1000. */
  readonly lateToleranceMs?: number;
  /** Fraction of events audited, 0..1, decided by event id. Default 1. */
  readonly sampleRate?: number;
  /** Checks waiting for their window at most; events past it are skipped (`backlog`). Default 20,000. */
  readonly maxPendingChecks?: number;
  /** Findings kept for `snapshot()` (the most recent). Default 1,000. */
  readonly maxFindings?: number;
  /** Clock skew allowed between the origin, the readers and Redis, ms. Default 0 (one machine). */
  readonly clockSkewMs?: number;
  /** Deadline of one tier read, ms. Default 1000. */
  readonly tierTimeoutMs?: number;
  /** The origin, for the versions an event does not carry (promo sections). Absent: never called. */
  readonly origin?: { readonly url: string; readonly ratePerSecond?: number };
  /** Serve `/healthz`, `/readyz`, `/metrics`, `/snapshot.json` on this port (0: any). Absent: none. */
  readonly adminPort?: number;
  readonly adminHost?: string;
  /** Write EMF lines (AuditChecks, AuditInconsistencies) every interval for this service. */
  readonly emf?: { readonly service: string; readonly intervalMs?: number };
  readonly logger?: Logger;
}

/** One confirmed inconsistency. */
export interface Finding {
  readonly eventId: string;
  readonly family: string;
  readonly tenant: string;
  readonly id: string;
  readonly key: string;
  readonly tier: Tier;
  /** The node or process read. */
  readonly source: string;
  readonly rule: StaleRule;
  /** What the tier holds (a generation for reco). */
  readonly storedVersion: number;
  /** The event's version. */
  readonly eventVersion: number;
  /** The lowest version the value may hold, when known (the event's, or the origin's for promo). */
  readonly expectedVersion?: number;
  readonly storedAtMs?: number;
  readonly originTimeMs: number;
  readonly windowMs: number;
  /** How long after the origin time the value was still there (at the re-check), ms. */
  readonly ageMs: number;
  readonly foundAt: string;
}

/** What the auditor has seen so far. */
export interface AuditSnapshot {
  readonly eventsSampled: number;
  readonly eventsSkipped: Readonly<Record<string, number>>;
  /** Checks made (entity x window) and those that found an inconsistency. */
  readonly checked: number;
  readonly inconsistent: number;
  /** Checks not made (late event, primary unreadable). */
  readonly missed: number;
  /** Flags the re-check found gone or fresh. */
  readonly flagsCleared: number;
  readonly tierErrors: number;
  /** Readings (first reads of a check) that found a value, per tier: what the checks had to judge. */
  readonly valuesSeen: Readonly<Record<string, number>>;
  /** Origin version reads by outcome (ok, budget, error). */
  readonly originReads: Readonly<Record<string, number>>;
  /** Checks waiting for their window. */
  readonly pending: number;
  /** family -> window label (`1s`) -> counts, ratio, nines. */
  readonly byFamilyWindow: Readonly<Record<string, Readonly<Record<string, WindowTally>>>>;
  /** The most recent findings, oldest first. */
  readonly findings: readonly Finding[];
}

/** A running auditor. */
export interface Auditor {
  snapshot(): AuditSnapshot;
  /** Takes in one message body (an SNS envelope or a raw event), as if it came from the queue. */
  observe(body: string): void;
  /** The admin port bound, when one was asked for. */
  readonly adminPort: number | undefined;
  readonly metrics: AuditorMetrics;
  /** Idempotent: a second call returns the first call's promise. */
  close(): Promise<void>;
}

/** Starts an auditor: connects the tiers, then takes in events. */
export async function startAuditor(options: AuditorOptions): Promise<Auditor> {
  const o = resolve(options);
  const logger = options.logger ?? pino({ level: 'info', base: { component: 'auditor' } });
  const keys = createKeyBuilder({
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.locales === undefined ? {} : { locales: options.locales }),
  });
  const metrics = new AuditorMetrics();
  const tally = new ConsistencyTally();
  const primary: RedisConnection = createRedisConnection(withName(options.redis, 'consistency-auditor'));
  primary.events.on('error', (err) => logger.debug({ err }, 'auditor redis error'));
  const replica =
    options.replica === undefined
      ? undefined
      : new Redis({
          ...redisOptions({ ...tuningOf(options.redis), connectionName: 'consistency-auditor-replica' }),
          host: options.replica.host,
          port: options.replica.port,
        });
  replica?.on('error', (err) => logger.debug({ err }, 'auditor replica error'));
  let token: string | undefined;
  const adminToken = (): string => (token ??= (options.adminToken ?? (() => loadAdminToken()))());
  const headers = (): Record<string, string> => ({ authorization: `Bearer ${adminToken()}` });
  const tiers: TierReader[] = [
    redisTier('primary', sourceOf(options.redis), primary.client),
    ...(replica === undefined || options.replica === undefined
      ? []
      : [redisTier('replica', `redis://${options.replica.host}:${options.replica.port}`, replica)]),
    ...(options.readers ?? []).map((url) => l1Tier({ url, headers, timeoutMs: o.tierTimeoutMs })),
  ];
  const origin =
    options.origin === undefined
      ? undefined
      : new OriginVersions({
          url: options.origin.url,
          ratePerSecond: options.origin.ratePerSecond ?? AUDITOR_DEFAULTS.originRatePerSecond,
          timeoutMs: o.tierTimeoutMs,
        });

  const seen = new LRUCache<string, true>({ max: 50_000 });
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const findings: Finding[] = [];
  const counts = {
    sampled: 0,
    skipped: {} as Record<string, number>,
    missed: 0,
    cleared: 0,
    tierErrors: 0,
    pending: 0,
    valuesSeen: {} as Record<string, number>,
    originReads: {} as Record<string, number>,
  };
  const emfCounts = { checks: 0, inconsistent: 0 };
  let closing: Promise<void> | undefined;

  const skip = (reason: string): void => {
    counts.skipped[reason] = (counts.skipped[reason] ?? 0) + 1;
    metrics.inc('auditEventsSkipped', { reason });
  };

  /** Reads every tier (only `only` keys per tier on a re-check); failures are counted. */
  async function readTiers(
    target: AuditTarget,
    only?: ReadonlyMap<TierReader, ReadonlySet<string>>,
  ): Promise<{ readings: { reader: TierReader; reading: TierReading }[]; primaryFailed: boolean }> {
    const chosen = only === undefined ? tiers : tiers.filter((t) => only.has(t));
    const results = await Promise.allSettled(
      chosen.map((t) => withTimeout(t.read(target, only?.get(t)), o.tierTimeoutMs)),
    );
    const readings: { reader: TierReader; reading: TierReading }[] = [];
    let primaryFailed = false;
    results.forEach((r, i) => {
      const reader = chosen[i]!;
      if (r.status === 'fulfilled') for (const reading of r.value) readings.push({ reader, reading });
      else {
        counts.tierErrors += 1;
        metrics.inc('auditTierErrors', { tier: reader.tier });
        if (reader.tier === 'primary') primaryFailed = true;
        logger.debug({ err: r.reason, tier: reader.tier, source: reader.source }, 'tier read failed');
      }
    });
    return { readings, primaryFailed };
  }

  async function check(
    target: AuditTarget,
    windowMs: number,
    expectation: Promise<Expectation>,
  ): Promise<void> {
    const window = windowLabel(windowMs);
    const labels = { family: target.family, window };
    const expected = await expectation;
    const first = await readTiers(target);
    if (first.primaryFailed) {
      counts.missed += 1;
      metrics.inc('auditChecksMissed', labels);
      return;
    }
    for (const { reading } of first.readings) {
      if (reading.observed.kind !== 'absent')
        counts.valuesSeen[reading.tier] = (counts.valuesSeen[reading.tier] ?? 0) + 1;
    }
    const flagged = first.readings.filter((r) => judge(r.reading.observed, expected).stale);
    const confirmed: { reading: TierReading; rule: StaleRule; storedVersion: number }[] = [];
    if (flagged.length > 0) {
      await sleep(o.recheckDelayMs);
      const only = new Map<TierReader, Set<string>>();
      for (const f of flagged) {
        const set = only.get(f.reader) ?? new Set<string>();
        set.add(f.reading.key);
        only.set(f.reader, set);
      }
      const again = await readTiers(target, only);
      const still = new Map(again.readings.map((r) => [`${r.reader.source} ${r.reading.key}`, r.reading]));
      for (const f of flagged) {
        const now = still.get(`${f.reader.source} ${f.reading.key}`);
        const verdict = now === undefined ? { stale: false as const } : judge(now.observed, expected);
        if (now !== undefined && verdict.stale) {
          confirmed.push({ reading: now, rule: verdict.rule, storedVersion: verdict.storedVersion });
        } else {
          counts.cleared += 1;
          metrics.inc('auditFlagsCleared', { family: target.family, tier: f.reading.tier });
        }
      }
    }
    const inconsistent = confirmed.length > 0;
    tally.record(target.family, window, inconsistent);
    metrics.inc('auditChecks', labels);
    metrics.consistency(tally, target.family, window);
    emfCounts.checks += 1;
    if (!inconsistent) return;
    emfCounts.inconsistent += 1;
    metrics.inc('auditInconsistentChecks', labels);
    const at = Date.now();
    for (const c of confirmed) {
      const observed = c.reading.observed;
      const finding: Finding = {
        eventId: target.eventId,
        family: target.family,
        tenant: target.tenant,
        id: target.id,
        key: c.reading.key,
        tier: c.reading.tier,
        source: c.reading.source,
        rule: c.rule,
        storedVersion: c.storedVersion,
        eventVersion: target.eventVersion,
        ...(expected.minVersion === undefined ? {} : { expectedVersion: expected.minVersion }),
        ...(observed.kind === 'value' && observed.storedAtMs !== undefined
          ? { storedAtMs: observed.storedAtMs }
          : {}),
        originTimeMs: target.originTimeMs,
        windowMs,
        ageMs: at - target.originTimeMs,
        foundAt: new Date(at).toISOString(),
      };
      metrics.inc('auditFindings', { family: target.family, tier: c.reading.tier });
      findings.push(finding);
      if (findings.length > o.maxFindings) findings.shift();
      logger.warn({ finding }, 'inconsistency: a tier holds a value older than its invalidation event');
    }
  }

  /** The expectation of a target: the event's version, or the origin's (within budget), or none. */
  async function expectationOf(target: AuditTarget): Promise<Expectation> {
    const base = { originTimeMs: target.originTimeMs, skewMs: o.clockSkewMs };
    if (target.judgedBy === 'event-version') return { ...base, minVersion: target.eventVersion };
    if (target.judgedBy === 'origin-version' && origin !== undefined) {
      const answer = await origin.version(target.family, target.id);
      metrics.inc('auditOriginReads', { outcome: answer.outcome });
      counts.originReads[answer.outcome] = (counts.originReads[answer.outcome] ?? 0) + 1;
      if (answer.version !== undefined) return { ...base, minVersion: answer.version };
    }
    return base;
  }

  function observe(body: string, attributes?: Readonly<Record<string, string | undefined>>): void {
    if (closing) return;
    const parsed = parseEventMessage(body, attributes);
    if (!parsed.ok) return skip('unparseable');
    const { event } = parsed;
    if (seen.has(event.eventId)) return skip('duplicate');
    seen.set(event.eventId, true);
    if (!sampled(event.eventId, o.sampleRate)) return skip('not-sampled');
    const targets = auditTargets(event, parsed.originTimeMs, keys);
    if (targets.length === 0) return skip('not-invalidation');
    if (counts.pending + targets.length * o.windowsMs.length > o.maxPendingChecks) return skip('backlog');
    counts.sampled += 1;
    metrics.inc('auditEventsSampled', { family: targets[0]!.family });
    const now = Date.now();
    for (const target of targets) {
      const expectation = expectationOf(target);
      for (const windowMs of o.windowsMs) {
        const due = target.originTimeMs + windowMs;
        if (now > due + o.lateToleranceMs) {
          counts.missed += 1;
          metrics.inc('auditChecksMissed', { family: target.family, window: windowLabel(windowMs) });
          continue;
        }
        counts.pending += 1;
        const timer = setTimeout(
          () => {
            timers.delete(timer);
            counts.pending -= 1;
            const run = check(target, windowMs, expectation)
              .catch((err: unknown) => logger.error({ err, eventId: target.eventId }, 'audit check failed'))
              .finally(() => running.delete(run));
            running.add(run);
          },
          Math.max(0, due - now),
        );
        timers.add(timer);
      }
    }
  }

  const pollers =
    options.queue === undefined
      ? undefined
      : new QueuePollers({
          name: 'auditor',
          queueUrl: options.queue.url,
          sqs: createSqsClient(options.queue.aws),
          pollers: 1,
          batchSize: 10,
          visibilityTimeoutS: 30,
          heartbeatIntervalS: 10,
          waitTimeS: options.queue.waitTimeS ?? AUDITOR_DEFAULTS.waitTimeS,
          // A sample: taken in and deleted at once (a crashed auditor loses checks, not events).
          handleBatch: (messages: Message[]) => {
            for (const m of messages) observe(m.Body ?? '', systemAttributes(m));
            return Promise.resolve(messages);
          },
          logger: logger.child({ component: 'auditor-intake' }),
        });

  function snapshot(): AuditSnapshot {
    const totals = tally.totals();
    return {
      eventsSampled: counts.sampled,
      eventsSkipped: { ...counts.skipped },
      checked: totals.checked,
      inconsistent: totals.inconsistent,
      missed: counts.missed,
      flagsCleared: counts.cleared,
      tierErrors: counts.tierErrors,
      valuesSeen: { ...counts.valuesSeen },
      originReads: { ...counts.originReads },
      pending: counts.pending,
      byFamilyWindow: tally.byFamilyWindow(),
      findings: [...findings],
    };
  }

  const admin =
    options.adminPort === undefined
      ? undefined
      : await startAdminServer({
          port: options.adminPort,
          host: options.adminHost ?? '127.0.0.1',
          token: adminToken(),
          readiness: () => ({
            ready: primary.client.status === 'ready',
            checks: { redis: primary.client.status === 'ready', pending: counts.pending },
          }),
          register: (app) => {
            app.get('/metrics', async (_req, reply) =>
              reply
                .header('content-type', metrics.registry.contentType)
                .header('cache-control', 'no-store')
                .send(await metrics.registry.metrics()),
            );
            app.get('/snapshot.json', (_req, reply) =>
              reply.header('cache-control', 'no-store').send(snapshot()),
            );
          },
        });

  const emfTimer =
    options.emf === undefined
      ? undefined
      : setInterval(() => {
          process.stdout.write(`${auditEmfLine(options.emf!.service, emfCounts, Date.now())}\n`);
          emfCounts.checks = 0;
          emfCounts.inconsistent = 0;
        }, options.emf.intervalMs ?? AUDITOR_DEFAULTS.emfIntervalMs);
  emfTimer?.unref();

  pollers?.start();
  logger.info(
    {
      tiers: tiers.map((t) => `${t.tier}:${t.source}`),
      windowsMs: o.windowsMs,
      sampleRate: o.sampleRate,
      queue: options.queue?.url,
      adminPort: admin?.port,
    },
    'auditor started',
  );

  return {
    snapshot,
    observe: (body) => observe(body),
    adminPort: admin?.port,
    metrics,
    close: () =>
      (closing ??= (async () => {
        const steps: (() => unknown)[] = [
          () => pollers?.close(5_000),
          () => {
            for (const t of timers) clearTimeout(t);
            timers.clear();
            counts.pending = 0;
          },
          () => Promise.allSettled([...running]),
          () => clearInterval(emfTimer),
          () => admin?.app.close(),
          () => primary.close(),
          () => replica?.disconnect(),
        ];
        for (const step of steps) {
          try {
            await step();
          } catch (err) {
            logger.warn({ err }, 'auditor close step failed');
          }
        }
      })()),
  };
}

function resolve(options: AuditorOptions) {
  const windowsMs = [...new Set(options.windowsMs ?? AUDITOR_DEFAULTS.windowsMs)].sort((a, b) => a - b);
  const o = {
    windowsMs,
    recheckDelayMs: options.recheckDelayMs ?? AUDITOR_DEFAULTS.recheckDelayMs,
    lateToleranceMs: options.lateToleranceMs ?? AUDITOR_DEFAULTS.lateToleranceMs,
    sampleRate: options.sampleRate ?? AUDITOR_DEFAULTS.sampleRate,
    maxPendingChecks: options.maxPendingChecks ?? AUDITOR_DEFAULTS.maxPendingChecks,
    maxFindings: options.maxFindings ?? AUDITOR_DEFAULTS.maxFindings,
    clockSkewMs: options.clockSkewMs ?? AUDITOR_DEFAULTS.clockSkewMs,
    tierTimeoutMs: options.tierTimeoutMs ?? AUDITOR_DEFAULTS.tierTimeoutMs,
  };
  const problems = [
    ...(windowsMs.length === 0 || windowsMs.some((w) => !Number.isSafeInteger(w) || w <= 0)
      ? ['windowsMs must be positive whole milliseconds, at least one']
      : []),
    ...(!(o.sampleRate > 0 && o.sampleRate <= 1) ? ['sampleRate must be in (0, 1]'] : []),
    ...(!(o.recheckDelayMs >= 0) ? ['recheckDelayMs must be >= 0'] : []),
    ...(!(o.lateToleranceMs >= 0) ? ['lateToleranceMs must be >= 0'] : []),
    ...(!(o.maxPendingChecks >= 1) ? ['maxPendingChecks must be >= 1'] : []),
    ...(!(o.maxFindings >= 1) ? ['maxFindings must be >= 1'] : []),
    ...(!(o.clockSkewMs >= 0) ? ['clockSkewMs must be >= 0'] : []),
    ...(!(o.tierTimeoutMs > 0) ? ['tierTimeoutMs must be > 0'] : []),
    ...(options.origin !== undefined && !((options.origin.ratePerSecond ?? 1) > 0)
      ? ['origin.ratePerSecond must be > 0']
      : []),
  ];
  if (problems.length > 0) throw new RangeError(`invalid auditor options: ${problems.join('; ')}`);
  return o;
}

/** Deterministic sampling by event id: every auditor (and a re-delivery) decides the same. */
export function sampled(eventId: string, rate: number): boolean {
  if (rate >= 1) return true;
  const h = createHash('sha256').update(eventId).digest().readUInt32BE(0);
  return h / 0x1_0000_0000 < rate;
}

function systemAttributes(m: Message): Record<string, string | undefined> {
  return { ...(m.Attributes ?? {}) };
}

function tuningOf(config: RedisConfig): ConnectionTuning {
  return config.tuning ?? {};
}

function withName(config: RedisConfig, connectionName: string): RedisConfig {
  return { ...config, tuning: { ...config.tuning, connectionName } };
}

function sourceOf(config: RedisConfig): string {
  switch (config.mode) {
    case 'standalone':
      return `redis://${config.host}:${config.port}`;
    case 'sentinel':
      return `sentinel://${config.name}`;
    case 'cluster':
      return `cluster://${config.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`tier read took over ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
