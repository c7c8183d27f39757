/**
 * The real fleet of a scenario: worker processes (`src/cli/worker.ts`, the container's
 * command) on the scenario's private topology and Redis endpoint, and the demo
 * Orchestrator's reader processes (`src/orchestrator-sim/reader-process.ts`), forked with
 * their settings and started together.
 */
import { fork, spawn } from 'node:child_process';
import { closeSync, createWriteStream, openSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DeployedMessaging } from '../../infra/lib/messaging/deploy-messaging-locally.ts';
import { adminHeaders } from '../admin/admin-token.ts';
import type { LocalStackDescription } from '../local/env-file.ts';
import { workerHeapOptions } from '../config/worker-heap.ts';
import { localWorkerEnv } from '../local/local-worker-env.ts';
import { isLagReport } from '../metrics/lag-report.ts';
import type { LagReport } from '../metrics/lag-report.ts';
import { READER_ENTRY } from '../orchestrator-sim/main.ts';
import type { ReaderSettings } from '../orchestrator-sim/reader-settings.ts';

const WORKER_ENTRY = fileURLToPath(new URL('../cli/worker.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;

/** Keeps the last `n` lines of a stream (for an error message). */
function tail(n: number): { push(chunk: string): void; text(): string } {
  const lines: string[] = [];
  return {
    push(chunk) {
      lines.push(...chunk.split('\n').filter((l) => l !== ''));
      if (lines.length > n) lines.splice(0, lines.length - n);
    },
    text: () => lines.join('\n'),
  };
}

/** Waits for `proc` to exit (at once if it has). */
function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

export interface ScenarioWorker {
  readonly adminUrl: string;
  /** The worker's "invalidation applied" debug lines so far: one per applied event, its timeline. */
  readonly applied: readonly AppliedLine[];
  /** The worker's /lag.json over the last `windowS` seconds (default: the longest it keeps). */
  lag(windowS?: number): Promise<LagReport>;
  /** SIGTERM: it finishes its batches and exits. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  readonly stack: LocalStackDescription;
  readonly messaging: DeployedMessaging;
  readonly namespace: string;
  readonly redisPort: number;
  readonly originUrl: string;
  /** Where the worker's log lines go (appended), if anywhere. */
  readonly logPath?: string;
  /**
   * The pipeline canary interval (decision 0022), on the scenario's own topics; 0 or unset:
   * none (the design's readers do not run the guard).
   */
  readonly canaryIntervalMs?: number;
}

/**
 * One "invalidation applied" line of the worker's debug log (batch-handler.ts), ms since
 * epoch: the SNS envelope's Timestamp, the SQS SentTimestamp and
 * ApproximateFirstReceiveTimestamp, the return of the ReceiveMessage, the handler's start,
 * the deletes confirmed, the broadcast.
 */
export interface AppliedLine {
  readonly eventId: string;
  readonly family: string;
  readonly originAtMs?: number;
  readonly snsPublishedAtMs?: number;
  readonly sqsSentAtMs?: number;
  readonly firstReceivedAtMs?: number;
  /** When the ReceiveMessage that brought it returned to the worker. */
  readonly receiveAnsweredAtMs?: number;
  readonly receiveCount?: number;
  readonly receivedAtMs: number;
  readonly deleteConfirmedAtMs: number;
  readonly broadcastAtMs?: number;
}

/** The line's AppliedLine, or undefined for any other line (or one cut by the worker's exit). */
export function parseAppliedLine(line: string): AppliedLine | undefined {
  if (!line.includes('"invalidation applied"')) return undefined;
  try {
    const o = JSON.parse(line) as Partial<AppliedLine> & { msg?: string };
    if (o.msg !== 'invalidation applied' || typeof o.eventId !== 'string') return undefined;
    if (typeof o.receivedAtMs !== 'number' || typeof o.deleteConfirmedAtMs !== 'number') return undefined;
    return o as AppliedLine;
  } catch {
    return undefined;
  }
}

/** Starts a worker process; resolves once it logged "worker started". */
export async function startScenarioWorker(o: WorkerOptions): Promise<ScenarioWorker> {
  // The scenario's Redis takes the local stack's TLS CA and password (redis-nodes.ts).
  const local = {
    ...o.stack,
    topics: o.messaging.topics,
    queues: o.messaging.queues,
  };
  const env = localWorkerEnv(local, {
    redisMode: 'standalone',
    adminPort: 0,
    overrides: {
      REDIS_ADDRESSES: `127.0.0.1:${o.redisPort}`,
      REDIS_KEY_NAMESPACE: o.namespace,
      WORKER_ORIGIN_URL: o.originUrl,
      WORKER_WAIT_TIME_S: '1',
      // debug: its "invalidation applied" lines carry each event's timeline (AppliedLine).
      WORKER_LOG_LEVEL: 'debug',
      ...((o.canaryIntervalMs ?? 0) > 0
        ? {
            WORKER_CATALOG_TOPIC_ARN: o.messaging.topics.catalog,
            WORKER_PROMOTIONS_TOPIC_ARN: o.messaging.topics.promotions,
            WORKER_SESSIONS_TOPIC_ARN: o.messaging.topics.sessions,
            WORKER_CANARY_INTERVAL_MS: String(o.canaryIntervalMs),
          }
        : { WORKER_CANARY_INTERVAL_MS: '0' }),
    },
  });
  const proc = spawn(process.execPath, [...workerHeapOptions(), WORKER_ENTRY], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const err = tail(20);
  proc.stderr.setEncoding('utf8').on('data', (c: string) => err.push(c));
  const applied: AppliedLine[] = [];
  const adminPort = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(
      () => reject(new Error(`worker did not start in ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}: ${err.text()}`));
    });
    const log = o.logPath === undefined ? undefined : createWriteStream(o.logPath, { flags: 'a' });
    proc.once('exit', () => log?.end());
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      log?.write(chunk);
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const a = parseAppliedLine(line);
        if (a !== undefined) applied.push(a);
        if (!line.includes('worker started')) continue;
        try {
          const parsed = JSON.parse(line) as { msg?: string; adminPort?: number };
          if (parsed.msg === 'worker started' && typeof parsed.adminPort === 'number') {
            clearTimeout(timer);
            resolve(parsed.adminPort);
          }
        } catch {
          // not a log line
        }
      }
    });
  });
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  return {
    adminUrl,
    applied,
    async lag(windowS) {
      const query = windowS === undefined ? '' : `?window=${windowS}`;
      const res = await fetch(`${adminUrl}/lag.json${query}`, {
        headers: adminHeaders(),
        signal: AbortSignal.timeout(5_000),
      });
      if (!res.ok) throw new Error(`worker /lag.json answered ${res.status}`);
      const body: unknown = await res.json();
      if (!isLagReport(body)) throw new Error('worker /lag.json is not a lag report');
      return body;
    },
    async stop() {
      proc.kill('SIGTERM');
      await exited(proc);
    },
  };
}

