/**
 * One SQS batch, end to end: parse and plan (pure core), apply every effect in one Redis
 * round trip, dead-letter the poison with its reason, then ack exactly the messages whose
 * effects are confirmed (DESIGN rules 1, 2, 6 and 9):
 *
 * - Redis unreachable or failing writes (an error, READONLY, a deadline): the batch is kept
 *   IN HAND and applied again with a growing delay until Redis confirms or shutdown begins.
 *   sqs-consumer's heartbeat extends its visibility meanwhile, so the receive count does not
 *   move: the state of Redis never pushes a valid event toward the DLQ. The gate pauses the
 *   other pollers. When the gate closes (Redis takes writes again) the delay ends early,
 *   after a jitter of up to 250 ms: a batch is not left waiting out a 5 s back-off after a
 *   failover, and a recovering Redis gets the worker's batches spread, not at once. Not twice
 *   running: a batch that fails again right after Redis took writes waits out its back-off.
 * - A critical batch (promo): WAIT for the replica when replication is healthy (sampled so
 *   on the current connection). When it is not (a WAIT shortfall, a lagging or absent
 *   replica, or not known since the connection was lost), the deletes are applied on the
 *   primary at once, and the ack follows the durability rule (held-acks.ts,
 *   docs/operations.md "Durable deletes"): held until a replica confirms, or acked as
 *   degraded when there is no replica at all.
 * Never throws for bad input: poison is a decision, not an exception.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { InvalidationPlan, MessageDecision } from '../core/invalidation-plan.ts';
import { planBatch, type IncomingMessage } from '../core/invalidation-planner.ts';
import type { KeyBuilder } from '../core/key-builder.ts';
import { visibilityBackoffS, type BackoffPolicy } from '../core/retry-backoff.ts';
import type { EffectsApplied, EffectsResult } from '../adapters/redis/invalidation-effects.ts';
import type { PoisonMessage } from '../adapters/sqs/dead-letter-queue.ts';
import type { VisibilityChange } from '../adapters/sqs/message-visibility.ts';
import type { ReplicationState } from './replication-health.ts';
import { receiveAnsweredAtMs } from './queue-pollers.ts';
import type { RetryKind, WorkerMetrics } from '../metrics/worker-metrics.ts';

type ApplyDecision = Extract<MessageDecision, { kind: 'apply' }>;
type PoisonDecision = Extract<MessageDecision, { kind: 'poison' }>;
type IgnoreDecision = Extract<MessageDecision, { kind: 'ignore' }>;

/** Redis effects: a bound `applyInvalidationPlan`. */
export interface EffectsPort {
  /** Applies `plan`, WAITing for `waitReplicas` when it is critical and that is > 0; never rejects. */
  apply(plan: InvalidationPlan, waitReplicas: number): Promise<EffectsResult>;
}

/** Replication and the acks that wait for it (replication-health.ts, held-acks.ts). */
export interface DurabilityPort {
  /** Replicas a critical batch needs (REDIS_WAIT_REPLICAS). */
  readonly required: number;
  /** Replication as last sampled. */
  state(): ReplicationState;
  /** Takes over the acks of applied critical messages until a replica confirms them. */
  hold(messages: readonly Message[]): void;
  /** A WAIT confirmed every write sent before `sentAtMs` (moves the replay anchor). */
  confirmed(sentAtMs: number): void;
}

/** Where poison goes: copied to the DLQ with its reason (dead-letter-queue.ts). */
export interface DeadLetterPort {
  /** Resolves with the message ids whose copy SQS confirmed. */
  send(poison: readonly PoisonMessage[]): Promise<Set<string>>;
}

/** SQS visibility: hides messages for a back-off each (poison whose DLQ copy failed). */
export interface VisibilityPort {
  retryLater(changes: readonly VisibilityChange[]): Promise<void>;
}

/** What else hears about a batch: the replay ring, the Redis gate. */
export interface BatchObserver {
  /** A plan applied on the primary (the failover replay ring records its effects). */
  applied(plan: InvalidationPlan): void;
  /** Redis did not take the effects (the gate pauses the other pollers). */
  redisUnavailable(reason: string): void;
}

/** Consumes valid events that are not invalidations (the refresh tick). */
export interface IgnoredEventsPort {
  /** Resolves true to ack. */
  consume(message: Message, decision: IgnoreDecision): Promise<boolean>;
}

