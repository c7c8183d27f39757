/**
 * The pure decision of what to do with one SQS batch. For each message: parse it at the edge,
 * then decide `apply` (it invalidates entities), `poison` (dead-letter with a reason) or
 * `ignore` (valid, but not an invalidation: e.g. `refresh.tick`, which the review refresher
 * consumes). Effects of all applied messages are merged per entity (one effect per slot tag,
 * union of keys, critical if any), so the Redis adapter runs each entity once per batch.
 *
 * Isolation: each message is planned on its own and its effects are merged only once all of
 * them were built, so a poison message (or a bug on one input) never affects the others.
 */
import { errorCode, isPoison } from './errors.ts';
import type { CacheKey, FenceKey } from './identifiers.ts';
import type { CacheEvent } from './events/cache-event.ts';
import { MAX_EVENT_BODY_BYTES, parseEventMessage } from './events/parse-event-message.ts';
import { safeReason } from './events/rejection-reason.ts';
import type { SqsSystemAttributes } from './events/parse-event-message.ts';
import { familiesInvalidatedBy } from './key-contract.ts';
import type { InvalidationTrigger } from './key-contract.ts';
import type { KeyBuilder } from './key-builder.ts';
import type { BroadcastDraft, EntityEffect, InvalidationPlan, MessageDecision } from './invalidation-plan.ts';

/** One SQS message as the planner sees it (the adapter maps SDK messages to this). */
export interface IncomingMessage {
  readonly messageId: string;
  readonly body: string;
  /** SQS system attributes (`SentTimestamp`...), when requested. */
  readonly attributes?: SqsSystemAttributes;
}

/** Planner settings. */
export interface PlanOptions {
  /** Body size limit; defaults to MAX_EVENT_BODY_BYTES. */
  readonly maxBodyBytes?: number;
}

/** Code of a poison decision caused by an unexpected error while planning one message. */
export const PLAN_FAILED_CODE = 'PLAN_FAILED';

interface MessagePlan {
  readonly decision: MessageDecision;
  readonly effects: readonly EntityEffect[];
  readonly originTimeMs?: number;
}

/** Plan a batch: one decision per message (same order), merged effects, one broadcast draft. */
export function planBatch(
  messages: readonly IncomingMessage[],
  keys: KeyBuilder,
  options: PlanOptions = {},
): InvalidationPlan {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_EVENT_BODY_BYTES;
  const plans = messages.map((message) => planMessage(message, keys, maxBodyBytes));
  const effects = mergeEffects(plans.flatMap((p) => p.effects));
  return {
    decisions: plans.map((p) => p.decision),
    effects,
    broadcast: draftBroadcast(plans, effects),
    critical: effects.some((e) => e.critical),
  };
}

function planMessage(message: IncomingMessage, keys: KeyBuilder, maxBodyBytes: number): MessagePlan {
  const { messageId } = message;
  try {
    const parsed = parseEventMessage(message.body, message.attributes, maxBodyBytes);
    if (!parsed.ok) {
      return {
        decision: {
          kind: 'poison',
          messageId,
          reason: safeReason(parsed.error.message),
          code: parsed.error.code,
        },
        effects: [],
      };
    }
    const { event } = parsed;
    const targets = familiesInvalidatedBy(event.type);
    const first = targets[0];
    if (first === undefined) {
      const why = `${event.type} is not an invalidation (consumed by another component)`;
      return { decision: { kind: 'ignore', messageId, eventId: event.eventId, why, event }, effects: [] };
    }
    const extraLocales = 'locales' in event ? event.locales : undefined;
    const effects = targets.flatMap(({ spec, trigger }) =>
      entityIdsOf(event, trigger).map((id) =>
        keys.entityEffect({ family: spec.family, tenant: event.tenant, id }, extraLocales),
      ),
    );
    return {
      decision: {
        kind: 'apply',
        messageId,
        eventId: event.eventId,
        family: first.spec.family,
        tenant: event.tenant,
        originTimeMs: parsed.originTimeMs,
        ...(parsed.snsPublishedAtMs === undefined ? {} : { snsPublishedAtMs: parsed.snsPublishedAtMs }),
        ...(parsed.sqsSentAtMs === undefined ? {} : { sqsSentAtMs: parsed.sqsSentAtMs }),
      },
      effects,
      originTimeMs: parsed.originTimeMs,
    };
  } catch (error) {
    // A builder refusing an identifier is poison; anything else is a bug on this one input.
    // Either way it is deterministic, so retrying cannot help: dead-letter it with the reason.
    // Our poison errors carry fixed text only; a foreign error's message may quote the input,
    // so only its class is named.
    const poison = isPoison(error);
    const code = poison ? errorCode(error) : PLAN_FAILED_CODE;
    const reason = poison ? error.message : `planning failed (${builtInErrorName(error)})`;
    return { decision: { kind: 'poison', messageId, reason: safeReason(reason), code }, effects: [] };
  }
}

