/**
 * Starts bench/worker/delay-proxy.py (a TCP proxy adding a fixed µs delay each way; why not
 * Toxiproxy: its header) in front of `upstream`, and `stop()` ends that process by its pid.
 * The worker bench runs (b) through it at an ElastiCache-like round trip.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface DelayProxy {
  readonly listen: { readonly host: string; readonly port: number };
  readonly roundTripUs: number;
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL('./delay-proxy.py', import.meta.url));

export async function startDelayProxy(
  upstream: { host: string; port: number },
  roundTripUs: number,
): Promise<DelayProxy> {
  if (!Number.isInteger(roundTripUs) || roundTripUs < 0)
    throw new Error(`delay proxy: the added round trip must be whole µs >= 0, got ${roundTripUs}`);
  const child = spawn('python3', [script, upstream.host, String(upstream.port), String(roundTripUs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const failed = once(child, 'error').then(([err]) => {
    throw new Error(`delay proxy: could not start python3 (${(err as Error).message})`);
  });
  const lines = createInterface({ input: child.stdout });
  const ready = (async () => {
    for await (const line of lines) {
      const m = /^listening (\d+)$/.exec(line);
      if (m) return Number(m[1]);
    }
    throw new Error('delay proxy: exited before listening');
  })();
  const port = await Promise.race([ready, failed]);
  return {
    listen: { host: '127.0.0.1', port },
    roundTripUs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
