/**
 * Runs the worker fleet locally in the foreground: N worker processes against the local
 * stack (as ECS runs N tasks in AWS), restarted if one dies, stopped together on Ctrl-C
 * (SIGTERM to each, which drains its batches). Writes `.local/fleet.json` with the admin
 * endpoints, which the dashboard and the `lag` command read.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../observability/logger.ts';
import { readLocalStack } from '../local/env-file.ts';
import { localWorkerEnv, type LocalRedisMode } from '../local/local-worker-env.ts';
import { onStopSignal } from './run-main.ts';
import { workerHeapOptions } from '../config/worker-heap.ts';

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
};

const program = new Command('fleet')
  .description('run the invalidation worker fleet against the local stack')
  .option('-n, --workers <n>', 'worker processes', positiveInt, 2)
  .option('--env-file <file>', 'local stack description', '.local/env.json')
  .option('--admin-port <port>', 'admin port of the first worker; the others follow', positiveInt, 9464)
  .option('--redis-mode <mode>', 'sentinel | standalone | cluster', 'sentinel')
  .option('--log-level <level>', 'worker log level', 'info')
  .parse();
const opts = program.opts<{
  workers: number;
  envFile: string;
  adminPort: number;
  redisMode: LocalRedisMode;
  logLevel: string;
}>();

const logger = createLogger('fleet');
const stack = readLocalStack(opts.envFile);
const workerEntry = fileURLToPath(new URL('./worker.ts', import.meta.url));
const fleetFile = '.local/fleet.json';
const children = new Map<number, ChildProcess>();
let stopping = false;

function spawnWorker(index: number): void {
  if (stopping) return; // a restart scheduled just before Ctrl-C
  const adminPort = opts.adminPort + index;
  const env = localWorkerEnv(stack, {
    redisMode: opts.redisMode,
    adminPort,
    overrides: { WORKER_LOG_LEVEL: opts.logLevel },
  });
  // The heap limits of a deployed task (src/config/worker-heap.ts), so local memory is the stack's.
  const child = fork(workerEntry, [], {
    env: { ...process.env, ...env },
    execArgv: [...process.execArgv, ...workerHeapOptions()],
    stdio: 'inherit',
  });
  children.set(index, child);
  child.on('exit', (code, signal) => {
    children.delete(index);
    if (stopping) return;
    logger.warn({ worker: index, code, signal }, 'worker exited; restarting it in 1 s');
    setTimeout(() => spawnWorker(index), 1000).unref();
  });
}

for (let i = 0; i < opts.workers; i++) spawnWorker(i);
writeFileSync(
  fleetFile,
  JSON.stringify({
    targets: Array.from({ length: opts.workers }, (_, i) => `http://127.0.0.1:${opts.adminPort + i}`),
  }),
);
logger.info(
  {
    workers: opts.workers,
    adminPorts: `${opts.adminPort}-${opts.adminPort + opts.workers - 1}`,
    redis: opts.redisMode,
  },
  'fleet running; Ctrl-C stops it',
);

onStopSignal(
  async (signal) => {
    stopping = true;
    logger.info({ signal }, 'stopping the fleet (each worker drains its batches)');
    const exits = [...children.values()].map((child) => once(child, 'exit'));
    for (const child of children.values()) child.kill('SIGTERM');
    await Promise.all(exits);
    rmSync(fleetFile, { force: true });
    logger.info('fleet stopped');
  },
  { exitWhenStopped: true, reporter: logger },
);
