/**
 * `npm run scenario -- <name>|all [--reads N]`: the seeds' stories on the local stack, with
 * the real fleet (worker processes) and the demo Orchestrator, on a private messaging
 * topology and private Redis (scenario-world.ts), every design of designs.ts through the
 * same workload in the same run. Prints one table per story (designs as rows, figures as
 * columns) and its verdicts; writes every figure to `<out>/results.json`. Exit 1 when a
 * verdict fails. docs/consistency.md has the runs.
 *
 *   node src/scenarios/main.ts all [--reads N] [--rate R] [--designs ours,naive,...]
 *        [--lag-window-ms 1000] [--poll-interval-s 60] [--seed 1] [--origin-budget 200]
 *        [--failover-ms 2000] [--env-file .local/env.json] [--out .local/scenarios/<time>] [--keep-traces]
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { runMain } from '../cli/run-main.ts';
import { parseDesigns } from './designs.ts';
import { createScenarioWorld } from './scenario-world.ts';
import { formatTable } from './story.ts';
import type { StoryOptions, StoryResult } from './story.ts';
import { STORIES, storiesNamed } from './stories/index.ts';

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
  return n;
};

export interface ScenarioRunOptions {
  readonly stories: readonly string[];
  readonly designs: string;
  readonly reads?: number;
  readonly rate?: number;
  readonly lagWindowMs: number;
  readonly pollIntervalS: number;
  readonly seed: number;
  readonly originBudget: number;
  readonly failoverMs: number;
  readonly envFile: string;
  readonly out: string;
  readonly keepTraces: boolean;
  readonly log?: (line: string) => void;
}

/** Runs the named stories in one private world; returns their results (tables are printed by the CLI). */
export async function runScenarios(o: ScenarioRunOptions): Promise<StoryResult[]> {
  const stories = storiesNamed(o.stories);
  const designs = parseDesigns(o.designs);
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const world = await createScenarioWorld({ envFile: o.envFile, dir: o.out });
  const results: StoryResult[] = [];
  try {
    const options: StoryOptions = {
      world,
      designs,
      reads: o.reads,
      rate: o.rate,
      lagWindowMs: o.lagWindowMs,
      pollIntervalMs: o.pollIntervalS * 1000,
      seed: o.seed,
      originBudgetPerS: o.originBudget,
      failoverMs: o.failoverMs,
      log,
    };
    for (const story of stories) {
      const started = Date.now();
      const result = await story.run(options);
      results.push(result);
      log(`${story.name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      writeFileSync(join(o.out, 'results.json'), JSON.stringify(results, null, 2));
    }
  } finally {
    await world
      .teardown()
      .catch((err: unknown) => log(`teardown of the private topology failed: ${String(err)}`));
    if (!o.keepTraces) for (const s of stories) rmSync(join(o.out, s.name), { recursive: true, force: true });
  }
  return results;
}

/** The text of one story's result: title, table, notes, verdicts. */
export function renderResult(r: StoryResult): string {
  return [
    `## ${r.title}`,
    '',
    formatTable(r),
    '',
    ...r.notes.map((n) => `- ${n}`),
    ...r.verdicts.map((v) => `- ${v.ok ? 'PASS' : 'FAIL'}: ${v.what}: ${v.detail}`),
    '',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const names = ['all', ...STORIES.map((s) => s.name)];
  const program = new Command('scenario')
    .description('the seeds stories, every design through the same workload, one table per story')
    .argument('<name>', `a story: ${names.join(', ')}`)
    .option('--reads <n>', 'reads per design in each story (default: the story size)', int(100))
    .option('--rate <n>', 'reads per second per reader process (default: the story rate)', int(1))
    .option(
      '--designs <list>',
      'designs to run: all, or a list of ours,naive,polling,ttl-l1,local-flight',
      'all',
    )
    .option(
      '--lag-window-ms <ms>',
      'the lag window: a read older than the truth by more counts stale',
      int(0),
      1000,
    )
    .option('--poll-interval-s <s>', "the polling design's interval", int(1), 60)
    .option('--seed <n>', 'seed of the read mix and the change stream', int(0), 1)
    .option('--origin-budget <n>', "stampede: the origin's budget, calls per second", int(1), 200)
    .option('--failover-ms <ms>', 'node replaced: time from the loss to the switch', int(0), 2000)
    .option('--env-file <file>', 'local stack description', '.local/env.json')
    .option('--out <dir>', 'where results.json (and traces) go')
    .option('--keep-traces', 'keep the JSONL read traces')
    .parse(argv);
  const [name = ''] = program.args;
  if (!names.includes(name)) program.error(`unknown story "${name}": one of ${names.join(', ')}`);
  const opts = program.opts<{
    reads?: number;
    rate?: number;
    designs: string;
    lagWindowMs: number;
    pollIntervalS: number;
    seed: number;
    originBudget: number;
    failoverMs: number;
    envFile: string;
    out?: string;
    keepTraces?: boolean;
  }>();
  const out = opts.out ?? join('.local', 'scenarios', new Date().toISOString().replace(/[:.]/g, '-'));
  const started = Date.now();
  const results = await runScenarios({
    ...opts,
    stories: name === 'all' ? STORIES.map((s) => s.name) : [name],
    out,
    keepTraces: opts.keepTraces === true,
  });
  for (const r of results) process.stdout.write(`${renderResult(r)}\n`);
  process.stdout.write(
    `${results.length} stories in ${((Date.now() - started) / 1000).toFixed(0)} s; figures in ${join(out, 'results.json')}\n`,
  );
  return results.every((r) => r.verdicts.every((v) => v.ok)) ? 0 : 1;
}

if (import.meta.main) runMain(main);
