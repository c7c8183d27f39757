/**
 * Options of the warm-up command, resolved from the raw flags and the local stack
 * description (`.local/env.json`) into validated settings. Pure; every problem at once.
 * Precedence: flag > env file > default.
 */
import type { RedisConfig } from '../adapters/redis/redis-connection.ts';
import { LOCALE, NAMESPACE, TENANT, matchesRule } from '../core/identifier-rules.ts';
import type { LocalStackDescription } from '../local/env-file.ts';
import { redisAccessTuning } from '../local/local-redis.ts';
import { DEFAULT_LOCALES, DEFAULT_NAMESPACE } from '../core/key-builder.ts';
import { DEFAULT_TENANT } from '../core/events/event-base.ts';
import type { FetchableFamily } from './cached-value-filter.ts';
import { MAX_KEYS_PER_RUN, mergeHotKeys } from './hot-keys.ts';
import { DEFAULT_BUDGET, budgetProblems } from './origin-budget.ts';
import type { OriginBudget } from './origin-budget.ts';
import { ID_RULE } from './warm-up.ts';

/** Flags as commander hands them over. */
export interface RawWarmOptions {
  readonly family?: string;
  readonly top?: string;
  readonly ids?: string;
  readonly rate?: string;
  readonly concurrency?: string;
  readonly attempts?: string;
  readonly redis?: string;
  readonly originUrl?: string;
  readonly namespace?: string;
  readonly tenant?: string;
  readonly locales?: string;
  readonly json?: boolean;
}

/** Validated settings; the ids are resolved later (the hot set needs Redis). */
export interface WarmSettings {
  readonly family: FetchableFamily;
  readonly top: number;
  /** Explicit ids (from --ids and --file), validated and deduplicated. */
  readonly ids: readonly string[];
  readonly budget: OriginBudget;
  readonly maxAttempts: number;
  readonly redis: RedisConfig;
  readonly originUrl: string;
  readonly namespace: string;
  readonly tenant: string;
  readonly locales: readonly string[];
  readonly json: boolean;
}

export type WarmResolution = { ok: true; settings: WarmSettings } | { ok: false; errors: string[] };

const FAMILIES: readonly FetchableFamily[] = ['product', 'review', 'promo'];

/** Ids of a file or a flag: separated by commas, whitespace or new lines; `#` starts a comment. */
export function parseIdList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter((id) => id.length > 0);
}

/** The parts of the local stack description the warm-up reads. */
export type WarmStackView = Pick<LocalStackDescription, 'redis' | 'origin'>;

/** Redis (the Sentinel group) and the origin from the stack description. */
function fromStack(stack: WarmStackView | undefined): { redis?: RedisConfig; originUrl?: string } {
  if (stack === undefined) return {};
  // TLS and the password, when the stack has them.
  const tuning = redisAccessTuning(stack.redis);
  return {
    redis: {
      mode: 'sentinel',
      sentinels: stack.redis.sentinels,
      name: stack.redis.sentinelName,
      ...(Object.keys(tuning).length === 0 ? {} : { tuning }),
    },
    originUrl: stack.origin.url,
  };
}

function integer(name: string, raw: string | undefined, fallback: number, errors: string[]): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw.trim())) {
    errors.push(`${name} must be a whole number, got "${raw}"`);
    return fallback;
  }
  return Number(raw);
}

/** Resolves `raw` (+ the ids of --file, + the validated env file) into settings or all errors. */
export function resolveWarmOptions(
  raw: RawWarmOptions,
  fileIds: readonly string[],
  stack: WarmStackView | undefined,
): WarmResolution {
  const errors: string[] = [];
  const family = raw.family as FetchableFamily;
  if (!FAMILIES.includes(family)) errors.push(`--family must be one of ${FAMILIES.join(', ')}`);
  const top = integer('--top', raw.top, 0, errors);
  if (top > MAX_KEYS_PER_RUN) errors.push(`--top must be at most ${MAX_KEYS_PER_RUN}`);
  const explicit = [...parseIdList(raw.ids ?? ''), ...fileIds];
  if (top === 0 && explicit.length === 0)
    errors.push('name the keys: --top N, --ids a,b,c or --file ids.txt');

  let ids: readonly string[] = [];
  if (FAMILIES.includes(family)) {
    const rule = ID_RULE[family];
    const bad = explicit.filter((id): boolean => !matchesRule(rule, id));
    if (bad.length > 0)
      errors.push(
        `${bad.length} id(s) are not valid ${rule.kind}s (${rule.description}), e.g. "${bad[0]?.slice(0, 20)}"`,
      );
    ids = mergeHotKeys([], explicit, rule).ids;
  }

  const budget: OriginBudget = {
    ratePerSecond: integer('--rate', raw.rate, DEFAULT_BUDGET.ratePerSecond, errors),
    concurrency: integer('--concurrency', raw.concurrency, DEFAULT_BUDGET.concurrency, errors),
  };
  errors.push(...budgetProblems(budget, '--').map((p) => `${p.variable.replace('--.', '--')} ${p.message}`));
  const maxAttempts = integer('--attempts', raw.attempts, 3, errors);
  if (maxAttempts < 1 || maxAttempts > 10) errors.push('--attempts must be from 1 to 10');

  const env = fromStack(stack);
  let redis = env.redis;
  if (raw.redis !== undefined) {
    const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(raw.redis);
    if (m === null) errors.push('--redis must be host:port');
    else
      redis = {
        mode: 'standalone',
        host: (m[1] ?? '').replace(/^\[(.*)\]$/, '$1'),
        port: Number(m[2]),
        // A node of the described stack takes its credentials.
        ...(env.redis?.tuning === undefined ? {} : { tuning: env.redis.tuning }),
      };
  }
  if (redis === undefined) errors.push('no Redis: pass --redis host:port or --env-file .local/env.json');
  const originUrl = raw.originUrl ?? env.originUrl;
  if (originUrl === undefined || !/^https?:\/\//.test(originUrl) || !URL.canParse(originUrl))
    errors.push('no origin: pass --origin-url http://host:port or --env-file with origin.url');

  const namespace = raw.namespace ?? DEFAULT_NAMESPACE;
  if (!matchesRule(NAMESPACE, namespace)) errors.push(`--namespace must be ${NAMESPACE.description}`);
  const tenant = raw.tenant ?? DEFAULT_TENANT;
  if (!matchesRule(TENANT, tenant)) errors.push(`--tenant must be ${TENANT.description}`);
  const locales = raw.locales === undefined ? DEFAULT_LOCALES : parseIdList(raw.locales);
  if (locales.length === 0 || !locales.every((l) => matchesRule(LOCALE, l)))
    errors.push(`--locales must list locales, each ${LOCALE.description}`);

  if (errors.length > 0 || redis === undefined || originUrl === undefined) return { ok: false, errors };
  return {
    ok: true,
    settings: Object.freeze({
      family,
      top,
      ids,
      budget,
      maxAttempts,
      redis,
      originUrl,
      namespace,
      tenant,
      locales,
      json: raw.json === true,
    }),
  };
}
