/** The union of every event the worker reads, discriminated on `type`. */
import { z } from 'zod';
import { catalogProductDeletedV1, catalogProductUpdatedV1 } from './catalog-events.ts';
import { promotionActivatedV1, promotionChangedV1, promotionExpiredV1 } from './promotion-events.ts';
import { refreshTickV1, reviewSummaryChangedV1 } from './review-events.ts';
import { sessionStartedV1 } from './session-events.ts';
import { pipelineCanaryV1 } from './canary-events.ts';

/** Schema of any supported event (schemaVersion 1). */
export const cacheEventSchema = z.discriminatedUnion('type', [
  catalogProductUpdatedV1,
  catalogProductDeletedV1,
  promotionChangedV1,
  promotionActivatedV1,
  promotionExpiredV1,
  sessionStartedV1,
  reviewSummaryChangedV1,
  refreshTickV1,
  pipelineCanaryV1,
]);

/** A validated event; after the edge, code trusts this type. */
export type CacheEvent = z.output<typeof cacheEventSchema>;
/** The `type` of a supported event. */
export type EventType = CacheEvent['type'];

/** Every supported event type, in declaration order. */
export const EVENT_TYPES: readonly EventType[] = Object.freeze(
  cacheEventSchema.options.map((o) => o.shape.type.value),
);

/** True when `value` names a supported event type. */
export const isEventType = (value: unknown): value is EventType =>
  typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
