/**
 * Read side (src/client/): what every writer of a cached value calls, the Orchestrator's
 * cache client and the hourly refresh alike; the worker never populates.
 *
 * The fenced populate protocol (Meta memcache leases, DESIGN rule 3). A reader:
 *   1. `readFence(fence, fenceTtlMs)` BEFORE fetching from the origin -> token (a missing
 *      fence is created at the Redis clock in µs, so no reader ever holds "0");
 *   2. fetches the origin;
 *   3. `populate(valueKey, fence, token, value, ttl)`: stored only if the fence still
 *      exists and equals the token. An invalidation in between bumps the fence to a value
 *      never issued before (max(current + 1, µs clock), DESIGN rule 8), so the (possibly
 *      old) value is refused instead of resurrected; a fence that vanished meanwhile also
 *      refuses (a miss, never a stale fill). See docs/decisions/0007-fences-never-reissued.md.
 * For reco the fence is the user's generation key; the caller reads the generation, builds
 * the key with it (`g<generation>`, a µs-sized integer), and passes the same generation as
 * token.
 *
 * Versioned values (optional): a value written with a version is stored as
 * `<version>|<data>`, and a write with a LOWER version than the stored one is refused
 * (versions decide anything that writes). Read such values with `decodeVersioned`.
 */
import type { CacheKey, FenceKey } from '../core/identifiers.ts';
import { withScripts } from '../adapters/redis/lua-scripts.ts';
import type { PopulateReply } from '../adapters/redis/lua-scripts.ts';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';

/** A fence value read before an origin fetch. Decimal string: exact for any counter. */
export type FenceToken = string & { readonly __fenceToken: true };

export type PopulateOutcome = PopulateReply;

export interface PopulateOptions {
  /** Base TTL in ms from the key contract. */
  readonly ttlMs: number;
  /** Up to this many ms are added at random so keys filled together do not expire together. */
  readonly jitterMs?: number;
  /** Version of the value; enables the older-version refusal and the `<version>|` frame. */
  readonly version?: number;
  /** Random source in [0, 1), injectable for tests. */
  readonly random?: () => number;
}

/**
 * Reads the current fence value as a token. A missing fence is created (read-fence-1.lua) at
 * the Redis server time in µs with `fenceTtlMs` (`fenceTtlMs(spec)` of the entity's family),
 * so the token is always a value the fence really held.
 */
export async function readFence(
  client: RedisClient,
  fence: FenceKey,
  fenceTtlMs: number,
): Promise<FenceToken> {
  if (!(Number.isSafeInteger(fenceTtlMs) && fenceTtlMs > 0)) {
    throw new RangeError(`readFence: fenceTtlMs must be a positive integer, got ${fenceTtlMs}`);
  }
  return String(await withScripts(client).mcReadFence(fence, fenceTtlMs)) as FenceToken;
}

/** Stores `value` only if `fence` still equals `token`; see the module header. */
export async function populate(
  client: RedisClient,
  valueKey: CacheKey,
  fence: FenceKey,
  token: FenceToken,
  value: string,
  options: PopulateOptions,
): Promise<PopulateOutcome> {
  if (!(options.ttlMs > 0)) throw new RangeError(`populate: ttlMs must be > 0, got ${options.ttlMs}`);
  const jitter = Math.floor((options.random ?? Math.random)() * Math.max(0, options.jitterMs ?? 0));
  const versioned = options.version !== undefined;
  if (versioned && !Number.isSafeInteger(options.version)) {
    throw new RangeError(`populate: version must be a safe integer, got ${options.version}`);
  }
  const stored = versioned ? encodeVersioned(options.version ?? 0, value) : value;
  return (await withScripts(client).mcPopulate(
    valueKey,
    fence,
    token,
    stored,
    Math.round(options.ttlMs) + jitter,
    versioned ? String(options.version) : '',
  )) as PopulateOutcome;
}

/** Frames a versioned value as stored by `populate`. */
export function encodeVersioned(version: number, data: string): string {
  return `${version}|${data}`;
}

/** Splits a stored versioned value; undefined when it is not framed. */
export function decodeVersioned(raw: string): { version: number; data: string } | undefined {
  const sep = raw.indexOf('|');
  if (sep <= 0) return undefined;
  const version = Number(raw.slice(0, sep));
  return Number.isSafeInteger(version) ? { version, data: raw.slice(sep + 1) } : undefined;
}
