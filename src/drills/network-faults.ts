/**
 * Faults on a network path, for the chaos drills: a fault-injecting TCP proxy sits between a
 * set of clients (the workers) and a service (Redis, LocalStack), and the drill cuts it,
 * slows it or makes it drop data, while other clients (the readers, the drill's own probes)
 * still reach the service directly.
 *
 * The port is `NetworkPath`; the adapter is Toxiproxy (github.com/Shopify/toxiproxy, built
 * once per machine by scripts/lib/toxiproxy.sh from the Go module proxy). The drill starts its
 * own Toxiproxy server on a free port and stops it by its pid, so it never touches another
 * helper's proxies.
 *
 *   const proxies = await startToxiproxy();
 *   const path = await proxies.path('redis', { host: '127.0.0.1', port: 6380 });
 *   path.listen                         // give this address to the clients
 *   await path.cut(); await path.restore();
 *   await path.slow({ latencyMs: 25, jitterMs: 25 });  await path.clear();
 *   await path.stall(); await path.unstall();   // bytes held, connections kept (a loss burst)
 *   await proxies.stop();
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { HostPort } from '../local/endpoint-proxy.ts';
import { freePort } from '../local/free-port.ts';

/** One faultable path between clients and a service. */
export interface NetworkPath {
  readonly name: string;
  /** Where the clients connect. */
  readonly listen: HostPort;
  readonly upstream: HostPort;
  /** Refuses new connections and resets open ones (the service is unreachable). */
  cut(): Promise<void>;
  /** Accepts connections again. */
  restore(): Promise<void>;
  /** Adds latency (+/- jitter) in both directions. */
  slow(options: { latencyMs: number; jitterMs: number }): Promise<void>;
  /** Holds every byte in both directions, connections stay open (what a run of lost packets looks like to TCP). */
  stall(): Promise<void>;
  unstall(): Promise<void>;
  /** Removes every toxic (latency, stall). */
  clear(): Promise<void>;
}

export interface NetworkFaults {
  /** Creates (or replaces) the path `name` to `upstream`, listening on a free loopback port. */
  path(name: string, upstream: HostPort): Promise<NetworkPath>;
  stop(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('../../scripts/lib/toxiproxy.sh', import.meta.url));
const HOST = '127.0.0.1';

/** Path of the Toxiproxy server binary (built on first use). */
export function toxiproxyBinary(): string {
  return execFileSync('bash', [SCRIPT, 'install'], { encoding: 'utf8' }).trim().split('\n').at(-1) ?? '';
}

/** Starts a private Toxiproxy server and returns its paths' factory. */
export async function startToxiproxy(): Promise<NetworkFaults> {
  const apiPort = await freePort();
  const child: ChildProcess = spawn(toxiproxyBinary(), ['-host', HOST, '-port', String(apiPort)], {
    stdio: 'ignore',
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const api = `http://${HOST}:${apiPort}`;
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`toxiproxy ${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`toxiproxy exited with ${child.exitCode} at start-up`);
    try {
      await call('GET', '/version');
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error('toxiproxy did not answer within 10 s', { cause: err });
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const toxics = new Map<string, Set<string>>();
  async function addToxic(proxy: string, toxic: Record<string, unknown>): Promise<void> {
    await call('POST', `/proxies/${proxy}/toxics`, toxic);
    toxics.get(proxy)?.add(String(toxic.name));
  }
  async function removeToxic(proxy: string, name: string): Promise<void> {
    const set = toxics.get(proxy);
    if (!set?.has(name)) return;
    set.delete(name);
    await call('DELETE', `/proxies/${proxy}/toxics/${name}`);
  }

  let stopping: Promise<void> | undefined;
  return {
    async path(name, upstream) {
      await call('DELETE', `/proxies/${name}`).catch(() => undefined);
      const port = await freePort();
      await call('POST', '/proxies', {
        name,
        listen: `${HOST}:${port}`,
        upstream: `${upstream.host}:${upstream.port}`,
        enabled: true,
      });
      toxics.set(name, new Set());
      const both = async (kind: string, type: string, attributes: Record<string, number>) => {
        for (const stream of ['upstream', 'downstream'])
          await addToxic(name, { name: `${kind}-${stream}`, type, stream, toxicity: 1, attributes });
      };
      const removeBoth = async (kind: string) => {
        for (const stream of ['upstream', 'downstream']) await removeToxic(name, `${kind}-${stream}`);
      };
      return {
        name,
        listen: { host: HOST, port },
        upstream,
        cut: async () => void (await call('POST', `/proxies/${name}`, { enabled: false })),
        restore: async () => void (await call('POST', `/proxies/${name}`, { enabled: true })),
        slow: ({ latencyMs, jitterMs }) =>
          both('latency', 'latency', { latency: latencyMs, jitter: jitterMs }),
        // timeout 0: data is held until the toxic goes; the connection is not closed.
        stall: () => both('stall', 'timeout', { timeout: 0 }),
        unstall: () => removeBoth('stall'),
        async clear() {
          for (const t of [...(toxics.get(name) ?? [])]) await removeToxic(name, t);
        },
      };
    },
    stop() {
      stopping ??= (async () => {
        process.off('exit', killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const gone = once(child, 'exit');
        child.kill('SIGTERM');
        await gone;
      })();
      return stopping;
    },
  };
}
