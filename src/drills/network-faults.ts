/**
 * Faults on a network path, for the chaos drills: a fault-injecting TCP proxy sits between a
 * set of clients (the workers) and a service (Redis, LocalStack), and the drill cuts it,
 * slows it or makes it drop data, while other clients (the readers, the drill's own probes)
 * still reach the service directly.
 *
 * The port is `NetworkPath`; the adapter is Toxiproxy (github.com/Shopify/toxiproxy, built
 * once per machine by scripts/lib/toxiproxy.sh from the Go module proxy), driven through the
 * project's one client of its API, src/local/toxiproxy-client.ts. The drill starts its own
 * Toxiproxy server on a free port and stops it by its pid, so it never touches another run's
 * proxies.
 *
 *   const proxies = await startNetworkFaults();
 *   const path = await proxies.path('redis', { host: '127.0.0.1', port: 6380 });
 *   path.listen                         // give this address to the clients
 *   await path.cut(); await path.restore();
 *   await path.slow({ latencyMs: 25, jitterMs: 25 });  await path.clear();
 *   await path.stall(); await path.unstall();   // bytes held, connections kept (a loss burst)
 *   await proxies.stop();
 */
import type { HostPort } from '../local/endpoint-proxy.ts';
import { latency, startToxiproxy, timeout, type ToxicStream } from '../local/toxiproxy-client.ts';

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

const STREAMS: readonly ToxicStream[] = ['upstream', 'downstream'];

/** Starts a private Toxiproxy server and returns its paths' factory. */
export async function startNetworkFaults(): Promise<NetworkFaults> {
  const server = await startToxiproxy();
  return {
    async path(name, upstream) {
      const proxy = await server.createProxy(name, upstream);
      const toxics = new Set<string>();
      const both = async (
        make: (stream: ToxicStream) => { name: string } & Parameters<typeof server.addToxic>[1],
      ) => {
        for (const stream of STREAMS) {
          const t = make(stream);
          await server.addToxic(name, t);
          toxics.add(t.name);
        }
      };
      const remove = async (toxicName: string) => {
        if (!toxics.delete(toxicName)) return;
        await server.removeToxic(name, toxicName);
      };
      return {
        name,
        listen: proxy.listen,
        upstream,
        cut: () => server.setEnabled(name, false),
        restore: () => server.setEnabled(name, true),
        slow: ({ latencyMs, jitterMs }) => both((stream) => latency({ latencyMs, jitterMs, stream })),
        // timeout 0: data is held until the toxic goes; the connection is not closed.
        stall: () => both((stream) => ({ ...timeout({ timeoutMs: 0, stream }), name: `stall-${stream}` })),
        unstall: async () => {
          for (const stream of STREAMS) await remove(`stall-${stream}`);
        },
        async clear() {
          for (const t of [...toxics]) await remove(t);
        },
      };
    },
    stop: () => server.stop(),
  };
}