/** What the handler needs from the outside world; every port is injectable for tests. */
export interface BatchHandlerDeps {
  readonly queue: string;
  readonly keys: KeyBuilder;
  readonly effects: EffectsPort;
  readonly durability: DurabilityPort;
  /** Null when no DLQ URL is configured: poison is then left to the queue's redrive policy. */
  readonly deadLetters: DeadLetterPort | null;
  readonly visibility: VisibilityPort;
  readonly observer: BatchObserver;
  /** Absent: ignored events are acked. */
  readonly ignored?: IgnoredEventsPort;
  /** Aborted when shutdown begins: a batch kept in hand is then left to SQS. */
  readonly shutdown: AbortSignal;
  /** Delay before applying a batch kept in hand again, by attempt (1, 2…). */
  readonly inHandDelayMs?: (attempt: number) => number;
  /** Resolves when Redis takes writes again (the gate closes); ends an in-hand delay early. */
  readonly redisRecovered?: () => Promise<void>;
  readonly backoff: BackoffPolicy;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  readonly now?: () => number;
  /** The edge's body limit (WORKER_MAX_EVENT_BODY_BYTES); default MAX_EVENT_BODY_BYTES. */
  readonly maxBodyBytes?: number;
  /** Shadow mode: told every planned batch once it was handled (shadow-evaluator.ts). */
  readonly shadow?: ShadowPort;
}

/** Plans a batch with a candidate contract and records the difference; never throws. */
export interface ShadowPort {
  observe(queue: string, messages: readonly IncomingMessage[], live: InvalidationPlan): void;
}

/** Creates the sqs-consumer `handleMessageBatch`: resolves with the messages to delete. */
export function createBatchHandler(deps: BatchHandlerDeps): (messages: Message[]) => Promise<Message[]> {
  const now = deps.now ?? Date.now;
  return async (messages) => {
    const receivedAtMs = now();
    const incoming = messages.map(toIncoming);
    const plan = planBatch(
      incoming,
      deps.keys,
      deps.maxBodyBytes === undefined ? {} : { maxBodyBytes: deps.maxBodyBytes },
    );
    // planBatch returns one decision per message, in the same order.
    const apply: Decided<ApplyDecision>[] = [];
    const poison: Decided<PoisonDecision>[] = [];
    const ignored: Decided<IgnoreDecision>[] = [];
    plan.decisions.forEach((decision, i) => {
      const message = messages[i]!;
      if (decision.kind === 'apply') apply.push({ decision, message });
      else if (decision.kind === 'poison') poison.push({ decision, message });
      else ignored.push({ decision, message });
    });
    const ack: Message[] = [];

    // Effects first: they are what users wait for.
    if (apply.length > 0) ack.push(...(await applyAndDecide(deps, plan, apply, receivedAtMs, now)));

    if (poison.length > 0) ack.push(...(await deadLetterPoison(deps, poison)));

    for (const { decision, message } of ignored) {
      const consumed = deps.ignored ? await deps.ignored.consume(message, decision) : true;
      if (consumed) ack.push(message);
    }
    // Shadow mode runs after the live batch, on the next turn: it never delays an ack.
    const shadow = deps.shadow;
    if (shadow !== undefined)
      setImmediate(() => {
        try {
          shadow.observe(deps.queue, incoming, plan);
        } catch (err) {
          deps.logger.warn(
            { err, queue: deps.queue },
            'shadow mode failed on a batch (nothing live is affected)',
          );
        }
      });
    return ack;
  };
}

/** A decision with the SQS message it is about. */
interface Decided<D extends MessageDecision> {
  readonly decision: D;
  readonly message: Message;
}

/** Longest wait after Redis takes writes again before a batch in hand is applied again. */
export const RECOVERY_JITTER_MS = 250;

