/** Session events: a user started a new session, so their recommendations must be recomputed. */
import { z } from 'zod';
import { USER_ID, identifierSchema } from '../identifier-rules.ts';
import { eventBaseShape } from './event-base.ts';

/** `session.started` v1: invalidates every reco key of the user (one generation bump). */
export const sessionStartedV1 = z.strictObject({
  ...eventBaseShape,
  type: z.literal('session.started'),
  userId: identifierSchema(USER_ID),
  /** The new session, for tracing only: it shapes no key. */
  sessionId: identifierSchema(USER_ID).optional(),
});

export type SessionStarted = z.output<typeof sessionStartedV1>;
