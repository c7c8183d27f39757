/**
 * Builds every Redis key of the cache contract, for the worker (invalidation) and the read
 * side (populate) alike, so key shapes cannot drift. Shapes are documented in key-contract.ts.
 * The namespace's coordination keys are built here too (refresh windows, hotness sets, the
 * L1 channel and its sequence, the write probe, the purge pattern); each has a hash tag of
 * its own (`{refresh:…}`, `{hot:…}`, `{l1}`, `{probe}`), so none can collide with an
 * entity's keys. Their shapes are a wire contract with running Orchestrators: never change
 * one without a migration.
 *
 * Defence in depth: every identifier is validated here again on every call (the event schemas
 * already did). The shapes of the entity keys (each family's value keys and its fence or
 * generation) are built once when a builder is created and parsed back by key-parser.ts,
 * which must find the family and entity they were built for, or no builder is created. Keys
 * built later are not parsed again: they come from the same templates, filled with
 * identifiers that passed the same rules (see `verified`). The coordination keys are not
 * parsed at all (key-parser.ts reads entity keys only).
 */
import { ConfigError, InvalidIdentifierError } from './errors.ts';
import { asCacheKey, asFenceKey } from './identifiers.ts';
import type { CacheKey, FenceKey } from './identifiers.ts';
import { ASIN, LOCALE, NAMESPACE, TENANT, matchesRule } from './identifier-rules.ts';
import type { IdentifierRule } from './identifier-rules.ts';
import { CACHED_FAMILIES, KEY_CONTRACT, fenceTtlMs } from './key-contract.ts';
import type { CachedFamilySpec } from './key-contract.ts';
import { ID_RULES, parseKey } from './key-parser.ts';
import type { EntityEffect, FamilyName } from './invalidation-plan.ts';

/** Default first segment of every key. */
export const DEFAULT_NAMESPACE = 'mc';
/** Default value-shaping locales (the finite set every variant is expanded over). */
export const DEFAULT_LOCALES: readonly string[] = Object.freeze(['en-US', 'ja-JP']);
/** Upper bound on configured locales: an invalidation touches (locales x schema versions) keys. */
export const MAX_CONFIGURED_LOCALES = 32;

/** A cached family. */
export type CachedFamily = Exclude<FamilyName, 'price'>;

/** Families whose values are shaped by locale. */
type LocaleFamily = Exclude<CachedFamily, 'reco'>;

/** One entity of a family: an ASIN (product, review), a store section (promo), a user (reco). */
export interface EntityRef {
  readonly family: CachedFamily;
  readonly tenant: string;
  readonly id: string;
}

/** One value key: an entity plus the dimensions that shape the value. */
export type ValueKeyRef =
  | (EntityRef & {
      readonly family: LocaleFamily;
      readonly locale: string;
      /** Defaults to the family's current schema version. */
      readonly schemaVersion?: number;
    })
  | (EntityRef & {
      readonly family: 'reco';
      readonly seedAsin: string;
      /**
       * The user's current generation, read with `readFence` (which creates a missing
       * generation at the Redis clock in µs): a safe integer of about 16 digits.
       */
      readonly generation: number;
      readonly schemaVersion?: number;
    });

/** Settings of a key builder (from the worker configuration). */
export interface KeyBuilderOptions {
  readonly namespace?: string;
  readonly locales?: readonly string[];
}

/** Builds keys for one namespace and one set of locales. */
export interface KeyBuilder {
  readonly namespace: string;
  readonly locales: readonly string[];
  readonly contract: typeof KEY_CONTRACT;
  /** Hash tag content shared by all keys of the entity, e.g. `acme:product:B08X1YRSTR`. */
  slotTag(entity: EntityRef): string;
  /** The key of one cached value. */
  valueKey(ref: ValueKeyRef): CacheKey;
  /** The fence of an entity; for `reco`, the user's generation key. */
  fenceKey(entity: EntityRef): FenceKey;
  /** Every value key of the entity (all locales x live schema versions); empty for `reco`. */
  variantKeys(entity: EntityRef, extraLocales?: readonly string[]): CacheKey[];
  /** The invalidation effect of one entity, as the Redis adapter executes it. */
  entityEffect(entity: EntityRef, extraLocales?: readonly string[]): EntityEffect;
  /** The keys of one refresh window (`<ns>:{refresh:<tenant>:<window>}:<part>`). */
  refreshWindowKeys(tenant: string, window: string): RefreshWindowKeys;
  /** The hotness sorted set of a tenant's family (`<ns>:{hot:<tenant>}:<family>`). */
  hotKeysKey(tenant: string, family: CachedFamily): string;
  /** The L1 broadcast channel (`<ns>:l1`) and its sequence key (`<ns>:{l1}:seq`). */
  l1Channel(): L1Channel;
  /** The key the worker writes to learn that every primary accepts writes (`<ns>:{probe}:writable`). */
  writeProbeKey(): string;
  /** The SCAN pattern of every key of a family in the namespace (`<ns>:{*:<family>:*}*`). */
  familyPattern(family: FamilyName): string;
  /**
   * The fill lease of one value key (`<value key>:lease`): in the entity's hash tag, so the
   * lease, the value and the fence are one slot (read side, src/client/lease-fill.ts).
   */
  leaseKey(ref: ValueKeyRef): string;
  /** The read side's per-namespace fill-notice channel (`<ns>:fill`). */
  fillChannel(): string;
}

