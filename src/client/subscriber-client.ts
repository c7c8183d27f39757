/**
 * Read side (src/client/): used only by the L1 subscriber.
 *
 * The dedicated pub/sub connection of an L1 subscriber. It does NOT resubscribe by itself:
 * the L1 subscriber does it on every `ready`, so that it knows the exact moment it is
 * subscribed again (and flushes then, rule 5).
 *
 * Cluster mode: classic PUBLISH is forwarded on the cluster bus to every node, so one
 * connection to any live node hears every broadcast. The connection is not tied to one
 * node: each connect attempt takes the next configured node, so a node that is gone (dead,
 * replaced, a closed port) costs one failed attempt and the next reconnect lands on another.
 * A node that hangs without closing the socket is left by the L1 subscriber, which
 * reconnects after a silence in cluster mode.
 */
import { createConnection } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { AbstractConnector, Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import {
  CONNECTION_DEFAULTS,
  reconnectDelay,
  redisOptions,
  sentinelAccessOptions,
} from '../adapters/redis/redis-connection.ts';
import type { ConnectionTuning, HostPort, RedisConfig } from '../adapters/redis/redis-connection.ts';

/** A client for pub/sub only, on `config`; in cluster mode on any live node of it. */
export function createSubscriberClient(config: RedisConfig): Redis {
  const base = subscriberOptions(config.tuning);
  const maxDelay = config.tuning?.maxReconnectDelayMs ?? CONNECTION_DEFAULTS.maxReconnectDelayMs;
  switch (config.mode) {
    case 'standalone':
      return new Redis({ ...base, host: config.host, port: config.port });
    case 'sentinel':
      return new Redis({
        ...base,
        ...sentinelAccessOptions(config.tuning),
        sentinels: config.sentinels.map((s) => ({ host: s.host, port: s.port })),
        name: config.name,
        // Reconnects at once on +switch-master instead of waiting for the old socket to die.
        failoverDetector: true,
        sentinelRetryStrategy: (times) => reconnectDelay(times, maxDelay),
      });
    case 'cluster':
      if (config.nodes.length === 0) throw new RangeError('cluster config needs at least one node');
      return new Redis({ ...base, Connector: rotatingConnector(config.nodes) });
  }
}

function subscriberOptions(tuning: ConnectionTuning | undefined): RedisOptions {
  // The command connections' options, except that the L1 subscriber resubscribes itself,
  // and no `db`: pub/sub ignores the logical database, and a cluster has only 0.
  return { ...redisOptions(tuning === undefined ? undefined : { ...tuning, db: 0 }), autoResubscribe: false };
}

type ConnectorClass = NonNullable<RedisOptions['Connector']>;
type NetStream = Awaited<ReturnType<AbstractConnector['connect']>>;

/**
 * An ioredis connector that connects to the next of `nodes` on every attempt, round robin
 * from a random start (so many subscribers spread over the nodes). Mirrors ioredis's own
 * StandaloneConnector, which is not exported, for the host and port it picks.
 */
function rotatingConnector(nodes: readonly HostPort[]): ConnectorClass {
  let next = Math.floor(Math.random() * nodes.length);
  return class RotatingConnector extends AbstractConnector {
    readonly #tls: RedisOptions['tls'];

    // ioredis passes the client's resolved options (typed `unknown` by its interface).
    constructor(options: unknown) {
      const o = options as RedisOptions;
      super(o.disconnectTimeout ?? 2_000);
      this.#tls = o.tls;
    }

    connect(): Promise<NetStream> {
      const node = nodes[next++ % nodes.length]!;
      this.connecting = true;
      return new Promise((resolve, reject) => {
        // A tick later, as ioredis does, so that a disconnect() called meanwhile wins.
        process.nextTick(() => {
          if (!this.connecting) return reject(new Error('Connection is closed.'));
          try {
            const target = { host: node.host, port: node.port };
            this.stream = this.#tls ? tlsConnect({ ...this.#tls, ...target }) : createConnection(target);
          } catch (error) {
            return reject(error instanceof Error ? error : new Error(String(error)));
          }
          this.stream.once('error', (error: Error) => {
            this.firstError = error;
          });
          resolve(this.stream);
        });
      });
    }
  };
}