const BUILT_IN_ERRORS = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError']);
/** The class of a built-in error, else `unexpected error`: a foreign class name is not ours to echo. */
const builtInErrorName = (error: unknown): string =>
  error instanceof Error && BUILT_IN_ERRORS.has(error.constructor.name)
    ? error.constructor.name
    : 'unexpected error';

/** The entity ids an event names in the trigger's field (one id or a list). */
function entityIdsOf(event: CacheEvent, trigger: InvalidationTrigger): readonly string[] {
  const value: unknown = (event as Readonly<Record<string, unknown>>)[trigger.idField];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return [...new Set(value)];
  // The schemas make this unreachable; the builders would refuse it anyway.
  throw new TypeError(`${trigger.event}.${trigger.idField} holds no entity id`);
}

/** One effect per slot tag: union of keys (first-seen order), critical if any. */
export function mergeEffects(effects: readonly EntityEffect[]): EntityEffect[] {
  // Usual case: every entity appears once (each builder's key list has no duplicates), so
  // there is nothing to merge and the effects are kept as they are.
  const tags = new Set<string>();
  for (const effect of effects) tags.add(effect.slotTag);
  if (tags.size === effects.length) return [...effects];
  const merged = new Map<string, { base: EntityEffect; unlink: Set<CacheKey>; critical: boolean }>();
  for (const effect of effects) {
    const seen = merged.get(effect.slotTag);
    if (seen === undefined) {
      merged.set(effect.slotTag, { base: effect, unlink: new Set(effect.unlink), critical: effect.critical });
      continue;
    }
    // The slot tag names the entity, family included, so the fence must be the same one.
    if (seen.base.fence !== effect.fence || seen.base.family !== effect.family) {
      throw new Error(`effects for slot ${effect.slotTag} disagree on fence or family`);
    }
    for (const key of effect.unlink) seen.unlink.add(key);
    seen.critical ||= effect.critical;
  }
  return [...merged.values()].map(({ base, unlink, critical }) => ({
    family: base.family,
    slotTag: base.slotTag,
    unlink: [...unlink],
    fence: base.fence,
    fenceTtlMs: base.fenceTtlMs,
    critical,
  }));
}

function draftBroadcast(
  plans: readonly MessagePlan[],
  effects: readonly EntityEffect[],
): BroadcastDraft | null {
  if (effects.length === 0) return null;
  const eventIds = new Set<string>();
  let originTimeMs = Number.POSITIVE_INFINITY;
  for (const plan of plans) {
    if (plan.decision.kind !== 'apply') continue;
    eventIds.add(plan.decision.eventId);
    if (plan.originTimeMs !== undefined) originTimeMs = Math.min(originTimeMs, plan.originTimeMs);
  }
  const fences: FenceKey[] = effects.map((e) => e.fence);
  return {
    keys: effects.flatMap((e) => e.unlink),
    fences,
    eventIds: [...eventIds],
    originTimeMs,
  };
}
