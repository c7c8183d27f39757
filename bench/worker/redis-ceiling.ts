/**
 * (c) The machine's limit for the same Redis commands: `redis-benchmark` (C client, 50
 * connections, pipelines of 10) runs each command of an event on its own, under the bench's
 * namespace, and the rates are combined into events per second:
 *
 *   events/s at the limit = 1 / (sum over the commands of one event of 1 / rate(command))
 *
 * i.e. the server spends 1/rate seconds per command, and one event needs all of them.
 * The naive event shape is UNLINK, UNLINK, INCR (fence), INCR (sequence), PUBLISH.
 * The same is done for the pipeline's own shape (one `invalidate` script per event, one
 * `broadcast` script per batch of 10), reported alongside for context.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';

const run = promisify(execFile);

export interface CommandRate {
  /** Label, e.g. `UNLINK`. */
  readonly name: string;
  /** The command line given to redis-benchmark. */
  readonly command: string;
  /** How many of it one event needs (fractions for per-batch commands). */
  readonly perEvent: number;
  readonly rps: number;
}

export interface Ceiling {
  readonly rates: readonly CommandRate[];
  /** 1 / sum(perEvent / rps). */
  readonly eventsPerSecond: number;
}

export interface CeilingOptions {
  readonly host: string;
  readonly port: number;
  readonly requests: number;
  readonly pipeline: number;
  readonly clients: number;
  readonly namespace: string;
}

/** The redis-benchmark arguments for one command (before the command itself). */
export function benchmarkArgs(o: CeilingOptions): string[] {
  return ['-h', o.host, '-p', String(o.port), '-n', String(o.requests), '-c', String(o.clients)].concat([
    '-P',
    String(o.pipeline),
    '-r',
    '100000',
    '--csv',
  ]);
}

async function rateOf(o: CeilingOptions, command: readonly string[]): Promise<number> {
  const { stdout } = await run('redis-benchmark', [...benchmarkArgs(o), ...command], { maxBuffer: 1 << 20 });
  // --csv: a header line, then "name","rps",...
  const row = stdout.trim().split('\n').at(-1) ?? '';
  const rps = Number(/^".*?","([\d.]+)"/.exec(row)?.[1]);
  if (!Number.isFinite(rps) || rps <= 0) throw new Error(`unexpected redis-benchmark output: ${stdout}`);
  return rps;
}

/** events/s = 1 / sum(perEvent / rps). */
export function combine(rates: readonly CommandRate[]): number {
  return 1 / rates.reduce((sum, r) => sum + r.perEvent / r.rps, 0);
}

/** A typical broadcast message body (one event), the size PUBLISH carries in the naive shape. */
function publishPayload(namespace: string): string {
  const tag = `${namespace}:{default:product:B00000000A}`;
  return JSON.stringify({
    v: 1,
    type: 'invalidate',
    seq: 1,
    keys: [`${tag}:v1:en-US`, `${tag}:v1:ja-JP`],
    fences: [`${tag}:fence`],
    eventIds: ['1b4e28ba-2fa1-41d2-883f-0016d3cca427'],
  });
}

/** The body apply-batch-n.lua receives for 10 events (it adds keys and fences itself). */
function batchBroadcastBody(): string {
  return JSON.stringify({
    v: 1,
    type: 'invalidate',
    eventIds: Array.from(
      { length: 10 },
      (_, i) => `1b4e28ba-2fa1-41d2-883f-0016d3cca4${String(i).padStart(2, '0')}`,
    ),
    originTimeMs: Date.now(),
  });
}

const lua = (file: string) =>
  readFileSync(new URL(`../../src/adapters/redis/lua/${file}`, import.meta.url), 'utf8');

/** The naive event's commands, each at its pipelined limit. */
export async function commandCeiling(o: CeilingOptions): Promise<Ceiling> {
  const ns = `${o.namespace}:rb`;
  return ceilingOf(o, [
    { name: 'UNLINK', perEvent: 2, command: ['UNLINK', `${ns}:v:__rand_int__`] },
    { name: 'INCR', perEvent: 2, command: ['INCR', `${ns}:f:__rand_int__`] },
    { name: 'PUBLISH', perEvent: 1, command: ['PUBLISH', `${ns}:l1`, publishPayload(o.namespace)] },
  ]);
}

/** Measures each command shape at its pipelined limit and combines them per event. */
async function ceilingOf(
  o: CeilingOptions,
  shapes: readonly { name: string; perEvent: number; command: string[] }[],
): Promise<Ceiling> {
  const rates: CommandRate[] = [];
  for (const s of shapes) {
    rates.push({
      name: s.name,
      perEvent: s.perEvent,
      command: shown(s.command),
      rps: await rateOf(o, s.command),
    });
  }
  return { rates, eventsPerSecond: combine(rates) };
}

/** The command line for the report: long payloads abbreviated with their size. */
function shown(command: readonly string[]): string {
  return command.map((a) => (a.length > 64 ? `${a.slice(0, 24)}…(${a.length} B)` : a)).join(' ');
}

/**
 * The pipeline's own script at its pipelined limit: one `apply-batch` call per batch (the
 * standalone/Sentinel path), each with `batchSize` products of 2 variants and a broadcast.
 */
export async function scriptCeiling(redis: Redis, o: CeilingOptions, batchSize: number): Promise<Ceiling> {
  const ns = `${o.namespace}:rb`;
  const applyBatch = (await redis.script('LOAD', lua('apply-batch-n.lua'))) as string;
  const keys: string[] = [`${ns}:{l1}:seq`];
  const args: string[] = [`${ns}:l1`, batchBroadcastBody(), String(batchSize)];
  for (let i = 0; i < batchSize; i++) {
    const tag = `${ns}:{__rand_int__${i}}`;
    keys.push(`${tag}:fence`, `${tag}:v1:en-US`, `${tag}:v1:ja-JP`);
    args.push('2', '3600000');
  }
  return ceilingOf(o, [
    {
      name: `EVALSHA apply-batch (${batchSize} products, 1 per ${batchSize} events)`,
      perEvent: 1 / batchSize,
      command: ['EVALSHA', applyBatch, String(keys.length), ...keys, ...args],
    },
  ]);
}
