/**
 * (c) The machine's limit for the same Redis commands: `redis-benchmark` (C client, 50
 * connections, pipelines of 10) runs each command of an event on its own, under the bench's
 * namespace, and the rates are combined into events per second:
 *
 *   events/s at the limit = 1 / (sum over the commands of one event of count / rate(command))
 *
 * i.e. the server spends 1/rate seconds per command, and one event needs all of them.
 *
 * One event's commands are the work the pipeline does for one product, written as plain
 * commands: UNLINK of its two cached variants (keys that EXIST: deleting a key costs far more
 * than missing one, and only a real delete is replicated), INCR of its fence, PEXPIRE of the
 * fence (the fence TTL), INCR of the broadcast sequence and PUBLISH of the broadcast.
 * The naive baseline (b) sends exactly these commands, one round trip each.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { fenceTtlMs, KEY_CONTRACT } from '../../src/core/key-contract.ts';
import { replicaCaughtUp } from './bench-keys.ts';

const run = promisify(execFile);

export interface CommandRate {
  /** Label, e.g. `UNLINK`. */
  readonly name: string;
  /** The command line given to redis-benchmark (long payloads abbreviated). */
  readonly command: string;
  /** How many of it one event needs. */
  readonly perEvent: number;
  readonly rps: number;
}

export interface Ceiling {
  readonly rates: readonly CommandRate[];
  /** 1 / sum(perEvent / rps). */
  readonly eventsPerSecond: number;
  /** Share of the keys named by the UNLINK run that existed (and were deleted). */
  readonly unlinkHitRate: number;
}

export interface CeilingOptions {
  readonly host: string;
  readonly port: number;
  /** redis-cli-style TLS arguments (`--tls --cacert <ca>`), empty for plain TCP. */
  readonly tls?: readonly string[];
  /**
   * AUTH password. redis-benchmark does not read REDISCLI_AUTH, so it is passed with `-a`
   * (the local stack's throwaway password, visible in `ps` while the benchmark runs).
   */
  readonly password?: string;
  /** Requests per command run (UNLINK always runs UNLINK_REQUESTS, see UNLINK_KEYSPACE). */
  readonly requests: number;
  readonly pipeline: number;
  readonly clients: number;
  readonly namespace: string;
}

/** Fence TTL passed to PEXPIRE: the product family's, as the pipeline sets it. */
const FENCE_TTL_MS = String(fenceTtlMs(KEY_CONTRACT.product));

/** The redis-benchmark arguments for one command (before the command itself). */
export function benchmarkArgs(o: CeilingOptions, requests: number, keyspace: number): string[] {
  return [
    ...(o.tls ?? []),
    ...(o.password === undefined ? [] : ['-a', o.password]),
    '-h',
    o.host,
    '-p',
    String(o.port),
    '-n',
    String(requests),
    '-c',
    String(o.clients),
  ].concat(['-P', String(o.pipeline), '-r', String(keyspace), '--csv']);
}

async function rateOf(
  o: CeilingOptions,
  requests: number,
  keyspace: number,
  command: readonly string[],
): Promise<number> {
  const args = [...benchmarkArgs(o, requests, keyspace), ...command];
  const { stdout } = await run('redis-benchmark', args, { maxBuffer: 1 << 20 });
  // --csv: a header line, then "name","rps",...
  const row = stdout.trim().split('\n').at(-1) ?? '';
  const rps = Number(/^".*?","([\d.]+)"/.exec(row)?.[1]);
  if (!Number.isFinite(rps) || rps <= 0) throw new Error(`unexpected redis-benchmark output: ${stdout}`);
  return rps;
}

/** events/s = 1 / sum(perEvent / rps). */
export function combine(rates: readonly Pick<CommandRate, 'perEvent' | 'rps'>[]): number {
  return 1 / rates.reduce((sum, r) => sum + r.perEvent / r.rps, 0);
}