/** Default delay between in-hand attempts: 250 ms doubling to 5 s, with jitter. */
function defaultInHandDelayMs(attempt: number): number {
  const ceiling = Math.min(5_000, 250 * 2 ** Math.min(attempt - 1, 10));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Applies the plan (in hand until confirmed) and returns the messages to ack now. */
async function applyAndDecide(
  deps: BatchHandlerDeps,
  plan: InvalidationPlan,
  apply: readonly Decided<ApplyDecision>[],
  receivedAtMs: number,
  now: () => number,
): Promise<Message[]> {
  const messages = apply.map((a) => a.message);
  if (plan.effects.length === 0) return messages;
  const { required } = deps.durability;
  // Only WAIT when the replica can answer in time: against a lagging or absent replica (or
  // one not sampled since the connection was lost: a new primary has none yet) a WAIT only
  // stalls the connection every other batch shares, for its whole timeout. Decided at each
  // attempt: a batch received while healthy may be applied again after a failover.
  const durable = plan.critical && required > 0;
  const waitFor = () => (durable && deps.durability.state() === 'healthy' ? required : 0);
  const sentAtMs = now();
  const attempted = await applyInHand(deps, plan, waitFor, apply);
  if (attempted === null) return [];
  const { result, waitReplicas } = attempted;
  const confirmed = result.ok && (!durable || waitReplicas > 0);
  // Applied on the primary either way (applyInHand returns nothing else): the lag is
  // measured and the replay ring keeps it.
  const applied = result.ok ? result : result.error.kind === 'wait-shortfall' ? result.error.applied : null;
  if (applied !== null) {
    deps.observer.applied(plan);
    recordApplied(deps, plan, apply, receivedAtMs, now(), applied);
  }
  if (confirmed) {
    if (waitReplicas > 0) deps.durability.confirmed(sentAtMs);
    return messages;
  }
  if (!result.ok) deps.metrics.waitShortfall();
  if (deps.durability.state() === 'no-replica') {
    // Nothing a failover could promote: ack now, degraded, and keep it in the replay ring.
    deps.metrics.degradedAcks(deps.queue, 'no-replica', messages.length);
    deps.logger.warn(
      { queue: deps.queue, messages: messages.length },
      'critical deletes acked without replica confirmation: no replica is attached (durability degraded)',
    );
    return messages;
  }
  deps.durability.hold(messages);
  return [];
}

/**
 * Applies `plan` until Redis confirms it or shutdown begins (null then), with the replicas
 * `waitFor` asks at each attempt. A WAIT shortfall is returned as it is: the deletes were
 * applied, only the replica's confirmation is missing.
 */
async function applyInHand(
  deps: BatchHandlerDeps,
  plan: InvalidationPlan,
  waitFor: () => number,
  apply: readonly Decided<ApplyDecision>[],
): Promise<{ result: EffectsResult; waitReplicas: number } | null> {
  const delay = deps.inHandDelayMs ?? defaultInHandDelayMs;
  // A recovery (the gate closing) may end a back-off early, but not twice running: a batch
  // that fails again right after Redis took writes fails on its own (the gate's write probe
  // does not see it), and retrying it at the gate's pace would open the gate, pausing every
  // poller, twice a second. After a whole back-off it may be woken early again.
  let wakeOnRecovery = true;
  for (let attempt = 1; ; attempt++) {
    const waitReplicas = waitFor();
    const result = await deps.effects.apply(plan, waitReplicas);
    if (result.ok || result.error.kind === 'wait-shortfall') return { result, waitReplicas };
    const kind: RetryKind = result.error.kind;
    deps.metrics.redisError(kind);
    deps.metrics.retried(deps.queue, kind, apply.length);
    deps.observer.redisUnavailable(result.error.message);
    if (attempt > 1 && deps.logger.isLevelEnabled('debug'))
      deps.logger.debug(
        {
          queue: deps.queue,
          attempt,
          kind,
          error: result.error.message,
          eventIds: apply.map((a) => a.decision.eventId),
        },
        'effects not confirmed again; the batch stays in hand',
      );
    if (attempt === 1)
      deps.logger.warn(
        {
          err: result.error,
          queue: deps.queue,
          messages: apply.length,
          eventIds: apply.map((a) => a.decision.eventId),
        },
        'effects not confirmed; the batch is kept in hand and applied again',
      );
    const recovered: Promise<void> | undefined = wakeOnRecovery ? deps.redisRecovered?.() : undefined;
    const woke: Awaited<ReturnType<typeof sleep>> = deps.shutdown.aborted
      ? 'aborted'
      : await sleep(delay(attempt), deps.shutdown, recovered);
    wakeOnRecovery = woke !== 'recovered';
    if (woke === 'aborted') {
      deps.logger.warn(
        { queue: deps.queue, messages: apply.length, attempts: attempt },
        'shutdown while Redis fails: the batch is left to SQS and comes back after its visibility timeout',
      );
      return null;
    }
  }
}

/**
 * Resolves 'elapsed' after `ms`, or 'recovered' after a jitter of up to RECOVERY_JITTER_MS
 * once `recovered` resolves, whichever comes first; 'aborted' as soon as `signal` aborts.
 */
function sleep(
  ms: number,
  signal: AbortSignal,
  recovered?: Promise<void>,
): Promise<'elapsed' | 'recovered' | 'aborted'> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (value: 'elapsed' | 'recovered' | 'aborted') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = () => finish('aborted');
    let timer = setTimeout(() => finish('elapsed'), ms);
    signal.addEventListener('abort', onAbort, { once: true });
    void recovered?.then(() => {
      if (done) return;
      clearTimeout(timer);
      timer = setTimeout(() => finish('recovered'), Math.random() * RECOVERY_JITTER_MS);
    });
  });
}

function toIncoming(m: Message): IncomingMessage {
  return {
    messageId: m.MessageId ?? '',
    body: m.Body ?? '',
    ...(m.Attributes === undefined ? {} : { attributes: m.Attributes }),
  };
}

