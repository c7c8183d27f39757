/**
 * The origin simulator of one design run, in a process of its own (as the real origins are
 * services of their own): a stampede's hundreds of origin calls must not stall the scenario
 * process, which also carries the Redis endpoint's bytes. Forked by scenario-world.ts with
 * its options as one JSON argument; sends `{ type: 'listening', url }` over IPC; SIGTERM
 * closes it (in-flight calls finish).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onStopSignal, runMain } from '../cli/run-main.ts';
import { createOriginSimulator } from '../origin-sim/origin-simulator.ts';
import type { OriginSimulatorOptions } from '../origin-sim/origin-simulator.ts';

export interface OriginProcess {
  readonly url: string;
  close(): Promise<void>;
}

type Options = Pick<OriginSimulatorOptions, 'topics' | 'sns' | 'config'>;

/** Forks the simulator; resolves with its URL once it listens. */
export function startOriginProcess(options: Options): Promise<OriginProcess> {
  const proc = fork(fileURLToPath(import.meta.url), [JSON.stringify(options)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('origin simulator did not listen within 30 s')), 30_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`origin simulator exited with ${code}`));
    });
    proc.on('message', (m) => {
      const msg = m as { type?: string; url?: string };
      if (msg.type !== 'listening' || msg.url === undefined) return;
      clearTimeout(timer);
      let closing: Promise<void> | undefined;
      resolve({
        url: msg.url,
        close: () =>
          (closing ??= new Promise<void>((done) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return done();
            proc.once('exit', () => done());
            proc.kill('SIGTERM');
          })),
      });
    });
  });
}

async function main(argv: readonly string[]): Promise<void> {
  const options = JSON.parse(argv[2] ?? '{}') as Options;
  const sim = createOriginSimulator(options);
  const url = await sim.listen(0);
  onStopSignal(() => sim.close(), { exitWhenStopped: true });
  process.send?.({ type: 'listening', url });
}

if (import.meta.main) runMain(main);
