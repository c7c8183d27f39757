/**
 * A stand-in for ElastiCache's *primary endpoint*: a DNS name that AWS re-points at the new
 * primary some seconds after a failover. A TCP forwarder on loopback plays it:
 *
 * - each NEW client connection is forwarded to the proxy's current target;
 * - `retarget(hostPort)` changes the target for connections opened from then on only:
 *   a connection already open stays on the node it reached, exactly as a DNS switch leaves
 *   an established TCP connection alone (that is how a client ends up on a demoted node);
 * - when either side closes or fails, the other side is closed too (a killed node resets
 *   its clients; a frozen one keeps them open and silent, as in AWS);
 * - bounded: at most `maxConnections` clients at once (further ones are refused by the
 *   kernel backlog/`server.maxConnections`), loopback only.
 *
 * API:
 *   const proxy = await startEndpointProxy({ target: { host: '127.0.0.1', port: 6379 } });
 *   proxy.endpoint                 // { host: '127.0.0.1', port } to give to clients
 *   proxy.target()                 // where new connections go now
 *   proxy.retarget({ host, port }) // the DNS switch
 *   proxy.connections()            // open forwarded connections and the node each reached
 *   proxy.dropConnections(target?) // reset open connections (all, or those on `target`)
 *   await proxy.close()            // idempotent; closes every connection
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface ForwardedConnection {
  readonly id: number;
  /** The node this connection reached (the target when it was opened). */
  readonly target: HostPort;
  readonly openedAt: number;
}

export interface EndpointProxyOptions {
  /** Where the first connections go. */
  readonly target: HostPort;
  /** Port to listen on (default: a free one). Always bound to 127.0.0.1. */
  readonly port?: number;
  /** Concurrent client connections accepted (default 256). */
  readonly maxConnections?: number;
}

export interface EndpointProxy {
  /** The address clients connect to (the "primary endpoint"). */
  readonly endpoint: HostPort;
  /** The target of connections opened now. */
  target(): HostPort;
  /** Points NEW connections at `next`; open connections stay where they are. */
  retarget(next: HostPort): void;
  /** When the target last changed (ms since epoch), or undefined if it never did. */
  retargetedAt(): number | undefined;
  /** Open forwarded connections, oldest first. */
  connections(): ForwardedConnection[];
  /** Resets open connections: all of them, or only those that reached `target`. Returns how many. */
  dropConnections(target?: HostPort): number;
  /** Stops listening and closes every connection. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
const DEFAULT_MAX_CONNECTIONS = 256;

const sameHostPort = (a: HostPort, b: HostPort): boolean => a.host === b.host && a.port === b.port;

function assertLoopback(hp: HostPort): void {
  if (hp.host !== LOOPBACK && hp.host !== 'localhost' && hp.host !== '::1') {
    throw new Error(`endpoint proxy forwards to loopback only, not ${hp.host}`);
  }
  if (!Number.isInteger(hp.port) || hp.port <= 0 || hp.port > 65_535) throw new Error(`bad port ${hp.port}`);
}

/** Starts the forwarder; resolves once it listens. */
export async function startEndpointProxy(options: EndpointProxyOptions): Promise<EndpointProxy> {
  assertLoopback(options.target);
  let current: HostPort = { ...options.target };
  let changedAt: number | undefined;
  let nextId = 1;
  const open = new Map<number, { info: ForwardedConnection; client: Socket; upstream: Socket }>();

  const server: Server = createServer({ allowHalfOpen: false, noDelay: true }, (client) => {
    const info: ForwardedConnection = { id: nextId++, target: current, openedAt: Date.now() };
    // Writes before the upstream has connected are queued by the socket itself.
    const upstream = connect({ host: info.target.host, port: info.target.port, noDelay: true });
    open.set(info.id, { info, client, upstream });
    const teardown = () => {
      open.delete(info.id);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown).on('close', teardown);
    upstream.on('error', teardown).on('close', teardown);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('endpoint proxy: no address');
  const endpoint: HostPort = { host: LOOPBACK, port: address.port };

  let closing: Promise<void> | undefined;
  const drop = (target?: HostPort): number => {
    let n = 0;
    for (const { info, client, upstream } of [...open.values()]) {
      if (target && !sameHostPort(info.target, target)) continue;
      open.delete(info.id);
      client.resetAndDestroy();
      upstream.destroy();
      n++;
    }
    return n;
  };

  return {
    endpoint,
    target: () => current,
    retarget(next) {
      assertLoopback(next);
      if (sameHostPort(next, current)) return;
      current = { ...next };
      changedAt = Date.now();
    },
    retargetedAt: () => changedAt,
    connections: () => [...open.values()].map((c) => c.info),
    dropConnections: drop,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        drop();
      });
      return closing;
    },
  };
}
