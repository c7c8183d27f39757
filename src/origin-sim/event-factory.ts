/**
 * The events the simulated origins publish. The ONE place where event shapes are built:
 * when the worker's schemas (src/core/events) move, align the fields here.
 *
 * Common fields: type, schemaVersion 1, eventId (UUID v4), occurredAt (ISO-8601 with ms, the
 * time of the change at the origin), version (the entity's new version), tenant (only when
 * the change named one; the worker assumes "default" otherwise).
 */
import { randomUUID } from 'node:crypto';
import type { ChangeRequest } from './change-request.ts';

/** Schema version of every event built here. */
export const EVENT_SCHEMA_VERSION = 1;

/** Fields every event carries. */
export interface EventBase {
  readonly schemaVersion: typeof EVENT_SCHEMA_VERSION;
  readonly eventId: string;
  readonly occurredAt: string;
  readonly version: number;
  readonly tenant?: string;
}

/** `catalog.product.updated` / `catalog.product.deleted`. */
export interface CatalogProductEvent extends EventBase {
  readonly type: 'catalog.product.updated' | 'catalog.product.deleted';
  readonly asin: string;
  readonly locales?: readonly string[];
}

/** `promotion.changed` / `promotion.activated` / `promotion.expired`. */
export interface PromotionEvent extends EventBase {
  readonly type: 'promotion.changed' | 'promotion.activated' | 'promotion.expired';
  readonly promotionId: string;
  readonly storeSections: readonly string[];
}

/** `session.started`. */
export interface SessionStartedEvent extends EventBase {
  readonly type: 'session.started';
  readonly userId: string;
  readonly sessionId: string;
}

/** `review.summary-changed`. */
export interface ReviewSummaryChangedEvent extends EventBase {
  readonly type: 'review.summary-changed';
  readonly asin: string;
}

/** Any event an origin publishes. */
export type OriginEvent =
  CatalogProductEvent | PromotionEvent | SessionStartedEvent | ReviewSummaryChangedEvent;

/** The SNS topic an event goes to. */
export type EventTopic = 'catalog' | 'promotions' | 'sessions';

/** When and at which version the change happened. */
export interface ChangeFacts {
  readonly version: number;
  readonly occurredAt: Date;
}

/** Builds the event announcing `change`. */
export function buildEvent(change: ChangeRequest, facts: ChangeFacts): OriginEvent {
  const base: EventBase = {
    schemaVersion: EVENT_SCHEMA_VERSION,
    eventId: randomUUID(),
    occurredAt: facts.occurredAt.toISOString(),
    version: facts.version,
    ...(change.tenant !== undefined ? { tenant: change.tenant } : {}),
  };
  switch (change.family) {
    case 'product':
      return {
        ...base,
        type: `catalog.product.${change.kind}`,
        asin: change.asin,
        ...(change.locales ? { locales: change.locales } : {}),
      };
    case 'promotion':
      return {
        ...base,
        type: `promotion.${change.kind}`,
        promotionId: change.promotionId,
        storeSections: change.storeSections,
      };
    case 'session':
      return { ...base, type: 'session.started', userId: change.userId, sessionId: randomUUID() };
    case 'review':
      return { ...base, type: 'review.summary-changed', asin: change.asin };
  }
}

/** The topic a change is announced on (known before the event is built). */
export function topicForChange(change: ChangeRequest): EventTopic {
  switch (change.family) {
    case 'product':
    case 'review':
      return 'catalog';
    case 'promotion':
      return 'promotions';
    case 'session':
      return 'sessions';
  }
}