/** A typical broadcast message body (one event), the size PUBLISH carries in the naive shape. */
function publishPayload(namespace: string): string {
  const tag = `${namespace}:{default:product:B00000000A}`;
  return JSON.stringify({
    v: 1,
    type: 'invalidate',
    seq: 1,
    publishedAtMs: Date.now(),
    keys: [`${tag}:v1:en-US`, `${tag}:v1:ja-JP`],
    fences: [`${tag}:fence`],
    eventIds: ['1b4e28ba-2fa1-41d2-883f-0016d3cca427'],
    originTimeMs: Date.now(),
  });
}

/**
 * The UNLINK run deletes keys picked at random (`__rand_int__`) in a keyspace of
 * UNLINK_KEYSPACE keys that `prepareCeiling` fills first (three SETs per key: 95 % of them
 * exist) and each round tops up (one SET per key), so about nine in ten of the keys a run
 * names exist when it reaches them. The share is measured (DBSIZE before and after) and
 * reported.
 *
 * Why so many keys, and why filled before anything is measured: Redis' main dictionary
 * doubles when the key count passes a power of two, and then rehashes incrementally on
 * every command for a while, on the primary and on the replica. The bench's keys pass
 * 2^19 (524 288) once this keyspace exists; filling it during set-up makes that happen
 * before the first measured round instead of in the middle of one (where it cost a third of
 * that round's throughput, in every run, before this was done).
 */
export const UNLINK_KEYSPACE = 600_000;
const UNLINK_REQUESTS = 20_000;

const unlinkPattern = (o: CeilingOptions) => `${o.namespace}:rb:v:__rand_int__`;

async function fillUnlinkKeyspace(redis: Redis, o: CeilingOptions, setsPerKey: number): Promise<void> {
  // Cached values as the bench's (a) and (b) find them: a short string with a TTL.
  await rateOf(o, UNLINK_KEYSPACE * setsPerKey, UNLINK_KEYSPACE, [
    'SET',
    unlinkPattern(o),
    'cached-value',
    'EX',
    '1800',
  ]);
  await replicaCaughtUp(redis);
}

/** Fills the UNLINK keyspace (a few seconds); call before anything is measured. */
export async function prepareCeiling(redis: Redis, o: CeilingOptions): Promise<void> {
  await fillUnlinkKeyspace(redis, o, 3);
}

/** One measurement of every command of the event (call it once per bench round). */
export async function commandCeiling(redis: Redis, o: CeilingOptions): Promise<Ceiling> {
  const ns = `${o.namespace}:rb`;
  const channel = createKeyBuilder({ namespace: o.namespace }).l1Channel();
  await fillUnlinkKeyspace(redis, o, 1);
  const before = await redis.dbsize();
  const unlinkCommand = ['UNLINK', unlinkPattern(o), unlinkPattern(o)];
  const unlinkRps = await rateOf(o, UNLINK_REQUESTS, UNLINK_KEYSPACE, unlinkCommand);
  const deleted = before - (await redis.dbsize());
  const keyspace = 100_000;
  const shapes: { name: string; perEvent: number; command: string[] }[] = [
    { name: 'INCR fence', perEvent: 1, command: ['INCR', `${ns}:f:__rand_int__`] },
    { name: 'PEXPIRE fence', perEvent: 1, command: ['PEXPIRE', `${ns}:f:__rand_int__`, FENCE_TTL_MS] },
    { name: 'INCR sequence', perEvent: 1, command: ['INCR', `${ns}:{l1}:seq`] },
    { name: 'PUBLISH', perEvent: 1, command: ['PUBLISH', channel.channel, publishPayload(o.namespace)] },
  ];
  const rates: CommandRate[] = [
    { name: 'UNLINK 2 keys', perEvent: 1, command: shown(unlinkCommand), rps: unlinkRps },
  ];
  for (const s of shapes) {
    rates.push({
      name: s.name,
      perEvent: s.perEvent,
      command: shown(s.command),
      rps: await rateOf(o, o.requests, keyspace, s.command),
    });
  }
  return {
    rates,
    eventsPerSecond: combine(rates),
    unlinkHitRate: Math.max(0, deleted) / (UNLINK_REQUESTS * 2),
  };
}

/** The command line for the report: long payloads abbreviated with their size. */
function shown(command: readonly string[]): string {
  return command.map((a) => (a.length > 64 ? `${a.slice(0, 24)}…(${a.length} B)` : a)).join(' ');
}
