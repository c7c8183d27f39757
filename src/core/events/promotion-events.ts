/** Promotion events: a promotion changed, started or ended in one or more store sections. */
import { z } from 'zod';
import { PROMOTION_ID, STORE_SECTION, identifierSchema } from '../identifier-rules.ts';
import { eventBaseShape, localesField } from './event-base.ts';

/** Upper bound on sections per event: keeps one event's effects (and its WAIT) small. */
export const MAX_STORE_SECTIONS_PER_EVENT = 100;

const promotionShape = {
  ...eventBaseShape,
  promotionId: identifierSchema(PROMOTION_ID).optional(),
  storeSections: z
    .array(identifierSchema(STORE_SECTION))
    .min(1, { error: 'must list at least one store section' })
    .max(MAX_STORE_SECTIONS_PER_EVENT, { error: `at most ${MAX_STORE_SECTIONS_PER_EVENT} store sections` }),
  locales: localesField,
} as const;

/** `promotion.changed` v1: terms of a running promotion changed. */
export const promotionChangedV1 = z.strictObject({ ...promotionShape, type: z.literal('promotion.changed') });
/** `promotion.activated` v1: a promotion started. */
export const promotionActivatedV1 = z.strictObject({
  ...promotionShape,
  type: z.literal('promotion.activated'),
});
/** `promotion.expired` v1: a promotion ended; serving it past now is the seeds' worst incident. */
export const promotionExpiredV1 = z.strictObject({ ...promotionShape, type: z.literal('promotion.expired') });

export type PromotionChanged = z.output<typeof promotionChangedV1>;
export type PromotionActivated = z.output<typeof promotionActivatedV1>;
export type PromotionExpired = z.output<typeof promotionExpiredV1>;