function recordApplied(
  deps: BatchHandlerDeps,
  plan: InvalidationPlan,
  apply: readonly Decided<ApplyDecision>[],
  receivedAtMs: number,
  confirmedAtMs: number,
  result: EffectsApplied,
): void {
  const deleteConfirmedAtMs = receivedAtMs + result.durations.effectsMs;
  for (const { decision: d } of apply) {
    deps.metrics.eventApplied({
      family: d.family,
      tenant: d.tenant,
      queue: deps.queue,
      originAtMs: d.originTimeMs ?? receivedAtMs,
      snsPublishedAtMs: d.snsPublishedAtMs,
      sqsSentAtMs: d.sqsSentAtMs,
      receivedAtMs,
      deleteConfirmedAtMs: Math.min(deleteConfirmedAtMs, confirmedAtMs),
      broadcastAtMs: result.publishedAtMs ?? undefined,
    });
  }
  if (deps.logger.isLevelEnabled('debug')) {
    // One line per event with its timeline (ms since epoch): where its lag went, hop by hop
    // (the scenarios split stale reads by it: src/scenarios/stale-read-split.ts).
    const confirmedMs = Math.min(deleteConfirmedAtMs, confirmedAtMs);
    for (const { decision: d, message } of apply) {
      deps.logger.debug(
        {
          eventId: d.eventId,
          messageId: d.messageId,
          family: d.family,
          originAtMs: d.originTimeMs,
          snsPublishedAtMs: d.snsPublishedAtMs,
          sqsSentAtMs: d.sqsSentAtMs,
          firstReceivedAtMs: systemAttributeMs(message, 'ApproximateFirstReceiveTimestamp'),
          receiveAnsweredAtMs: receiveAnsweredAtMs(message),
          receiveCount: systemAttributeMs(message, 'ApproximateReceiveCount'),
          receivedAtMs,
          deleteConfirmedAtMs: confirmedMs,
          broadcastAtMs: result.publishedAtMs ?? undefined,
        },
        'invalidation applied',
      );
    }
  }
  const keysPerFamily = new Map<string, number>();
  for (const e of plan.effects)
    keysPerFamily.set(e.family, (keysPerFamily.get(e.family) ?? 0) + e.unlink.length);
  for (const [family, count] of keysPerFamily)
    deps.metrics.keysDeleted(family as ApplyDecision['family'], count);
}

/** A numeric SQS system attribute of `message` (a timestamp or a count), if it is one. */
function systemAttributeMs(message: Message, name: string): number | undefined {
  const raw = message.Attributes?.[name as keyof NonNullable<Message['Attributes']>];
  return raw !== undefined && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
}

async function retry(deps: BatchHandlerDeps, messages: readonly Message[], kind: RetryKind): Promise<void> {
  deps.metrics.retried(deps.queue, kind, messages.length);
  const changes = messages.map((message) => ({
    message,
    timeoutS: visibilityBackoffS(Number(message.Attributes?.ApproximateReceiveCount ?? 1), deps.backoff),
  }));
  try {
    await deps.visibility.retryLater(changes);
  } catch (err) {
    // Not fatal: the messages simply come back after the queue's own visibility timeout.
    deps.logger.warn({ err, queue: deps.queue }, 'could not set the retry back-off');
  }
}

async function deadLetterPoison(
  deps: BatchHandlerDeps,
  poison: readonly Decided<PoisonDecision>[],
): Promise<Message[]> {
  for (const { decision: d } of poison) {
    deps.metrics.rejected(deps.queue, d.code);
    deps.logger.warn(
      { messageId: d.messageId, code: d.code, reason: d.reason, queue: deps.queue },
      'poison message',
    );
  }
  if (deps.deadLetters === null) {
    // Without a DLQ URL the redrive policy moves it after maxReceiveCount; hide it meanwhile.
    await retry(
      deps,
      poison.map((p) => p.message),
      'dead-letter-failed',
    );
    return [];
  }
  const items = poison.map(({ decision: d, message }) => ({ message, code: d.code, reason: d.reason }));
  let confirmed: Set<string>;
  try {
    confirmed = await deps.deadLetters.send(items);
  } catch (err) {
    deps.logger.error(
      { err, queue: deps.queue },
      'dead-lettering failed; the poison comes back and is tried again',
    );
    confirmed = new Set();
  }
  const sent = items.filter((p) => confirmed.has(p.message.MessageId ?? ''));
  for (const p of sent) deps.metrics.deadLettered(deps.queue, p.code);
  const unsent = items.filter((p) => !confirmed.has(p.message.MessageId ?? ''));
  if (unsent.length > 0)
    await retry(
      deps,
      unsent.map((p) => p.message),
      'dead-letter-failed',
    );
  return sent.map((p) => p.message);
}
