/**
 * The drill's worker fleet: real worker processes (`node src/cli/worker.ts`, the container's
 * command) with the variables they get in AWS, pointed at the drill's private topology, its
 * private Redis and its own key namespace. A worker can be killed (SIGKILL, as a lost task)
 * and replaced (as ECS would start a new task). Each worker's readiness (`/readyz`) and RSS
 * (`/proc/<pid>/status`) can be sampled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerHeapOptions } from '../config/worker-heap.ts';

const ENTRY = fileURLToPath(new URL('../cli/worker.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export interface WorkerHandle {
  readonly id: number;
  readonly proc: ChildProcess;
  readonly adminPort: number;
  readonly startedAt: number;
  /** JSON log lines (the last 2,000). */
  readonly logs: Record<string, unknown>[];
  alive(): boolean;
}

export interface FleetSample {
  readonly alive: number;
  readonly ready: number;
  /** RSS of each live worker, MiB. */
  readonly rssMiB: readonly number[];
}

export interface WorkerFleet {
  readonly workers: () => readonly WorkerHandle[];
  /** Starts one more worker; resolves once it logged "worker started". */
  add(): Promise<WorkerHandle>;
  /** SIGKILL of a live worker (the first by default); resolves when it is gone. */
  kill(worker?: WorkerHandle): Promise<{ killedAt: number; worker: WorkerHandle }>;
  sample(): Promise<FleetSample>;
  /** SIGTERM to all (they drain), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Starts `count` workers with `env` (complete worker variables); their logs go to `logDir`/worker-<id>.log. */
export async function startWorkerFleet(
  env: Record<string, string>,
  count: number,
  logDir?: string,
): Promise<WorkerFleet> {
  const all: WorkerHandle[] = [];
  let nextId = 1;
  const onExit = () => {
    for (const w of all) if (w.alive()) w.proc.kill('SIGKILL');
  };
  process.once('exit', onExit);

  async function add(): Promise<WorkerHandle> {
    // Launched as a task is (src/config/worker-heap.ts): the same heap limits, so the soak's
    // RSS is the deployed worker's.
    const proc = spawn(process.execPath, [...workerHeapOptions(), ENTRY], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: Record<string, unknown>[] = [];
    const id = nextId++;
    if (logDir !== undefined) {
      const file = createWriteStream(join(logDir, `worker-${id}.log`));
      proc.stdout?.pipe(file);
      proc.stderr?.pipe(file);
    }
    let stderr = '';
    let buffer = '';
    let started: Record<string, unknown> | undefined;
    proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line) as Record<string, unknown>;
        } catch {
          parsed = { msg: line };
        }
        if (parsed.msg === 'worker started') started = parsed;
        logs.push(parsed);
        if (logs.length > 2_000) logs.splice(0, logs.length - 2_000);
      }
    });
    proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4_000);
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (started === undefined) {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`worker exited at start-up (${proc.exitCode ?? proc.signalCode}): ${stderr}`);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`worker did not start within ${START_TIMEOUT_MS} ms: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const handle: WorkerHandle = {
      id,
      proc,
      adminPort: Number(started.adminPort),
      startedAt: Date.now(),
      logs,
      alive: () => proc.exitCode === null && proc.signalCode === null,
    };
    all.push(handle);
    return handle;
  }

  async function ready(w: WorkerHandle): Promise<boolean> {
    try {
      const res = await fetch(`http://127.0.0.1:${w.adminPort}/readyz`, { signal: AbortSignal.timeout(800) });
      await res.body?.cancel();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  const fleet: WorkerFleet = {
    workers: () => all.filter((w) => w.alive()),
    add,
    async kill(worker) {
      const w = worker ?? all.find((x) => x.alive());
      if (!w) throw new Error('no live worker to kill');
      const gone = new Promise((r) => w.proc.once('exit', r));
      const killedAt = Date.now();
      w.proc.kill('SIGKILL');
      await gone;
      return { killedAt, worker: w };
    },
    async sample() {
      const live = all.filter((w) => w.alive());
      const readiness = await Promise.all(live.map(ready));
      return {
        alive: live.length,
        ready: readiness.filter(Boolean).length,
        rssMiB: live.map((w) => rssMiB(w.proc.pid)).filter((x): x is number => x !== undefined),
      };
    },
    async stop(timeoutMs = 15_000) {
      process.off('exit', onExit);
      await Promise.all(
        all
          .filter((w) => w.alive())
          .map(async (w) => {
            const gone = new Promise((r) => w.proc.once('exit', r));
            w.proc.kill('SIGTERM');
            const timer = setTimeout(() => w.proc.kill('SIGKILL'), timeoutMs);
            await gone;
            clearTimeout(timer);
          }),
      );
    },
  };
  for (let i = 0; i < count; i++) await add();
  return fleet;
}

/** Resident set size of `pid` in MiB (Linux), undefined when unknown. */
export function rssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
