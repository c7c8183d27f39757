/**
 * Chaos drills against the local stack (issue 15), each on a private messaging topology and
 * a private Redis Sentinel group, with real worker processes, the demo Orchestrator's readers
 * and the origin simulator's event publisher under load (src/drills/):
 *
 *   npm run drill -- <name>[,<name>...]|all [--repeat N] [--profile fast|elasticache] [--size full|short]
 *                    [--events-per-s 20] [--reads-per-s 100] [--origin-budget 200] [--out dir]
 *                    [--worker-log-level debug|info|warn] [--designs ours,naive] [--naive-repeat 1]
 *                    [--soak-minutes 30] [--canary-interval-ms 250]
 *
 * Prints a row per repetition and a total per drill x profile x design; writes drills.json,
 * drills.txt and drills.html (charts: lag, origin load, stale reads over time, the fault
 * marked) under test-results/drills/<time>/. `--designs ours,naive` runs the scenarios'
 * naive design (src/scenarios/designs.ts) beside ours, `--naive-repeat` times per drill and
 * profile. Exit 0 when every repetition of ours passed, 1 otherwise: another design's
 * verdict is reported, never counted (drill-designs.ts).
 */
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { readLocalStack } from '../local/env-file.ts';
import type { SentinelProfile } from '../local/private-sentinel-group.ts';
import { DRILLS, drillByName, type DrillSize } from '../drills/drill-catalogue.ts';
import { designRuns, exitStatus, OURS, parseDrillDesigns } from '../drills/drill-designs.ts';
import type { Design } from '../scenarios/designs.ts';
import { formatTable, repetitionRow, totalRow, totals, writeRun } from '../drills/drill-report.ts';
import { plan, runDrill, type RepetitionResult } from '../drills/run-drills.ts';
import { runMain } from './run-main.ts';

/**
 * The soak's default event rate: the highest this 2-core machine's LocalStack sustains beside
 * the workers' canaries (12 publishes/s at 250 ms). 2026-12-01, 6-min probes: 48/s had 40 s
 * of lag over 2 s and 613 auditor findings of 36,490; 40/s none of either (docs/drills.md).
 */
const SOAK_EVENTS_PER_S = 40;

const num = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`expected a number >= ${min}`);
  return n;
};

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
  return n;
};

/** The worker's own rule (WORKER_CANARY_INTERVAL_MS): 0 (off) or 50-10000 ms. */
const canaryInterval = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || (n !== 0 && (n < 50 || n > 10_000)))
    throw new InvalidArgumentError('expected 0 (off) or a whole number of ms from 50 to 10000');
  return n;
};

