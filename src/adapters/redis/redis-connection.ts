/**
 * Redis clients for the three deployment shapes (standalone, Sentinel, cluster), tuned so
 * that a command fails fast with an error when Redis is unreachable (the worker then does
 * not ack, rule 1) and so that a switch to a NEW primary is announced: the worker replays
 * its recent invalidations then, because a failover can lose acknowledged deletes (rule 4).
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Failure-speed knobs; the defaults fail a command within about a second of Redis going away. */
export interface ConnectionTuning {
  /** Reconnect attempts a queued command survives before it is rejected. Default 2. */
  readonly maxRetriesPerRequest?: number;
  /** Per-command deadline in ms; must exceed any WAIT timeout used. Default 5000. */
  readonly commandTimeoutMs?: number;
  /** TCP connect deadline in ms. Default 2000. */
  readonly connectTimeoutMs?: number;
  /** Upper bound of the reconnect back-off in ms. Default 2000. */
  readonly maxReconnectDelayMs?: number;
  /** CLIENT SETNAME, to find the fleet in CLIENT LIST. */
  readonly connectionName?: string;
  /** AUTH (ElastiCache auth token or RBAC user). Never logged. */
  readonly username?: string;
  readonly password?: string;
  /**
   * TLS (ElastiCache in-transit encryption; the local stack too): to the data nodes, and in
   * Sentinel mode to the Sentinels as well, which are then also sent `password`.
   */
  readonly tls?: boolean;
  /**
   * PEM file of the CA that signed the servers' certificates (the local stack's own CA);
   * unset: Node's bundled public CAs, which trust ElastiCache's. Only with `tls`.
   */
  readonly tlsCaFile?: string;
  /** Logical database (standalone and Sentinel only; a cluster has only 0). */
  readonly db?: number;
}

export type RedisConfig =
  | ({ readonly mode: 'standalone' } & HostPort & { readonly tuning?: ConnectionTuning })
  | {
      readonly mode: 'sentinel';
      readonly sentinels: readonly HostPort[];
      /** Master name monitored by the Sentinels. */
      readonly name: string;
      readonly tuning?: ConnectionTuning;
    }
  | { readonly mode: 'cluster'; readonly nodes: readonly HostPort[]; readonly tuning?: ConnectionTuning };

/** Any client this adapter works with. */
export type RedisClient = Redis | Cluster;

/**
 * Who the primary is: its address, run_id (a restart without persistence changes it) and
 * replication id (`master_replid`: a promotion, or a resync from a new primary, changes it,
 * while run_id stays, so a node demoted and later promoted again is not taken for the same
 * history).
 */
export interface PrimaryIdentity {
  readonly address: string;
  readonly runId: string;
  readonly replId: string;
}

/** Emitted when the client now talks to a different primary than before. */
export interface PrimaryChange {
  readonly previous: PrimaryIdentity | readonly string[];
  readonly current: PrimaryIdentity | readonly string[];
  /** `run-id-changed`, `repl-id-changed` (standalone/Sentinel) or `cluster-masters-changed`. */
  readonly reason: 'run-id-changed' | 'repl-id-changed' | 'cluster-masters-changed';
}

/** Typed events of a connection. */
export interface ConnectionEvents {
  'primary-changed': [change: PrimaryChange];
  /**
   * The connection reached a node that is not a primary (an ElastiCache endpoint whose DNS
   * still names the demoted node): it reconnects after a delay instead of writing there.
   */
  'not-primary': [node: { address: string; role: string }];
  /** The connection dropped; commands fail or queue until `ready`. */
  'connection-lost': [];
  ready: [];
  error: [error: Error];
}

/** A client plus the events the worker reacts to; `close()` is idempotent. */
export interface RedisConnection {
  readonly client: RedisClient;
  readonly mode: RedisConfig['mode'];
  readonly events: EventEmitter<ConnectionEvents>;
  close(): Promise<void>;
}

export const CONNECTION_DEFAULTS = {
  maxRetriesPerRequest: 2,
  commandTimeoutMs: 5_000,
  connectTimeoutMs: 2_000,
  maxReconnectDelayMs: 2_000,
} as const;

/**
 * Errors that mean "this connection is on the wrong node": a demoted primary (READONLY), a
 * node still loading its dataset (LOADING), a replica whose primary is down (MASTERDOWN).
 * The connection is dropped and made again, so it can reach the node the endpoint (or the
 * Sentinels) name now; the failed command itself is rejected and retried by the caller.
 */
export function reconnectOnWrongNode(error: Error): boolean {
  return /^(READONLY|LOADING|MASTERDOWN)\b/.test(error.message);
}

/** Reconnect back-off: 100 ms, 200 ms... capped; never gives up (the worker decides when to stop). */
export function reconnectDelay(
  attempt: number,
  maxDelayMs: number = CONNECTION_DEFAULTS.maxReconnectDelayMs,
): number {
  return Math.min(attempt * 100, maxDelayMs);
}

