/**
 * The demo Orchestrator: N reader processes (reader-process.ts) that read the Zipf mix
 * through the cache client (or, with --mode naive, a hand-written cache-aside) against the
 * origin simulator, each with its Prometheus admin port for the dashboard. Writes
 * `.local/orchestrator.json` ({ targets, mode }) which the dashboard reads; a child that
 * dies is restarted; SIGINT/SIGTERM stop them all (each finishes its reads in flight).
 *
 *   node src/orchestrator-sim/main.ts [--processes 2] [--rate 25] [--skew 1.0] [--mode client|naive|ttl-l1|local-flight]
 *        [--admin-port 9480] [--env-file .local/env.json] [--redis-mode sentinel|standalone|cluster]
 *        [--catalog 10000] [--users 2000] [--mix product=0.5,promo=0.2,reco=0.15,review=0.15]
 *        [--l1 10000] [--hotness-sample 16] [--trace-dir .local/reads] [--duration 0] [--seed 1]
 *        [--namespace mc] [--tenant default] [--locales en-US,ja-JP]
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { onStopSignal, runMain } from '../cli/run-main.ts';
import { DEFAULT_LOCALES, DEFAULT_NAMESPACE } from '../core/key-builder.ts';
import { readLocalStack } from '../local/env-file.ts';
import { READER_MODES } from './reader-settings.ts';
import type { ReaderMode, ReaderSettings } from './reader-settings.ts';

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
  return n;
};
const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
};
const mixOf = (v: string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const part of v.split(',').filter((p) => p.trim() !== '')) {
    const [family = '', share = ''] = part.split('=');
    if (!['product', 'promo', 'reco', 'review'].includes(family.trim()) || !(Number(share) >= 0))
      throw new InvalidArgumentError(`mix entries look like product=0.5, got "${part}"`);
    out[family.trim()] = Number(share);
  }
  return out;
};

export interface OrchestratorOptions {
  processes: number;
  rate: number;
  skew: number;
  mode: ReaderMode;
  adminPort: number;
  envFile: string;
  redisMode: 'sentinel' | 'standalone' | 'cluster';
  catalog: number;
  users: number;
  mix?: Record<string, number>;
  l1: number;
  hotnessSample: number;
  traceDir?: string;
  duration: number;
  seed?: number;
  namespace: string;
  tenant: string;
  locales: string;
  maxInFlight: number;
  fleetFile: string;
}

/** The settings of reader `index` (what the child validates again). */
export function readerSettings(o: OrchestratorOptions, index: number): ReaderSettings {
  const stack = readLocalStack(o.envFile);
  const redis: ReaderSettings['redis'] =
    o.redisMode === 'sentinel'
      ? { mode: 'sentinel', sentinels: stack.redis.sentinels, name: stack.redis.sentinelName }
      : o.redisMode === 'cluster'
        ? { mode: 'cluster', nodes: stack.redis.cluster }
        : { mode: 'standalone', ...stack.redis.primary };
  return {
    index,
    mode: o.mode,
    rate: o.rate,
    maxInFlight: o.maxInFlight,
    skew: o.skew,
    catalogSize: o.catalog,
    users: o.users,
    ...(o.mix === undefined ? {} : { mix: o.mix }),
    redis,
    redisAccess: {
      ...(stack.redis.tls === undefined ? {} : { tls: stack.redis.tls }),
      ...(stack.redis.passwordFile === undefined ? {} : { passwordFile: stack.redis.passwordFile }),
    },
    namespace: o.namespace,
    locales: o.locales.split(',').map((l) => l.trim()),
    tenant: o.tenant,
    originUrl: stack.origin.url,
    adminPort: o.adminPort + index,
    l1Entries: o.l1,
    hotnessSampleEvery: o.hotnessSample,
    ...(o.traceDir === undefined ? {} : { tracePath: join(o.traceDir, `reader-${index}.jsonl`) }),
    durationS: o.duration,
    ...(o.seed === undefined ? {} : { seed: o.seed }),
  };
}

