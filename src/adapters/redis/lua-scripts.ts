/**
 * The project's Lua scripts, read once from `./lua/` and registered on a client with
 * ioredis `defineCommand` (EVALSHA, falling back to EVAL on NOSCRIPT, also inside pipelines).
 * The typed views below replace ioredis' untyped dynamic methods at this one boundary.
 */
import { readFileSync } from 'node:fs';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './redis-connection.ts';

/** Reply of invalidate-n.lua: [deleted, fence value after the bump (max(current + 1, µs clock))]. */
export type InvalidateReply = [deleted: number, fence: number];
/** Reply of broadcast-1.lua and heartbeat-1.lua: [seq, receivers, publishedAtMs]. */
export type PublishReply = [seq: number, receivers: number, publishedAtMs: number];
/** Reply of populate-2.lua. */
export type PopulateReply = 'stored' | 'refused-stale' | 'refused-older';
/** Reply of lease-acquire-3.lua: the stored value, or the lease decision with the fence token. */
export type LeaseAcquireReply = [kind: 'value', raw: string] | [kind: 'granted' | 'wait', token: string];

interface ScriptSpec {
  readonly file: string;
  /** Undefined for variadic scripts: the caller passes numkeys first. */
  readonly numberOfKeys: number | undefined;
}

// The key count is in each file name (bullmq's habit); `n` marks a variadic script.
const SCRIPTS = {
  mcInvalidate: { file: 'invalidate-n.lua', numberOfKeys: undefined },
  mcApplyBatch: { file: 'apply-batch-n.lua', numberOfKeys: undefined },
  mcBroadcast: { file: 'broadcast-1.lua', numberOfKeys: 1 },
  mcHeartbeat: { file: 'heartbeat-1.lua', numberOfKeys: 1 },
  mcPopulate: { file: 'populate-2.lua', numberOfKeys: 2 },
  mcReadFence: { file: 'read-fence-1.lua', numberOfKeys: 1 },
  mcRefreshLockRenew: { file: 'refresh-lock-renew-1.lua', numberOfKeys: 1 },
  mcRefreshLockRelease: { file: 'refresh-lock-release-1.lua', numberOfKeys: 1 },
  mcLeaseAcquire: { file: 'lease-acquire-3.lua', numberOfKeys: 3 },
  mcLeaseRelease: { file: 'lease-release-1.lua', numberOfKeys: 1 },
  mcHotnessRecord: { file: 'hotness-record-1.lua', numberOfKeys: 1 },
} as const satisfies Record<string, ScriptSpec>;

type ScriptName = keyof typeof SCRIPTS;

const sources = new Map<ScriptName, string>();

function source(name: ScriptName): string {
  let lua = sources.get(name);
  if (lua === undefined) {
    lua = readFileSync(new URL(`./lua/${SCRIPTS[name].file}`, import.meta.url), 'utf8');
    sources.set(name, lua);
  }
  return lua;
}

/** Commands added by `withScripts`, as callable on a client (promise) or a pipeline (queued). */
export interface ScriptCommands<R> {
  /** Keys first (fence, then the keys to unlink), then ARGV[1]: the fence TTL in ms. */
  mcInvalidate(numkeys: number, fence: string, ...keysThenFenceTtlMs: string[]): R;
  /** Keys (sequence key, then per entity: fence, value keys), then ARGV; see apply-batch-n.lua. */
  mcApplyBatch(numkeys: number, ...keysThenArgs: string[]): R;
  mcBroadcast(seqKey: string, channel: string, body: string): R;
  mcHeartbeat(seqKey: string, channel: string): R;
  mcPopulate(
    valueKey: string,
    fenceKey: string,
    token: string,
    value: string,
    ttlMs: number,
    version: string,
  ): R;
  /** The fence value as a token; a missing fence is created at the server clock in µs. */
  mcReadFence(fenceKey: string, fenceTtlMs: number): R;
  /** Extends the refresh run lock while it holds `token`. */
  mcRefreshLockRenew(lockKey: string, token: string, ttlMs: number): R;
  /** Deletes the refresh run lock while it holds `token`. */
  mcRefreshLockRelease(lockKey: string, token: string): R;
  /** The value, or a fill lease with the fence token (read side; see lease-acquire-3.lua). */
  mcLeaseAcquire(
    valueKey: string,
    fenceKey: string,
    leaseKey: string,
    fenceTtlMs: number,
    leaseTtlMs: number,
    owner: string,
    force: '1' | '',
  ): R;
  /** Releases a fill lease held as `lease` and publishes `notice` on `channel`. */
  mcLeaseRelease(leaseKey: string, lease: string, channel: string, notice: string): R;
  /** Adds a sampled read to a decaying hotness set; see hotness-record-1.lua. Reply: the new score. */
  mcHotnessRecord(
    hotKey: string,
    id: string,
    lnWeight: string,
    tauMs: number,
    maxMembers: number,
    ttlMs: number,
    nowMs: string,
  ): R;
}

/** A client with the scripts defined. */
export type ScriptedClient = RedisClient & ScriptCommands<Promise<unknown>>;
/** A pipeline of a scripted client. */
export type ScriptedPipeline = ChainableCommander & ScriptCommands<ScriptedPipeline>;

const scripted = new WeakSet<RedisClient>();

/** Defines the project's scripts on `client` (once per client) and returns its typed view. */
export function withScripts(client: RedisClient): ScriptedClient {
  if (!scripted.has(client)) {
    for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
      const spec: ScriptSpec = SCRIPTS[name];
      client.defineCommand(
        name,
        spec.numberOfKeys === undefined
          ? { lua: source(name) }
          : { lua: source(name), numberOfKeys: spec.numberOfKeys },
      );
    }
    scripted.add(client);
  }
  return client as ScriptedClient;
}

/** A pipeline of a scripted client, typed with the script commands. */
export function scriptedPipeline(client: ScriptedClient): ScriptedPipeline {
  return client.pipeline() as ScriptedPipeline;
}