/**
 * The keys of one refresh window. They share one hash tag, `{refresh:<tenant>:<window>}`, so
 * in cluster mode they live in one slot, while windows and tenants spread over the slots.
 */
export interface RefreshWindowKeys {
  /** SET NX PX owner token: the run lock. */
  readonly lock: string;
  /** The run's key list (JSON array of ids), written once by the first run of the window. */
  readonly todo: string;
  /** Set of ids finished in this window (written, or refused by a newer fence/version). */
  readonly done: string;
  /** Hash id -> error code of the ids that failed every attempt (for the report). */
  readonly failed: string;
  /** The outcome of the completed run (JSON); its presence means "window completed". */
  readonly state: string;
}

/** Where L1 broadcasts go: a pub/sub channel and the counter that numbers its messages. */
export interface L1Channel {
  readonly channel: string;
  /** Sequence key; in cluster mode it carries its own hash tag (any node may own it). */
  readonly seqKey: string;
}

/** A refresh window id: the UTC hour of a tick's schedule, e.g. `2026-11-22T10Z`. */
const REFRESH_WINDOW = /^\d{4}-\d{2}-\d{2}T\d{2}Z$/;

/** Create a key builder; throws ConfigError when the namespace or a locale is invalid. */
export function createKeyBuilder(options: KeyBuilderOptions = {}): KeyBuilder {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const locales = Object.freeze([...new Set(options.locales ?? DEFAULT_LOCALES)]);
  const problems = [
    ...(matchesRule(NAMESPACE, namespace) ? [] : [{ variable: 'namespace', message: NAMESPACE.description }]),
    ...(locales.length === 0 ? [{ variable: 'locales', message: 'at least one locale is required' }] : []),
    ...(locales.length > MAX_CONFIGURED_LOCALES
      ? [{ variable: 'locales', message: `at most ${MAX_CONFIGURED_LOCALES} locales` }]
      : []),
    ...locales
      .filter((l) => !matchesRule(LOCALE, l))
      .map(() => ({ variable: 'locales', message: `every locale must be ${LOCALE.description}` })),
  ];
  if (problems.length > 0) throw new ConfigError(problems);

  const entityPrefix = (entity: EntityRef): { spec: CachedFamilySpec; prefix: string; tag: string } => {
    const spec = cachedSpec(entity.family);
    check(TENANT, entity.tenant);
    check(ID_RULES[spec.idKind], entity.id);
    const tag = `${entity.tenant}:${spec.family}:${entity.id}`;
    return { spec, prefix: `${namespace}:{${tag}}`, tag };
  };

  // Two implementations must agree: the concatenation below and the parser's regexes. Every
  // part of a key passes a strict identifier rule (no ':', '{', '}', globs or whitespace) and
  // the templates are constants, so checking each shape once when the builder is created
  // (selfCheck, below) is as strong as checking every key, at none of the per-event cost.
  const verified = (key: string, entity: EntityRef, kind: 'value' | 'fence' | 'generation'): string => {
    const parsed = parseKey(key, namespace);
    if (
      parsed === null ||
      parsed.kind !== kind ||
      parsed.family !== entity.family ||
      parsed.tenant !== entity.tenant ||
      parsed.id !== entity.id
    ) {
      throw new InvalidIdentifierError('key', `built key does not parse back into family ${entity.family}`);
    }
    return key;
  };

  const valueKey = (ref: ValueKeyRef): CacheKey => {
    const { spec, prefix } = entityPrefix(ref);
    const version = ref.schemaVersion ?? spec.schemaVersion;
    if (!Number.isSafeInteger(version) || version < 1 || version > 999_999) {
      throw new InvalidIdentifierError('schema version', 'must be an integer from 1 to 999999');
    }
    if (ref.family === 'reco') {
      check(ASIN, ref.seedAsin);
      if (!Number.isSafeInteger(ref.generation) || ref.generation < 0) {
        throw new InvalidIdentifierError('generation', 'must be a non-negative safe integer');
      }
      return asCacheKey(`${prefix}:v${version}:g${ref.generation}:${ref.seedAsin}`);
    }
    check(LOCALE, ref.locale);
    return asCacheKey(`${prefix}:v${version}:${ref.locale}`);
  };

  const fenceOf = (spec: CachedFamilySpec, prefix: string): FenceKey =>
    asFenceKey(`${prefix}:${spec.strategy === 'generation' ? 'gen' : 'fence'}`);

  const fenceKey = (entity: EntityRef): FenceKey => {
    const { spec, prefix } = entityPrefix(entity);
    return fenceOf(spec, prefix);
  };

  const variantKeys = (entity: EntityRef, extraLocales?: readonly string[]): CacheKey[] => {
    const { spec, prefix } = entityPrefix(entity);
    return variantsOf(spec, prefix, extraLocales ?? []);
  };

  const variantsOf = (
    spec: CachedFamilySpec,
    prefix: string,
    extraLocales: readonly string[],
  ): CacheKey[] => {
    if (spec.family === 'reco' || spec.strategy === 'generation') return [];
    if (!spec.dimensions.includes('locale')) return [];
    for (const l of extraLocales) check(LOCALE, l);
    // Event locales only widen the set: deleting one key too many costs a miss, one too few serves stale data.
    const allLocales = extraLocales.length === 0 ? locales : [...new Set([...locales, ...extraLocales])];
    const keys: CacheKey[] = [];
    for (const version of spec.liveSchemaVersions) {
      for (const locale of allLocales) keys.push(asCacheKey(`${prefix}:v${version}:${locale}`));
    }
    return keys;
  };

  // Every key shape, built once through each builder above and parsed back (see `verified`).
  const selfCheck = (): void => {
    for (const spec of CACHED_FAMILIES) {
      const id =
        spec.idKind === 'asin' ? 'B000000000' : spec.idKind === 'storeSection' ? 'self-check' : 'self_check';
      const entity: EntityRef = { family: spec.family, tenant: 'self-check', id };
      const kind = spec.strategy === 'generation' ? 'generation' : 'fence';
      verified(fenceKey(entity), entity, kind);
      if (spec.family === 'reco') {
        verified(
          valueKey({ ...entity, family: 'reco', seedAsin: 'B000000001', generation: 7 }),
          entity,
          'value',
        );
      } else {
        for (const locale of locales)
          verified(valueKey({ ...entity, family: spec.family, locale }), entity, 'value');
      }
      for (const key of variantKeys(entity)) verified(key, entity, 'value');
    }
  };
  selfCheck();

  return Object.freeze({
    namespace,
    locales,
    contract: KEY_CONTRACT,
    slotTag: (entity: EntityRef) => entityPrefix(entity).tag,
    valueKey,
    fenceKey,
    variantKeys,
    entityEffect: (entity: EntityRef, extraLocales?: readonly string[]): EntityEffect => {
      // One prefix (and one identifier check) for the whole effect: this is the hot path.
      const { spec, prefix, tag } = entityPrefix(entity);
      return {
        family: spec.family,
        slotTag: tag,
        unlink: variantsOf(spec, prefix, extraLocales ?? []),
        fence: fenceOf(spec, prefix),
        fenceTtlMs: fenceTtlMs(spec),
        critical: spec.critical,
      };
    },
    refreshWindowKeys: (tenant: string, window: string): RefreshWindowKeys => {
      check(TENANT, tenant);
      if (!REFRESH_WINDOW.test(window)) throw new InvalidIdentifierError('window', 'must be YYYY-MM-DDTHHZ');
      const prefix = `${namespace}:{refresh:${tenant}:${window}}`;
      return Object.freeze({
        lock: `${prefix}:lock`,
        todo: `${prefix}:todo`,
        done: `${prefix}:done`,
        failed: `${prefix}:failed`,
        state: `${prefix}:state`,
      });
    },
    hotKeysKey: (tenant: string, family: CachedFamily): string => {
      check(TENANT, tenant);
      return `${namespace}:{hot:${tenant}}:${cachedSpec(family).family}`;
    },
    l1Channel: (): L1Channel =>
      Object.freeze({ channel: `${namespace}:l1`, seqKey: `${namespace}:{l1}:seq` }),
    writeProbeKey: (): string => `${namespace}:{probe}:writable`,
    familyPattern: (family: FamilyName): string => {
      // Every key of an entity carries the hash tag {tenant:family:id} (key-contract.ts).
      if (!Object.hasOwn(KEY_CONTRACT, family))
        throw new InvalidIdentifierError('family', 'not a family of the key contract');
      return `${namespace}:{*:${family}:*}*`;
    },
    leaseKey: (ref: ValueKeyRef): string => `${valueKey(ref)}:lease`,
    fillChannel: (): string => `${namespace}:fill`,
  });
}

function check(rule: IdentifierRule, value: unknown): asserts value is string {
  if (!matchesRule(rule, value)) throw new InvalidIdentifierError(rule.kind, `must be ${rule.description}`);
}

function cachedSpec(family: string): CachedFamilySpec {
  const spec = Object.hasOwn(KEY_CONTRACT, family) ? KEY_CONTRACT[family as FamilyName] : undefined;
  if (spec === undefined) throw new InvalidIdentifierError('family', 'not a family of the key contract');
  if (!spec.cached) throw new InvalidIdentifierError('family', `${spec.family} is never cached`);
  return spec;
}
