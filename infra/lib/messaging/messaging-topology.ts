/**
 * The messaging topology as data: which topics exist, which queue consumes which topic and
 * with what filter. One source of truth for the CDK stack in AWS and the local stack in
 * LocalStack (which is provisioned by deploying the same construct), so the two cannot drift.
 */

/** Logical topic names; the physical name is `${prefix}-${suffix}`. */
export const TOPICS = {
  catalog: { suffix: 'catalog-events', description: 'Product Catalog and Reviews changes' },
  promotions: { suffix: 'promo-events', description: 'Promotions changes (critical family)' },
  sessions: { suffix: 'session-events', description: 'Chat session lifecycle' },
} as const;
export type TopicName = keyof typeof TOPICS;

/**
 * Event types that a topic carries but that need no invalidation. Filtered out at SNS so
 * they never cost a receive. The rule is a deny list, never an allow list: an unknown or
 * malformed event must still reach the worker, which dead-letters it with a reason, instead
 * of vanishing silently in a filter.
 */
export const IGNORED_EVENT_TYPES: Readonly<Record<TopicName, readonly string[]>> = {
  // Prices are never cached (fetched live), so a price-only change touches no key.
  catalog: ['catalog.price.changed', 'catalog.inventory.changed'],
  promotions: [],
  sessions: ['session.ended', 'session.heartbeat'],
};

/** The message attribute publishers set to the event type (used by the filter policies). */
export const EVENT_TYPE_ATTRIBUTE = 'eventType';

export interface ConsumerQueueSpec {
  /** Queue suffix; the physical name is `${prefix}-${suffix}` and `${prefix}-${suffix}-dlq`. */
  readonly suffix: string;
  /** The topic it subscribes to, or null when something else feeds it (the schedule). */
  readonly topic: TopicName | null;
}

/** One queue per consumer, each with its DLQ. */
export const CONSUMER_QUEUES = {
  catalog: { suffix: 'catalog-invalidation', topic: 'catalog' },
  promotions: { suffix: 'promo-invalidation', topic: 'promotions' },
  sessions: { suffix: 'session-invalidation', topic: 'sessions' },
  reviewRefresh: { suffix: 'review-refresh', topic: null },
} as const satisfies Record<string, ConsumerQueueSpec>;
export type ConsumerName = keyof typeof CONSUMER_QUEUES;

/**
 * The consistency auditor's queue (optional, `auditorQueue` of the construct): fed by every
 * topic, read by src/auditor/ only, never by a worker.
 */
export const AUDITOR_QUEUE_SUFFIX = 'consistency-audit';

/**
 * The SNS filter policy for a topic's subscription, or undefined when nothing is filtered.
 * Messages WITHOUT the attribute are delivered (`$or` with `exists: false`), so a publisher
 * that forgets it loses nothing.
 */
export function filterPolicyFor(topic: TopicName): Record<string, unknown> | undefined {
  const ignored = IGNORED_EVENT_TYPES[topic];
  if (ignored.length === 0) return undefined;
  return {
    $or: [
      { [EVENT_TYPE_ATTRIBUTE]: [{ exists: false }] },
      { [EVENT_TYPE_ATTRIBUTE]: [{ 'anything-but': [...ignored] }] },
    ],
  };
}
