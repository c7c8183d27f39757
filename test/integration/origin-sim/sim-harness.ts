/** Starts an origin simulator on a free port for one test file, with small JSON helpers. */
import { createOriginSimulator } from '../../../src/origin-sim/origin-simulator.ts';
import type { OriginSimulator, OriginSimulatorOptions } from '../../../src/origin-sim/origin-simulator.ts';

/** A started simulator and its base URL. */
export interface SimHarness {
  readonly sim: OriginSimulator;
  readonly url: string;
  /** GET `path`; returns status, JSON body and the client-side elapsed time in ms. */
  get(path: string): Promise<{ status: number; body: unknown; elapsedMs: number }>;
  /** POST `body` as JSON to `path`. */
  post(path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

/** Starts a simulator listening on 127.0.0.1 port 0. */
export async function startSim(options: OriginSimulatorOptions = {}): Promise<SimHarness> {
  const sim = createOriginSimulator(options);
  const url = await sim.listen(0);
  return {
    sim,
    url,
    async get(path) {
      const started = performance.now();
      const response = await fetch(`${url}${path}`);
      const body: unknown = await response.json();
      return { status: response.status, body, elapsedMs: performance.now() - started };
    },
    async post(path, body) {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        ...(body !== undefined
          ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
          : {}),
      });
      return { status: response.status, body: await response.json() };
    },
  };
}
