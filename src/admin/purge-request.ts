/**
 * What a purge asks for: the body of POST /admin/purge, validated at the edge like an event
 * (strict: unknown fields refused; identifiers are checked by the key builder's rules when
 * the purge is planned, purge.ts).
 */
import { z } from 'zod';

// Everything here lands in the audit trail, the log and an operator's terminal: no control
// characters (no terminal escapes, no forged log lines), printable ASCII for identifiers.
const reason = z
  .string()
  .trim()
  .min(1, 'a reason is required')
  .max(500)
  .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'the reason must not hold control or format characters');
const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII only, no spaces');
const dryRun = z.boolean().default(false);
/** The families a purge can name (every cached family of the key contract). */
export const PURGE_FAMILIES = ['product', 'promo', 'review', 'reco'] as const;
export type PurgeFamily = (typeof PURGE_FAMILIES)[number];
const family = z.enum(PURGE_FAMILIES);

/** True when `f` names a family a purge can name. */
export const isPurgeFamily = (f: string): f is PurgeFamily =>
  (PURGE_FAMILIES as readonly string[]).includes(f);

export const purgeRequestSchema = z.discriminatedUnion('scope', [
  z.strictObject({ scope: z.literal('key'), key: printable(512), reason, dryRun }),
  z.strictObject({
    scope: z.literal('entity'),
    family,
    tenant: printable(64),
    id: printable(128),
    reason,
    dryRun,
  }),
  z.strictObject({
    scope: z.literal('family'),
    family,
    tenant: printable(64).optional(),
    reason,
    dryRun,
  }),
  z.strictObject({ scope: z.literal('tenant'), tenant: printable(64), reason, dryRun }),
]);

/** A purge request as sent (dryRun optional). */
export type PurgeRequest = z.input<typeof purgeRequestSchema>;
/** A purge request after validation. */
export type ParsedPurgeRequest = z.output<typeof purgeRequestSchema>;