/** ioredis options for `tuning`, shared by every connection of the fleet (commands, pub/sub). */
export function redisOptions(tuning: ConnectionTuning | undefined): RedisOptions {
  const maxDelay = tuning?.maxReconnectDelayMs ?? CONNECTION_DEFAULTS.maxReconnectDelayMs;
  return {
    // Bounded, so a command rejects instead of waiting forever in the offline queue.
    maxRetriesPerRequest: tuning?.maxRetriesPerRequest ?? CONNECTION_DEFAULTS.maxRetriesPerRequest,
    commandTimeout: tuning?.commandTimeoutMs ?? CONNECTION_DEFAULTS.commandTimeoutMs,
    connectTimeout: tuning?.connectTimeoutMs ?? CONNECTION_DEFAULTS.connectTimeoutMs,
    retryStrategy: (times) => reconnectDelay(times, maxDelay),
    reconnectOnError: reconnectOnWrongNode,
    enableReadyCheck: true,
    ...(tuning?.connectionName === undefined ? {} : { connectionName: tuning.connectionName }),
    ...accessOptions(tuning),
    ...(tuning?.db === undefined || tuning.db === 0 ? {} : { db: tuning.db }),
  };
}

/**
 * The ioredis options that get a client in: AUTH (user, password) and TLS (with the CA of
 * `tlsCaFile`, read now). The server's name is checked against its certificate as usual: an
 * IP address against the certificate's IP SANs.
 */
export function accessOptions(
  tuning: Pick<ConnectionTuning, 'username' | 'password' | 'tls' | 'tlsCaFile'> | undefined,
): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  if (tuning?.tlsCaFile !== undefined && tuning.tls !== true)
    throw new RangeError('a TLS CA file is set but TLS is not: set both or neither');
  return {
    ...(tuning?.username === undefined ? {} : { username: tuning.username }),
    ...(tuning?.password === undefined ? {} : { password: tuning.password }),
    ...(tuning?.tls === true
      ? { tls: tuning.tlsCaFile === undefined ? {} : { ca: readFileSync(tuning.tlsCaFile) } }
      : {}),
  };
}

/**
 * What a Sentinel-mode client adds to `accessOptions`: the same TLS and credentials to the
 * Sentinels themselves, and TLS to the primary they name (ioredis only uses TLS there with
 * `enableTLSForSentinelMode`).
 */
export function sentinelAccessOptions(
  tuning: Pick<ConnectionTuning, 'username' | 'password' | 'tls' | 'tlsCaFile'> | undefined,
): RedisOptions {
  const access = accessOptions(tuning);
  return {
    ...access,
    ...(access.username === undefined ? {} : { sentinelUsername: access.username }),
    ...(access.password === undefined ? {} : { sentinelPassword: access.password }),
    ...(access.tls === undefined ? {} : { sentinelTLS: access.tls, enableTLSForSentinelMode: true }),
  };
}

/** Creates a client for `config` and wires primary-change detection. */
export function createRedisConnection(config: RedisConfig): RedisConnection {
  const events = new EventEmitter<ConnectionEvents>();
  const state = { closing: false };
  const client =
    config.mode === 'cluster' ? createCluster(config, events, state) : createNode(config, events, state);
  let closing: Promise<void> | undefined;
  return {
    client,
    mode: config.mode,
    events,
    close: () => {
      // Our own close is not a lost connection: the flag silences `connection-lost`.
      state.closing = true;
      return (closing ??= quit(client));
    },
  };
}

async function quit(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    // Already closed or unreachable: disconnect() below still releases the socket.
  }
  client.disconnect();
}

function nodeClient(config: Exclude<RedisConfig, { mode: 'cluster' }>, extra: RedisOptions = {}): Redis {
  const base = { ...redisOptions(config.tuning), ...extra };
  const maxDelay = config.tuning?.maxReconnectDelayMs ?? CONNECTION_DEFAULTS.maxReconnectDelayMs;
  return config.mode === 'standalone'
    ? new Redis({ ...base, host: config.host, port: config.port })
    : new Redis({
        ...base,
        ...sentinelAccessOptions(config.tuning),
        sentinels: config.sentinels.map((s) => ({ host: s.host, port: s.port })),
        name: config.name,
        // Subscribes to +switch-master on the Sentinels and reconnects at once, instead of
        // waiting for the old primary's socket to time out.
        failoverDetector: true,
        sentinelRetryStrategy: (times) => reconnectDelay(times, maxDelay),
      });
}

interface LifecycleState {
  closing: boolean;
}

/** Relays a client's errors, losses (not our own close) and readiness as connection events. */
function relayLifecycle(
  client: RedisClient,
  events: EventEmitter<ConnectionEvents>,
  state: LifecycleState,
): void {
  let wasReady = false;
  client.on('error', (error: Error) => emitError(events, error));
  client.on('close', () => {
    if (wasReady && !state.closing) events.emit('connection-lost');
    wasReady = false;
  });
  client.on('ready', () => {
    wasReady = true;
    events.emit('ready');
  });
}

