/**
 * The drill's demo Orchestrator: reader processes of src/orchestrator-sim/ (the cache client
 * with L1 and its subscriber, or the naive cache-aside), each writing a JSONL trace of every
 * read (read-trace.ts) that the drill checks against the origin's version history.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReadFamily } from '../client/cache-client.ts';
import { READER_ENTRY } from '../orchestrator-sim/main.ts';
import type { ReaderSettings } from '../orchestrator-sim/reader-settings.ts';

/** One line of a reader's trace (see read-trace.ts). */
export interface TracedRead {
  /** Wall time the read returned (ms). */
  readonly t: number;
  readonly p: number;
  readonly family: ReadFamily;
  readonly id: string;
  /** Version served; null for a "not found", absent on an error. */
  readonly v?: number | null;
  readonly src: string;
  readonly ms: number;
  readonly err?: string;
}

export interface ReaderFleet {
  readonly adminPorts: readonly number[];
  /** SIGTERM (each finishes its reads in flight), then every read of every trace. */
  stop(): Promise<TracedRead[]>;
}

export type ReaderBase = Omit<ReaderSettings, 'index' | 'adminPort' | 'tracePath'>;

/** Forks `count` readers, each at `base.rate` reads/s, traces under `traceDir`. */
export async function startReaderFleet(
  base: ReaderBase,
  count: number,
  traceDir: string,
): Promise<ReaderFleet> {
  const children: ChildProcess[] = [];
  const paths: string[] = [];
  const ports: number[] = [];
  const onExit = () => {
    for (const c of children) c.kill('SIGKILL');
  };
  process.once('exit', onExit);
  try {
    for (let index = 0; index < count; index++) {
      const tracePath = join(traceDir, `reader-${index}.jsonl`);
      const settings: ReaderSettings = { ...base, index, adminPort: 0, tracePath };
      const child = fork(READER_ENTRY, [JSON.stringify(settings)], {
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2_000)));
      children.push(child);
      paths.push(tracePath);
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`reader ${index} not ready in 20 s: ${stderr}`)),
          20_000,
        );
        child.on('message', (m: { type?: string; adminPort?: number }) => {
          if (m.type === 'ready') {
            clearTimeout(timer);
            resolve(Number(m.adminPort));
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`reader ${index} exited (${code}) at start-up: ${stderr}`));
        });
      });
      ports.push(port);
    }
  } catch (err) {
    onExit();
    process.off('exit', onExit);
    throw err;
  }
  let stopped: Promise<TracedRead[]> | undefined;
  return {
    adminPorts: ports,
    stop() {
      stopped ??= (async () => {
        await Promise.all(
          children.map(async (c) => {
            if (c.exitCode !== null || c.signalCode !== null) return;
            const gone = once(c, 'exit');
            c.kill('SIGTERM');
            const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
            await gone;
            clearTimeout(timer);
          }),
        );
        process.off('exit', onExit);
        return paths.flatMap(readTrace);
      })();
      return stopped;
    },
  };
}

/** Every read of one JSONL trace (a torn last line is skipped). */
export function readTrace(path: string): TracedRead[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: TracedRead[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      out.push(JSON.parse(line) as TracedRead);
    } catch {
      // a line cut by SIGKILL
    }
  }
  return out;
}
