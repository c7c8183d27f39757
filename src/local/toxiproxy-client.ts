/**
 * A small client of Toxiproxy's HTTP API (github.com/Shopify/toxiproxy, v2), and a private
 * server for one run: `startToxiproxy()` starts `toxiproxy-server` (built once per machine by
 * scripts/lib/toxiproxy.sh) on a free loopback port and `stop()` ends that process, by its
 * pid, and nothing else. Used by the chaos drills' network faults (src/drills/network-faults.ts,
 * the port they fault a path through) and by bench/worker/rtt-calibrate.ts (which shows why the
 * worker bench injects its round trip with bench/worker/delay-proxy.py instead).
 *
 *   const toxi = await startToxiproxy();
 *   const redis = await toxi.createProxy('redis', { host: '127.0.0.1', port: 6380 });
 *   redis.listen                                     // where the clients connect
 *   await toxi.addToxic('redis', latency({ latencyMs: 1, jitterMs: 1, stream: 'downstream' }));
 *   await toxi.removeToxic('redis', 'latency-downstream');
 *   await toxi.setEnabled('redis', false);           // refuse and reset connections
 *   await toxi.deleteProxy('redis'); await toxi.stop();
 *
 * What Toxiproxy can and cannot play (its toxics work on a TCP byte stream, per connection):
 * - `latency` and `jitter` are whole milliseconds (each chunk waits latency ± a random whole
 *   number of ms below jitter). A sub-millisecond round trip cannot be set directly; 1 ± 1 ms
 *   in one direction delays each chunk by 0 or 1 ms with equal odds, 0.5 ms on average.
 * - Packet loss as IP sees it does not exist on a TCP stream (TCP retransmits); what a client
 *   sees of it is a stall. `timeout` with `timeoutMs: 0` holds every byte until removed (the
 *   connection stays open); with a positive value the connection is closed after it.
 * - `toxicity` is the share of connections a toxic applies to, decided when each connection
 *   opens (not per chunk).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { HostPort } from './endpoint-proxy.ts';
import { freePort } from './free-port.ts';

export type { HostPort };

export type ToxicStream = 'upstream' | 'downstream';

/** A toxic as the API takes it. `name` must be unique per proxy. */
export interface Toxic {
  readonly name: string;
  readonly type: 'latency' | 'timeout' | 'reset_peer' | 'bandwidth' | 'slicer' | 'limit_data' | 'slow_close';
  /** upstream: client -> server; downstream: server -> client. */
  readonly stream: ToxicStream;
  /** Share of connections it applies to, 0..1. */
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;
}

export interface Proxy {
  readonly name: string;
  readonly listen: HostPort;
  readonly upstream: HostPort;
}

/** Latency (+ jitter) on one direction; whole milliseconds (see the module header). */
export function latency(o: {
  latencyMs: number;
  jitterMs?: number;
  stream: ToxicStream;
  toxicity?: number;
}): Toxic {
  return toxic('latency', o.stream, o.toxicity, {
    latency: whole(o.latencyMs),
    jitter: whole(o.jitterMs ?? 0),
  });
}

/** Holds every byte (`timeoutMs` 0, until removed), or closes the connection after `timeoutMs`. */
export function timeout(o: { timeoutMs: number; stream: ToxicStream; toxicity?: number }): Toxic {
  return toxic('timeout', o.stream, o.toxicity, { timeout: whole(o.timeoutMs) });
}

/** Resets the connection (TCP RST) after `timeoutMs` (0: at the next data). */
export function resetPeer(o: { timeoutMs: number; stream: ToxicStream; toxicity?: number }): Toxic {
  return toxic('reset_peer', o.stream, o.toxicity, { timeout: whole(o.timeoutMs) });
}

/** Caps the rate, KB/s. */
export function bandwidth(o: { kbPerSecond: number; stream: ToxicStream; toxicity?: number }): Toxic {
  return toxic('bandwidth', o.stream, o.toxicity, { rate: whole(o.kbPerSecond) });
}

/**
 * Stalls a share of connections: what a burst of lost packets looks like to a TCP client. A
 * `timeout` toxic with timeout 0 on `toxicity` of the connections opened while it is in place.
 */
