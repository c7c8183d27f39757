/**
 * The inverse of the key builder: reads a Redis key back into its family and entity, or
 * says it belongs to no family. The builder checks each entity key shape against this parser
 * once, when it is created (two independent implementations must agree); tests use it to
 * prove that no input can produce a key outside its family, and the adapters can use it to
 * audit a keyspace.
 */
import { KEY_CONTRACT } from './key-contract.ts';
import type { CachedFamilySpec, EntityIdKind } from './key-contract.ts';
import { ASIN, LOCALE, STORE_SECTION, TENANT, USER_ID, matchesRule } from './identifier-rules.ts';
import type { IdentifierRule } from './identifier-rules.ts';
import type { FamilyName } from './invalidation-plan.ts';

/** The identifier rule of each entity id kind. */
export const ID_RULES: Readonly<Record<EntityIdKind, IdentifierRule>> = Object.freeze({
  asin: ASIN,
  storeSection: STORE_SECTION,
  userId: USER_ID,
});

/** A key recognised as belonging to a family. */
export type ParsedKey =
  | {
      readonly kind: 'value';
      readonly family: Exclude<FamilyName, 'price' | 'reco'>;
      readonly tenant: string;
      readonly id: string;
      readonly schemaVersion: number;
      readonly locale: string;
    }
  | {
      readonly kind: 'value';
      readonly family: 'reco';
      readonly tenant: string;
      readonly id: string;
      readonly schemaVersion: number;
      readonly generation: number;
      readonly seedAsin: string;
    }
  | {
      readonly kind: 'fence' | 'generation';
      readonly family: Exclude<FamilyName, 'price'>;
      readonly tenant: string;
      readonly id: string;
    };

/**
 * The Redis Cluster hash tag of a key: the text between the first `{` and the next `}`,
 * when non-empty; otherwise the whole key is hashed (Redis's own rule).
 */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

const ENTITY = /^([^{}:]+):\{([^{}:]+):([a-z]+):([^{}:]+)\}:(.+)$/;
const VALUE_SUFFIX = /^v([1-9]\d{0,5}):([^:{}]+)$/;
const RECO_SUFFIX = /^v([1-9]\d{0,5}):g(0|[1-9]\d{0,15}):([^:{}]+)$/;

/** Parse `key` under `namespace`; null when it is not a key of any cached family. */
export function parseKey(key: string, namespace: string): ParsedKey | null {
  const m = ENTITY.exec(key);
  if (m === null) return null;
  const [, ns, tenant, familyName, id, suffix] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (ns !== namespace || !matchesRule(TENANT, tenant)) return null;
  const spec = cachedSpec(familyName);
  if (spec === null || !matchesRule(ID_RULES[spec.idKind], id)) return null;

  const family = spec.family;
  if (suffix === 'fence' && spec.strategy === 'unlink+fence') return { kind: 'fence', family, tenant, id };
  if (suffix === 'gen' && spec.strategy === 'generation') return { kind: 'generation', family, tenant, id };

  if (family === 'reco') {
    const r = RECO_SUFFIX.exec(suffix);
    if (r === null || !matchesRule(ASIN, r[3])) return null;
    const generation = Number(r[2]);
    if (!Number.isSafeInteger(generation)) return null;
    return { kind: 'value', family, tenant, id, schemaVersion: Number(r[1]), generation, seedAsin: r[3] };
  }
  const v = VALUE_SUFFIX.exec(suffix);
  if (v === null || !matchesRule(LOCALE, v[2])) return null;
  return { kind: 'value', family, tenant, id, schemaVersion: Number(v[1]), locale: v[2] };
}

function cachedSpec(name: string): CachedFamilySpec | null {
  if (!Object.hasOwn(KEY_CONTRACT, name)) return null;
  const spec = KEY_CONTRACT[name as FamilyName];
  return spec.cached ? spec : null;
}
