/** Review events: the review summary of a product changed, or the hourly refresh is due. */
import { z } from 'zod';
import { ASIN, identifierSchema } from '../identifier-rules.ts';
import { eventBaseShape, localesField } from './event-base.ts';

/** `review.summary-changed` v1: the summary of one ASIN changed; drop its review keys. */
export const reviewSummaryChangedV1 = z.strictObject({
  ...eventBaseShape,
  type: z.literal('review.summary-changed'),
  asin: identifierSchema(ASIN),
  locales: localesField,
});

/**
 * `refresh.tick` v1: the scheduler's hourly tick for the refresh of hot review keys. Not an
 * invalidation (the planner ignores it); the review refresher consumes it.
 */
export const refreshTickV1 = z.strictObject({
  ...eventBaseShape,
  type: z.literal('refresh.tick'),
  /** The slot this tick stands for (the schedule's time, not the delivery time). */
  scheduledAt: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time with an offset or Z' }),
});

export type ReviewSummaryChanged = z.output<typeof reviewSummaryChangedV1>;
export type RefreshTick = z.output<typeof refreshTickV1>;