export function connectionLoss(o: { share: number; stream: ToxicStream }): Toxic {
  return { ...timeout({ timeoutMs: 0, stream: o.stream, toxicity: o.share }), name: `loss-${o.stream}` };
}

function toxic(
  type: Toxic['type'],
  stream: ToxicStream,
  toxicity = 1,
  attributes: Record<string, number>,
): Toxic {
  if (!(toxicity >= 0 && toxicity <= 1)) throw new RangeError(`toxicity must be in [0, 1], got ${toxicity}`);
  return { name: `${type}-${stream}`, type, stream, toxicity, attributes };
}

function whole(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0)
    throw new RangeError(`Toxiproxy takes whole non-negative milliseconds, got ${ms}`);
  return ms;
}

/** Calls on one Toxiproxy server. */
export class ToxiproxyClient {
  readonly api: string;

  constructor(api: string) {
    this.api = api;
  }

  /** The server's version, e.g. `2.12.0`. */
  async version(): Promise<string> {
    const v = await this.#call('GET', '/version');
    // 2.x answers {"version": "..."}; older servers answered the bare text.
    return typeof v === 'object' && v !== null && 'version' in v ? String(v.version) : String(v);
  }

  /** Creates (or replaces) proxy `name`, listening on `listen` (default: a free loopback port). */
  async createProxy(name: string, upstream: HostPort, listen?: HostPort): Promise<Proxy> {
    await this.deleteProxy(name);
    const at = listen ?? { host: '127.0.0.1', port: await freePort() };
    await this.#call('POST', '/proxies', {
      name,
      listen: `${at.host}:${at.port}`,
      upstream: `${upstream.host}:${upstream.port}`,
      enabled: true,
    });
    return { name, listen: at, upstream };
  }

  /** Removes a proxy and its toxics; nothing happens when it does not exist. */
  async deleteProxy(name: string): Promise<void> {
    await this.#call('DELETE', `/proxies/${encodeURIComponent(name)}`, undefined, [404]);
  }

  /** Disabled: the proxy refuses connections and closes the open ones. */
  async setEnabled(name: string, enabled: boolean): Promise<void> {
    await this.#call('POST', `/proxies/${encodeURIComponent(name)}`, { enabled });
  }

  async addToxic(proxy: string, t: Toxic): Promise<void> {
    await this.#call('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, t);
  }

  /** Removes a toxic; nothing happens when it is not there. */
  async removeToxic(proxy: string, toxicName: string): Promise<void> {
    await this.#call(
      'DELETE',
      `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxicName)}`,
      undefined,
      [404],
    );
  }

  /** Every proxy enabled again, every toxic removed. */
  async reset(): Promise<void> {
    await this.#call('POST', '/reset');
  }

  async #call(method: string, path: string, body?: unknown, tolerated: number[] = []): Promise<unknown> {
    const res = await fetch(`${this.api}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    if (!res.ok && !tolerated.includes(res.status))
      throw new Error(`toxiproxy ${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    if (!res.ok || text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
}

export interface ToxiproxyServer extends ToxiproxyClient {
  readonly pid: number;
  /** Stops this server (idempotent). */
  stop(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('../../scripts/lib/toxiproxy.sh', import.meta.url));

/** The server binary's path; builds it on first use (scripts/lib/toxiproxy.sh install). */
export function toxiproxyBinary(): string {
  return execFileSync('bash', [SCRIPT, 'install'], { encoding: 'utf8' }).trim().split('\n').at(-1) ?? '';
}

/** Starts a private Toxiproxy server on a free loopback port; resolves once its API answers. */
export async function startToxiproxy(): Promise<ToxiproxyServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(toxiproxyBinary(), ['-host', '127.0.0.1', '-port', String(port)], {
    stdio: 'ignore',
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const server = new ToxiproxyClient(`http://127.0.0.1:${port}`) as ToxiproxyServer;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`toxiproxy-server exited with ${child.exitCode} at start-up`);
    try {
      await server.version();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error('toxiproxy-server did not answer within 10 s', { cause: err });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let stopping: Promise<void> | undefined;
  return Object.assign(server, {
    pid: child.pid!,
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
  });
}
