/**
 * Fields every event carries, whatever its type. Each event schema spreads these into a
 * `z.strictObject`: unknown keys are rejected rather than ignored, because a field we do not
 * read may be one the producer thinks changes the meaning (a typo'd `locales`, a new scope).
 * Rejecting loudly into the DLQ beats silently invalidating less than the producer intended.
 * A producer adding a field must bump `schemaVersion` and we add a schema for it.
 */
import { z } from 'zod';
import { EVENT_ID, LOCALE, TENANT, identifierSchema } from '../identifier-rules.ts';

/** The only event schema version this worker reads today. */
export const EVENT_SCHEMA_VERSION = 1;
/** The tenant assumed when an event names none. */
export const DEFAULT_TENANT = 'default';
/** Upper bound on locales per event: keeps one event's key expansion small. */
export const MAX_LOCALES_PER_EVENT = 32;

/** Shared fields: id, origin time, per-entity version, tenant. */
export const eventBaseShape = {
  schemaVersion: z.literal(EVENT_SCHEMA_VERSION, { error: `schemaVersion must be ${EVENT_SCHEMA_VERSION}` }),
  eventId: identifierSchema(EVENT_ID),
  /** When the change happened at the origin; an offset (or `Z`) is required so lag is unambiguous. */
  occurredAt: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time with an offset or Z' }),
  /** Grows per entity at the origin; decides anything that writes (deletes ignore it). */
  version: z.int({ error: 'must be a positive integer' }).positive({ error: 'must be a positive integer' }),
  tenant: identifierSchema(TENANT).default(DEFAULT_TENANT),
} as const;

/**
 * Value-shaping locales the origin knows changed. Optional: the key contract always expands
 * every configured locale; these can only widen the set (see key-builder.ts).
 */
export const localesField = z
  .array(identifierSchema(LOCALE))
  .min(1, { error: 'when present, must list at least one locale' })
  .max(MAX_LOCALES_PER_EVENT, { error: `at most ${MAX_LOCALES_PER_EVENT} locales` })
  .optional();
