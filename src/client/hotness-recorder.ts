/**
 * Read side (src/client/): the hotness recorder. Reads of a family are sampled (1 in k,
 * recorded with weight k) into the tenant's and family's sorted set (KeyBuilder.hotKeysKey),
 * whose scores decay exponentially with time constant tau: the scheme is in
 * hotness-decay.ts, the atomic update in hotness-record-1.lua (one EVALSHA per sampled read,
 * on the Redis server clock). The hourly refresh and the warm-up command read the set
 * through the HotKeySource (src/adapters/redis/hot-key-ranking.ts): ZREVRANGE orders ids by
 * decayed weight, so the top N are the ids read most lately, and they are refreshed before
 * they expire.
 *
 * Recording is fire-and-forget for the read path (`record` never throws and never waits);
 * failures are counted in `stats()`. The set is bounded (`maxMembers`, the coldest dropped)
 * and expires when nobody reads the family for `ttlMs`.
 */
import { withScripts } from '../adapters/redis/lua-scripts.ts';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';
import type { CachedFamily, KeyBuilder } from '../core/key-builder.ts';
import { createSampler, HOTNESS_DEFAULTS } from './hotness-decay.ts';

/** One read, as the recorder counts it. */
export interface HotRead {
  readonly tenant: string;
  readonly family: CachedFamily;
  readonly id: string;
}

export interface HotnessOptions {
  /** Decay time constant in ms. Default 1 h. */
  readonly tauMs?: number;
  /** 1 read in this many is recorded (with this weight). Default 16. */
  readonly sampleEvery?: number;
  /** Ids kept per set. Default 10,000. */
  readonly maxMembers?: number;
  /** Lifetime of a set nobody records into. Default 7 days. */
  readonly ttlMs?: number;
  /** Clock in ms; default: the Redis server clock (one clock for every process). */
  readonly now?: () => number;
  readonly random?: () => number;
}

type Settings = Required<Pick<HotnessOptions, 'tauMs' | 'maxMembers' | 'ttlMs'>> & {
  readonly now: (() => number) | undefined;
};

function settingsOf(options: HotnessOptions): Settings {
  const s = {
    tauMs: options.tauMs ?? HOTNESS_DEFAULTS.tauMs,
    maxMembers: options.maxMembers ?? HOTNESS_DEFAULTS.maxMembers,
    ttlMs: options.ttlMs ?? HOTNESS_DEFAULTS.ttlMs,
    now: options.now,
  };
  for (const [name, v] of [
    ['tauMs', s.tauMs],
    ['maxMembers', s.maxMembers],
    ['ttlMs', s.ttlMs],
  ] as const) {
    if (!(Number.isSafeInteger(v) && v > 0))
      throw new RangeError(`hotness ${name} must be a positive integer`);
  }
  return s;
}

/**
 * Adds `weight` reads of `id` now (one script call, unsampled): the primitive under the
 * recorder, and what tests call to make keys hot. Resolves with the new score.
 */
export async function recordHotness(
  client: RedisClient,
  keys: KeyBuilder,
  read: HotRead,
  weight = 1,
  options: HotnessOptions = {},
): Promise<number> {
  if (!(weight > 0 && Number.isFinite(weight))) throw new RangeError('hotness weight must be > 0');
  const s = settingsOf(options);
  const reply = await withScripts(client).mcHotnessRecord(
    keys.hotKeysKey(read.tenant, read.family),
    read.id,
    String(Math.log(weight)),
    s.tauMs,
    s.maxMembers,
    s.ttlMs,
    s.now === undefined ? '' : String(Math.round(s.now())),
  );
  return Number(reply);
}

/** A sampling recorder for a read path. */
export interface HotnessRecorder {
  /** Counts one read (sampled); never throws, never blocks the read. */
  record(read: HotRead): void;
  /** Reads seen, samples written, writes that failed. */
  stats(): { readonly reads: number; readonly sampled: number; readonly failed: number };
}

export function createHotnessRecorder(
  client: RedisClient,
  keys: KeyBuilder,
  options: HotnessOptions = {},
): HotnessRecorder {
  settingsOf(options); // validate once, up front
  const sampler = createSampler(options.sampleEvery ?? HOTNESS_DEFAULTS.sampleEvery, options.random);
  let reads = 0;
  let sampled = 0;
  let failed = 0;
  return {
    record(read) {
      reads++;
      const weight = sampler.next();
      if (weight === 0) return;
      sampled++;
      recordHotness(client, keys, read, weight, options).catch(() => {
        failed++;
      });
    },
    stats: () => ({ reads, sampled, failed }),
  };
}