const designList = (v: string): Design[] => {
  try {
    return parseDrillDesigns(v);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
};

export interface DrillArgs {
  readonly name: string;
  readonly repeat?: number;
  readonly profile?: SentinelProfile;
  readonly size: DrillSize;
  readonly eventsPerS: number;
  readonly readsPerS: number;
  readonly workers: number;
  readonly readers: number;
  readonly originBudget: number;
  readonly lagWindowMs: number;
  readonly out?: string;
  readonly envFile: string;
  readonly downAfterMs?: number;
  readonly workerLogLevel: string;
  readonly designs: readonly Design[];
  readonly naiveRepeat: number;
  readonly soakMinutes?: number;
  readonly canaryIntervalMs: number;
  /** The soak's events/s is its own unless --events-per-s was given. */
  readonly eventsPerSGiven: boolean;
}

export function machine(): string {
  const c = cpus();
  return `${c.length} x ${c[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`;
}

/**
 * The command's flags, parsed (argv as process.argv: node, script, args...). Bad input ends in
 * commander's error (exit 1 with the message; a CommanderError with `exitOverride`).
 */
export function parseDrillArgs(
  argv: readonly string[],
  configure: (c: Command) => Command = (c) => c,
): DrillArgs {
  const program = configure(new Command('drill'))
    .description('chaos drills on the local stack, with figures')
    .argument('<name>', `a drill, several (a,b) or "all": ${DRILLS.map((d) => d.name).join(', ')}`)
    .option('--repeat <n>', "repetitions (default: the drill's full count; 1 with --size short)", num(1))
    .addOption(
      new Option('--profile <profile>', "failover profile (default: each drill's own)").choices([
        'fast',
        'elasticache',
      ]),
    )
    .addOption(new Option('--size <size>', 'fault durations').choices(['full', 'short']).default('full'))
    .option('--events-per-s <r>', 'origin changes (events) per second', num(0.1), 20)
    .option('--reads-per-s <r>', 'reads per second over all readers', num(1), 100)
    .option('--workers <n>', 'worker processes', num(1), 2)
    .option('--readers <n>', 'reader processes', num(1), 2)
    .option('--origin-budget <r>', "the origin's budget: calls per second per endpoint", num(1), 200)
    .option('--lag-window-ms <ms>', 'a read older than the truth by more than this is stale', num(0), 2_000)
    .option(
      '--down-after-ms <ms>',
      "Sentinel's detection time for every drill (default: the profile's)",
      num(100),
    )
    .option('--soak-minutes <m>', "the soak's length (default 30; 12 s with --size short)", num(0.1))
    .option(
      '--canary-interval-ms <ms>',
      "the workers' pipeline canary interval (decision 0022); 0: no canaries and no pipeline guard",
      canaryInterval,
      250,
    )
    .addOption(
      new Option(
        '--worker-log-level <level>',
        "the workers' log level (debug: a line per event, the second witness of an apply beside the broadcast tap)",
      )
        .choices(['debug', 'info', 'warn'])
        .default('debug'),
    )
    .addOption(
      new Option(
        '--designs <list>',
        'designs of the scenarios (src/scenarios/designs.ts) to run, e.g. ours,naive; each repetition its own world',
      )
        .argParser(designList)
        .default([OURS], 'ours'),
    )
    .option(
      '--naive-repeat <n>',
      'repetitions of each design other than ours, per drill and profile (ours keeps --repeat)',
      int(1),
      1,
    )
    .option('--out <dir>', 'output directory (default test-results/drills/<time>)')
    .option('--env-file <file>', 'local stack description', '.local/env.json');
  program.parse(argv);
  const name = program.args[0] ?? '';
  const o = program.opts<Omit<DrillArgs, 'name' | 'eventsPerSGiven'>>();
  const selected = name === 'all' ? DRILLS : name.split(',').map((n) => drillByName(n.trim()));
  if (selected.some((d) => d === undefined))
    program.error(`unknown drill "${name}": one of ${DRILLS.map((d) => d.name).join(', ')}, or all`);
  if (
    program.getOptionValueSource('naiveRepeat') !== 'default' &&
    o.designs.every((d) => d.name === OURS.name)
  )
    program.error(
      '--naive-repeat counts the repetitions of a design other than ours: add one with --designs',
    );
  return { ...o, name, eventsPerSGiven: program.getOptionValueSource('eventsPerS') !== 'default' };
}

export async function main(argv: readonly string[]): Promise<number> {
  const o = parseDrillArgs(argv);
  const name = o.name;
  const selected = (name === 'all' ? DRILLS : name.split(',').map((n) => drillByName(n.trim()))).filter(
    (d) => d !== undefined,
  );
  const stack = readLocalStack(o.envFile);
  const outDir = o.out ?? join('test-results', 'drills', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(outDir, { recursive: true });
  const command = `npm run drill -- ${argv.slice(2).join(' ')}`;
  const startedAt = new Date().toISOString();
  const all: RepetitionResult[] = [];
  const write = () =>
    writeRun(outDir, {
      command,
      machine: machine(),
      startedAt,
      finishedAt: new Date().toISOString(),
      options: { ...o, designs: o.designs.map((d) => d.name), drills: name },
      totals: totals(all),
      repetitions: all,
    });
  for (const { drill, profile } of plan(selected, o.profile)) {
    const results = await runDrill(drill, profile, {
      stack,
      size: o.size,
      runs: designRuns(drill, {
        size: o.size,
        ...(o.repeat === undefined ? {} : { repeat: o.repeat }),
        otherRepeat: o.naiveRepeat,
        designs: o.designs,
      }),
      ...(o.profile === undefined ? {} : { profile: o.profile }),
      // The soak runs at the highest rate sustained here unless a rate is given.
      eventsPerS: drill.name === 'soak' && !o.eventsPerSGiven ? SOAK_EVENTS_PER_S : o.eventsPerS,
      readsPerS: o.readsPerS,
      workers: o.workers,
      readers: o.readers,
      originBudgetPerS: o.originBudget,
      lagWindowMs: o.lagWindowMs,
      catalogSize: 10_000,
      users: 2_000,
      outDir,
      ...(o.downAfterMs === undefined ? {} : { downAfterMs: o.downAfterMs }),
      ...(o.soakMinutes === undefined ? {} : { soakMs: Math.round(o.soakMinutes * 60_000) }),
      canaryIntervalMs: o.canaryIntervalMs,
      workerEnv: { WORKER_LOG_LEVEL: o.workerLogLevel },
      log: (line) => process.stderr.write(`${line}\n`),
      onRepetition: (r) => {
        all.push(r);
        process.stdout.write(`${repetitionRow(r).join(' | ')}\n`);
        write();
      },
    });
    for (const t of totals(results)) process.stdout.write(`${totalRow(t).join(' | ')}\n`);
  }
  const files = write();
  process.stdout.write(
    `\n${formatTable([...all.map(repetitionRow), ...totals(all).map(totalRow)])}\n\n${files.table}\n${files.json}\n${files.html}\n`,
  );
  return exitStatus(all);
}

// Exit when done: a client left reconnecting to a killed node must not hold the run open.
// On a signal, exit through process.exit so every world's exit hook kills its processes
// (workers, readers, redis-server, Sentinels, Toxiproxy); the results so far are written.
if (import.meta.main) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  runMain(async (argv) => process.exit(await main(argv)));
}
