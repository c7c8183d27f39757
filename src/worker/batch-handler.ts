/**
 * One SQS batch, end to end: parse and plan (pure core), apply every effect in one Redis
 * round trip (WAIT for critical families), dead-letter the poison with its reason, then ack
 * exactly the messages whose effects are confirmed. Messages whose effects were not
 * confirmed stay in SQS and come back after a growing visibility back-off (DESIGN rules
 * 1, 2 and 6). Never throws for bad input: poison is a decision, not an exception.
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
import type { RetryKind, WorkerMetrics } from './worker-metrics.ts';

type ApplyDecision = Extract<MessageDecision, { kind: 'apply' }>;
type PoisonDecision = Extract<MessageDecision, { kind: 'poison' }>;
type IgnoreDecision = Extract<MessageDecision, { kind: 'ignore' }>;

/** What the handler needs from the outside world; every port is injectable for tests. */
export interface BatchHandlerDeps {
  readonly queue: string;
  readonly keys: KeyBuilder;
  /** Applies a plan's effects (a bound `applyInvalidationPlan`); never rejects. */
  readonly applyEffects: (plan: InvalidationPlan) => Promise<EffectsResult>;
  /**
   * Copies poison to the DLQ with its reason; resolves with the message ids confirmed.
   * Null when no DLQ URL is configured: poison is then left to the queue's redrive policy.
   */
  readonly deadLetter: ((poison: readonly PoisonMessage[]) => Promise<Set<string>>) | null;
  /** Hides messages for a back-off delay each. */
  readonly retryLater: (changes: readonly VisibilityChange[]) => Promise<void>;
  /** Called with every confirmed plan (the failover replay ring records its effects). */
  readonly onApplied: (plan: InvalidationPlan) => void;
  /** Called when Redis looks unreachable (the gate pauses polling). */
  readonly onRedisUnavailable: (reason: string) => void;
  /** Consumes valid events that are not invalidations (the refresh tick); resolves true to ack. */
  readonly onIgnored?: (message: Message, decision: IgnoreDecision) => Promise<boolean>;
  readonly backoff: BackoffPolicy;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** Creates the sqs-consumer `handleMessageBatch`: resolves with the messages to delete. */
export function createBatchHandler(deps: BatchHandlerDeps): (messages: Message[]) => Promise<Message[]> {
  const now = deps.now ?? Date.now;
  return async (messages) => {
    const receivedAtMs = now();
    const plan = planBatch(messages.map(toIncoming), deps.keys);
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
    if (apply.length > 0) {
      const result = plan.effects.length === 0 ? null : await deps.applyEffects(plan);
      if (result === null || result.ok) {
        for (const a of apply) ack.push(a.message);
        if (result !== null) {
          deps.onApplied(plan);
          recordApplied(deps, plan, apply, receivedAtMs, now(), result);
        }
      } else {
        const kind: RetryKind = result.error.kind;
        if (kind === 'wait-shortfall') deps.metrics.waitShortfall();
        else {
          deps.metrics.redisError(kind);
          deps.onRedisUnavailable(result.error.message);
        }
        deps.logger.warn(
          {
            err: result.error,
            queue: deps.queue,
            messages: apply.length,
            eventIds: apply.map((a) => a.decision.eventId),
          },
          'effects not confirmed; the messages come back after a back-off',
        );
        await retry(
          deps,
          apply.map((a) => a.message),
          kind,
        );
      }
    }

    if (poison.length > 0) ack.push(...(await deadLetterPoison(deps, poison)));

    for (const { decision, message } of ignored) {
      const consumed = deps.onIgnored ? await deps.onIgnored(message, decision) : true;
      if (consumed) ack.push(message);
    }
    return ack;
  };
}

/** A decision with the SQS message it is about. */
interface Decided<D extends MessageDecision> {
  readonly decision: D;
  readonly message: Message;
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
  for (const { decision: d, message } of apply) {
    const sent = Number(message.Attributes?.SentTimestamp);
    deps.metrics.eventApplied({
      family: d.family,
      tenant: d.tenant,
      queue: deps.queue,
      originAtMs: d.originTimeMs ?? receivedAtMs,
      snsPublishedAtMs: d.snsPublishedAtMs,
      sqsSentAtMs: Number.isFinite(sent) ? sent : undefined,
      receivedAtMs,
      deleteConfirmedAtMs: Math.min(deleteConfirmedAtMs, confirmedAtMs),
      broadcastAtMs: result.publishedAtMs ?? undefined,
    });
  }
  if (deps.logger.isLevelEnabled('debug')) {
    for (const { decision: d } of apply) {
      deps.logger.debug(
        { eventId: d.eventId, messageId: d.messageId, family: d.family },
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

async function retry(deps: BatchHandlerDeps, messages: readonly Message[], kind: RetryKind): Promise<void> {
  deps.metrics.retried(deps.queue, kind, messages.length);
  const changes = messages.map((message) => ({
    message,
    timeoutS: visibilityBackoffS(Number(message.Attributes?.ApproximateReceiveCount ?? 1), deps.backoff),
  }));
  try {
    await deps.retryLater(changes);
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
  if (deps.deadLetter === null) {
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
    confirmed = await deps.deadLetter(items);
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
