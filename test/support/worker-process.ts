/**
 * Real worker processes for end-to-end tests: `node src/cli/worker.ts` with the same
 * variables it gets in AWS, pointed at a private messaging stack and a test namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { workerHeapOptions } from '../../src/config/worker-heap.ts';
import { privateAccess } from '../../src/local/local-redis.ts';
import { localWorkerEnv, redisAccessEnv, type LocalRedisMode } from '../../src/local/local-worker-env.ts';
import { parseAppliedLine, type AppliedLine } from '../../src/scenarios/fleet-processes.ts';
import type { DeployedMessaging } from '../../infra/lib/messaging/deploy-messaging-locally.ts';
import { eventually } from './aws.ts';
import { stack } from './stack.ts';

const ENTRY = fileURLToPath(new URL('../../src/cli/worker.ts', import.meta.url));

export interface WorkerProcess {
  readonly proc: ChildProcess;
  readonly adminPort: number;
  /** Parsed JSON log lines so far. */
  readonly logs: Record<string, unknown>[];
  /** Its "invalidation applied" lines so far, one per event applied (logged at debug only). */
  readonly applied: readonly AppliedLine[];
  /** Sends a signal and resolves with the exit code (or signal) and how long the exit took. */
  stop(
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; tookMs: number }>;
}

export interface WorkerProcessOptions {
  readonly messaging: DeployedMessaging;
  readonly namespace: string;
  readonly redisMode?: LocalRedisMode;
  /**
   * Overrides REDIS_ADDRESSES with a private Redis or Sentinel group's (whose TLS and
   * password, privateAccess(), the worker then gets too).
   */
  readonly redisAddresses?: string;
  readonly env?: Record<string, string>;
}

export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  // The shared stack's Redis and LocalStack, this test's private topics and queues.
  const local = { ...stack(), topics: options.messaging.topics, queues: options.messaging.queues };
  const env = localWorkerEnv(local, {
    redisMode: options.redisMode ?? 'sentinel',
    adminPort: 0,
    overrides: {
      REDIS_KEY_NAMESPACE: options.namespace,
      WORKER_LOG_LEVEL: 'info',
      WORKER_WAIT_TIME_S: '1',
      // The tests' workers keep 2 pollers per queue (the default is 8): with 1 s polls, every
      // idle poller is a ReceiveMessage per second on the shared LocalStack.
      WORKER_POLLERS_PER_QUEUE: '2',
      ...(options.redisAddresses === undefined
        ? {}
        : { REDIS_ADDRESSES: options.redisAddresses, ...redisAccessEnv(privateAccess().tuning) }),
      ...options.env,
    },
  });
  // Launched as a task is (src/config/worker-heap.ts): the same heap limits.
  const proc = spawn(process.execPath, [...workerHeapOptions(), ENTRY], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const applied: AppliedLine[] = [];
  let stderr = '';
  let buffer = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const appliedLine = parseAppliedLine(line);
      if (appliedLine !== undefined) applied.push(appliedLine);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const started = await eventually(
    () => {
      if (proc.exitCode !== null) throw new Error(`worker exited with ${proc.exitCode}: ${stderr}`);
      return logs.find((l) => l.msg === 'worker started');
    },
    { timeoutMs: 20_000, what: 'the worker to start' },
  );
  return {
    proc,
    adminPort: Number(started.adminPort),
    logs,
    applied,
    stop(signal = 'SIGTERM') {
      const t0 = Date.now();
      return new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) {
          resolve({ code: proc.exitCode, signal: proc.signalCode, tookMs: 0 });
          return;
        }
        proc.once('exit', (code, sig) => resolve({ code, signal: sig, tookMs: Date.now() - t0 }));
        proc.kill(signal);
      });
    },
  };
}