function createNode(
  config: Exclude<RedisConfig, { mode: 'cluster' }>,
  events: EventEmitter<ConnectionEvents>,
  state: LifecycleState,
): Redis {
  const client = nodeClient(config);
  let known: PrimaryIdentity | undefined;
  relayLifecycle(client, events, state);
  let wrongNodeAttempts = 0;
  // Compare run_id AND replication id, and check the role: a connection left on a demoted
  // node (its run_id unchanged) must neither write there nor be taken for the same primary.
  // A failed check is tried again, then the connection is made anew: a new primary that is
  // never identified would never be replayed to.
  const check = (attempt: number): void => {
    identify(client).then(
      (current) => {
        if (current === undefined) return;
        if (current.role !== 'master') {
          wrongNodeAttempts++;
          events.emit('not-primary', { address: current.address, role: current.role });
          later(reconnectDelay(wrongNodeAttempts, config.tuning?.maxReconnectDelayMs), () => {
            if (!state.closing) client.disconnect(true);
          });
          return;
        }
        wrongNodeAttempts = 0;
        const previous = known;
        known = current;
        if (previous === undefined) return;
        const reason =
          previous.runId !== current.runId
            ? 'run-id-changed'
            : previous.replId !== current.replId
              ? 'repl-id-changed'
              : undefined;
        if (reason !== undefined)
          events.emit('primary-changed', { previous: strip(previous), current: strip(current), reason });
      },
      (error: unknown) => {
        emitError(events, error instanceof Error ? error : new Error(String(error)));
        if (state.closing || client.status !== 'ready') return; // the next 'ready' checks again
        if (attempt < IDENTIFY_ATTEMPTS) later(100 * 2 ** attempt, () => check(attempt + 1));
        else client.disconnect(true);
      },
    );
  };
  client.on('ready', () => check(1));
  reconnectWhenEnded(client, () => state.closing, config.tuning?.maxReconnectDelayMs);
  return client;
}

/**
 * ioredis ends a connection for good, with no retry, when its connector is disconnected while
 * it is still resolving the node: a `disconnect(true)` during a Sentinel look-up (ours above,
 * or ioredis' own failover detector on +switch-master) rejects the pending connect with
 * "Connection is closed.", and so does every command after it. Only our own close() may end a
 * connection, so any other end is connected again, with the reconnect back-off.
 */
export function reconnectWhenEnded(
  client: Redis,
  closing: () => boolean,
  maxDelayMs: number | undefined,
): void {
  let attempts = 0;
  client.on('ready', () => {
    attempts = 0;
  });
  client.on('end', () => {
    if (closing()) return;
    attempts++;
    later(reconnectDelay(attempts, maxDelayMs), () => {
      if (!closing() && client.status === 'end') client.connect().catch(() => undefined);
    });
  });
}

/** Tries of the primary check on one connection before it is made anew. */
const IDENTIFY_ATTEMPTS = 5;

function later(ms: number, fn: () => void): void {
  setTimeout(fn, ms).unref();
}

function strip({ address, runId, replId }: PrimaryIdentity): PrimaryIdentity {
  return { address, runId, replId };
}

async function identify(client: Redis): Promise<(PrimaryIdentity & { role: string }) | undefined> {
  const info = String(await client.call('INFO', 'server', 'replication'));
  const runId = /^run_id:(\S+)/m.exec(info)?.[1];
  if (runId === undefined) return undefined;
  const address = `${client.stream.remoteAddress ?? '?'}:${client.stream.remotePort ?? '?'}`;
  return {
    address,
    runId,
    replId: /^master_replid:(\S+)/m.exec(info)?.[1] ?? '',
    role: /^role:(\S+)/m.exec(info)?.[1] ?? 'unknown',
  };
}

function createCluster(
  config: Extract<RedisConfig, { mode: 'cluster' }>,
  events: EventEmitter<ConnectionEvents>,
  state: LifecycleState,
): Cluster {
  const base = redisOptions(config.tuning);
  const options: ClusterOptions = {
    redisOptions: base,
    clusterRetryStrategy: (times) => reconnectDelay(times, config.tuning?.maxReconnectDelayMs),
    enableReadyCheck: true,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    maxRedirections: 8,
  };
  const client = new Cluster(
    config.nodes.map((n) => ({ host: n.host, port: n.port })),
    options,
  );
  let masters: string[] | undefined;
  relayLifecycle(client, events, state);
  // A cluster failover shows up as a slots refresh whose master set differs: a replica
  // was promoted, and whatever its old master acknowledged but did not replicate is gone.
  client.on('refresh', () => {
    const current = client
      .nodes('master')
      .map((n) => `${n.options.host}:${n.options.port}`)
      .sort();
    const previous = masters;
    masters = current;
    if (previous !== undefined && previous.join(',') !== current.join(',')) {
      events.emit('primary-changed', { previous, current, reason: 'cluster-masters-changed' });
    }
  });
  return client;
}

function emitError(events: EventEmitter<ConnectionEvents>, error: Error): void {
  // An EventEmitter throws on an unheard 'error'; a dropped connection must not crash the worker.
  if (events.listenerCount('error') > 0) events.emit('error', error);
}
