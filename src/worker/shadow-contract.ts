/**
 * The shadow candidate: a key contract or policy loaded beside the live one
 * (`WORKER_SHADOW_CONTRACT`, JSON), whose plan the worker computes for every batch and never
 * applies (shadow-evaluator.ts). What a candidate may change, each the way a real rollout
 * would change it:
 *
 * - `locales`: the full set of value-shaping locales (e.g. one more locale);
 * - `liveSchemaVersions`: per locale-shaped family, the value schema versions still in Redis
 *   (a schema version bump: `{"product":[1,2]}`); reco is invalidated by its generation, every
 *   version at once, so it has none;
 * - `maxEventBodyBytes`: the edge's body limit (which messages are poison).
 *
 * The candidate's keys come from a key builder of its own (the same templates and identifier
 * checks as the live one); only the schema versions are applied on top, through the
 * builder's public `valueKey`, so no key shape is written here.
 */
import { z } from 'zod';
import type { DeepReadonly } from '../core/deep-freeze.ts';
import { LOCALE } from '../core/identifier-rules.ts';
import type { EntityEffect } from '../core/invalidation-plan.ts';
import {
  MAX_CONFIGURED_LOCALES,
  createKeyBuilder,
  type EntityRef,
  type KeyBuilder,
} from '../core/key-builder.ts';
import { KEY_CONTRACT } from '../core/key-contract.ts';

/** Families whose value keys carry a schema version and a locale. */
export const VERSIONED_FAMILIES = ['product', 'promo', 'review'] as const;
type VersionedFamily = (typeof VERSIONED_FAMILIES)[number];

const versions = z
  .array(z.int({ error: 'schema versions are whole numbers' }).min(1).max(999_999))
  .min(1, { error: 'list at least one live schema version' })
  .max(8, { error: 'at most 8 live schema versions' });

const candidateSchema = z.strictObject(
  {
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'name: 1-64 of A-Z a-z 0-9 _ . -' })
      .default('candidate'),
    locales: z
      .array(z.string().regex(LOCALE.pattern, { error: `every locale must be ${LOCALE.description}` }))
      .min(1, { error: 'locales: at least one' })
      .max(MAX_CONFIGURED_LOCALES, { error: `locales: at most ${MAX_CONFIGURED_LOCALES}` })
      .optional(),
    liveSchemaVersions: z
      .strictObject(
        { product: versions.optional(), promo: versions.optional(), review: versions.optional() },
        {
          error: 'liveSchemaVersions: only product, promo and review (reco is invalidated by its generation)',
        },
      )
      .optional(),
    maxEventBodyBytes: z
      .int({ error: 'maxEventBodyBytes: a whole number' })
      .min(1_024, { error: 'maxEventBodyBytes: at least 1024' })
      .max(262_144, { error: 'maxEventBodyBytes: at most 262144' })
      .optional(),
  },
  { error: 'only name, locales, liveSchemaVersions and maxEventBodyBytes' },
);

/** A validated candidate (the parsed `WORKER_SHADOW_CONTRACT`), frozen with the configuration. */
export type ShadowCandidate = DeepReadonly<z.output<typeof candidateSchema>>;

/** Parser of `WORKER_SHADOW_CONTRACT`: JSON text to a {@link ShadowCandidate}. */
export const shadowContractSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a JSON object, e.g. {"name":"fr","locales":["en-US","ja-JP","fr-FR"]}',
      });
      return z.NEVER;
    }
  })
  .pipe(candidateSchema);

/** The candidate as the worker runs it: its key builder and its planner options. */
export interface ShadowPlanner {
  readonly candidate: ShadowCandidate;
  readonly keys: KeyBuilder;
  readonly maxBodyBytes: number | undefined;
}

/**
 * Builds the candidate's key builder: the live namespace, the candidate's locales (else the
 * live ones), and its live schema versions applied to every entity effect; its body limit,
 * else the live one.
 */
export function createShadowPlanner(
  candidate: ShadowCandidate,
  live: { readonly namespace: string; readonly locales: readonly string[]; readonly maxBodyBytes?: number },
): ShadowPlanner {
  const base = createKeyBuilder({ namespace: live.namespace, locales: candidate.locales ?? live.locales });
  const overrides = candidate.liveSchemaVersions ?? {};
  const versioned = (family: string): readonly number[] | undefined =>
    (VERSIONED_FAMILIES as readonly string[]).includes(family)
      ? overrides[family as VersionedFamily]
      : undefined;
  const keys: KeyBuilder =
    Object.keys(overrides).length === 0
      ? base
      : Object.freeze({
          ...base,
          entityEffect: (entity: EntityRef, extraLocales?: readonly string[]): EntityEffect => {
            const effect = base.entityEffect(entity, extraLocales);
            const schemaVersions = versioned(entity.family);
            if (schemaVersions === undefined || entity.family === 'reco') return effect;
            // Locales as the base builder expands them (configured, widened by the event's).
            const locales = [...new Set([...base.locales, ...(extraLocales ?? [])])];
            const unlink = schemaVersions.flatMap((schemaVersion) =>
              locales.map((locale) =>
                base.valueKey({ ...entity, family: entity.family as VersionedFamily, locale, schemaVersion }),
              ),
            );
            return { ...effect, unlink };
          },
        });
  // What the candidate does not set is the live value, so only what it changes can differ.
  return { candidate, keys, maxBodyBytes: candidate.maxEventBodyBytes ?? live.maxBodyBytes };
}

/** One line describing the candidate against the live contract, for logs and the report. */
export function describeCandidate(candidate: ShadowCandidate): Record<string, unknown> {
  const live = Object.fromEntries(VERSIONED_FAMILIES.map((f) => [f, KEY_CONTRACT[f].liveSchemaVersions]));
  return {
    name: candidate.name,
    ...(candidate.locales === undefined ? {} : { locales: candidate.locales }),
    ...(candidate.liveSchemaVersions === undefined
      ? {}
      : { liveSchemaVersions: { ...live, ...candidate.liveSchemaVersions } }),
    ...(candidate.maxEventBodyBytes === undefined ? {} : { maxEventBodyBytes: candidate.maxEventBodyBytes }),
  };
}