export const READER_ENTRY = fileURLToPath(new URL('./reader-process.ts', import.meta.url));

export function main(argv: readonly string[]): Promise<void> {
  const program = new Command('orchestrator-sim')
    .description('demo Orchestrator: reader processes using the cache client against the origin simulator')
    .option('-n, --processes <n>', 'reader processes', int(1), 2)
    .option('--rate <n>', 'reads per second per process', num, 25)
    .option('--skew <s>', 'Zipf exponent over the catalog (0: uniform)', num, 1.0)
    .addOption(
      new Option(
        '--mode <mode>',
        'cache client; naive cache-aside; ttl-l1 (per-task L1 only); local-flight (in-process single-flight only)',
      )
        .choices(READER_MODES)
        .default('client'),
    )
    .option('--admin-port <port>', 'admin port of the first reader; the others follow', int(1), 9480)
    .option('--env-file <file>', 'local stack description', '.local/env.json')
    .addOption(
      new Option('--redis-mode <mode>').choices(['sentinel', 'standalone', 'cluster']).default('sentinel'),
    )
    .option('--catalog <n>', 'ASINs in the catalog', int(1), 10_000)
    .option('--users <n>', 'users of the reco reads', int(1), 2_000)
    .option('--mix <list>', 'read shares, e.g. product=0.5,promo=0.2,reco=0.15,review=0.15', mixOf)
    .option('--l1 <entries>', 'L1 entries per process (0: no L1)', int(0), 10_000)
    .option('--hotness-sample <k>', 'record 1 read in k for hotness (0: off)', int(0), 16)
    .option('--trace-dir <dir>', 'write a JSONL trace of every read (reader-<i>.jsonl)')
    .option('--duration <s>', 'stop after this many seconds (0: until Ctrl-C)', num, 0)
    .option('--seed <n>', 'seed of the read mix (reproducible runs)', int(0))
    .option('--max-in-flight <n>', 'reads in flight per process at most', int(1), 256)
    .option('--namespace <ns>', "key namespace (the fleet's)", DEFAULT_NAMESPACE)
    .option('--tenant <tenant>', 'tenant', 'default')
    .option('--locales <list>', "the fleet's locales", DEFAULT_LOCALES.join(','))
    .option('--fleet-file <file>', 'where the admin targets are written', '.local/orchestrator.json')
    .parse(argv);
  const o = program.opts<OrchestratorOptions>();
  if (o.traceDir !== undefined) mkdirSync(o.traceDir, { recursive: true });

  const children = new Map<number, ChildProcess>();
  let stopping = false;
  const spawn = (index: number): void => {
    if (stopping) return;
    const child = fork(READER_ENTRY, [JSON.stringify(readerSettings(o, index))], { stdio: 'inherit' });
    children.set(index, child);
    child.on('exit', (code, signal) => {
      children.delete(index);
      if (stopping) return;
      if (o.duration > 0 && code === 0) {
        if (children.size === 0) rmSync(o.fleetFile, { force: true });
        return;
      }
      process.stderr.write(
        `orchestrator-sim: reader ${index} exited (${code ?? signal}); restarting in 1 s\n`,
      );
      setTimeout(() => spawn(index), 1000).unref();
    });
  };
  for (let i = 0; i < o.processes; i++) spawn(i);
  const targets = Array.from({ length: o.processes }, (_, i) => `http://127.0.0.1:${o.adminPort + i}`);
  writeFileSync(o.fleetFile, JSON.stringify({ targets, mode: o.mode }));
  process.stdout.write(
    `orchestrator-sim: ${o.processes} ${o.mode} readers at ${o.rate} reads/s each, skew ${o.skew}; admin ${targets.join(', ')}\n`,
  );

  onStopSignal(
    async () => {
      stopping = true;
      const exits = [...children.values()].map((c) => once(c, 'exit'));
      for (const c of children.values()) c.kill('SIGTERM');
      await Promise.all(exits);
      rmSync(o.fleetFile, { force: true });
    },
    { exitWhenStopped: true },
  );
  return Promise.resolve();
}

if (import.meta.main) runMain(main);