export interface ReaderGroup {
  /** Sends "start" to every reader (they read from now, for their duration). */
  start(): void;
  /** Resolves when every reader has finished its duration and exited. */
  finished(): Promise<void>;
  /** SIGTERM to every reader still running. */
  stop(): Promise<void>;
}

/** Forks one reader per settings entry; resolves when all are ready (admin port up). */
export async function startReaders(settings: readonly ReaderSettings[]): Promise<ReaderGroup> {
  const procs = settings.map((s) => {
    // The reader's log lines (pino, warn and up) go beside its trace.
    const logFd =
      s.tracePath === undefined ? 'ignore' : openSync(s.tracePath.replace(/\.jsonl$/, '.log'), 'a');
    const proc = fork(READER_ENTRY, [JSON.stringify({ ...s, waitForStart: true })], {
      stdio: ['ignore', logFd, 'pipe', 'ipc'],
    });
    if (typeof logFd === 'number') closeSync(logFd);
    const err = tail(20);
    proc.stderr?.setEncoding('utf8').on('data', (c: string) => err.push(c));
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reader ${s.index} not ready in ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      proc.on('message', (m) => {
        if ((m as { type?: string }).type === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`reader ${s.index} exited with ${code}: ${err.text()}`));
      });
    });
    return { proc, ready, err };
  });
  try {
    await Promise.all(procs.map((p) => p.ready));
  } catch (error) {
    for (const p of procs) p.proc.kill('SIGTERM');
    throw error;
  }
  return {
    start() {
      for (const p of procs) p.proc.send({ type: 'start' });
    },
    async finished() {
      await Promise.all(procs.map((p) => exited(p.proc)));
      const failed = procs.filter((p) => p.proc.exitCode !== 0);
      if (failed.length > 0)
        throw new Error(`reader exited with ${failed[0]?.proc.exitCode}: ${failed[0]?.err.text() ?? ''}`);
    },
    async stop() {
      for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGTERM');
      await Promise.all(procs.map((p) => exited(p.proc)));
    },
  };
}
