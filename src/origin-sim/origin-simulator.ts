/**
 * The origin simulator: one Fastify app standing in for Product Catalog, Promotions,
 * Recommendations, Reviews and Prices, plus its `/_sim` control surface.
 *
 * Shutdown order in `close()`: stop accepting connections and let in-flight calls finish
 * their latency (Fastify's close), then release the SNS client. A second call returns the
 * first call's promise; the SNS client is released even when the server close failed.
 */
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { CallStats } from './call-stats.ts';
import { EntityStore } from './entity-store.ts';
import { createSnsPublisher } from './event-publisher.ts';
import type { EventPublisher, SnsConnection, TopicArns } from './event-publisher.ts';
import { FailureInjector } from './failure-injector.ts';
import { registerControlRoutes } from './control-routes.ts';
import { registerOriginRoutes } from './origin-routes.ts';
import { DEFAULT_CONFIG, applyConfigPatch } from './sim-config.ts';
import type { SimConfig, SimConfigPatch } from './sim-config.ts';
import type { SimContext } from './sim-context.ts';
import { VersionHistory } from './version-history.ts';

/** Options of `createOriginSimulator`; every field has a default. */
export interface OriginSimulatorOptions {
  /** Initial behaviour, applied over the defaults (seed latencies, no failures). */
  readonly config?: SimConfigPatch;
  /** Topic ARNs per topic; a change for a topic without ARN answers 409. */
  readonly topics?: TopicArns;
  /** How to reach SNS (default: AWS's, region us-east-1, default credentials). */
  readonly sns?: SnsConnection;
  /** A publisher to use instead of SNS (tests). */
  readonly publisher?: EventPublisher;
  /** Logger for requests and lifecycle; omitted or false: silent. */
  readonly logger?: Logger | false;
  /** Bound on distinct keys counted per key in the stats. */
  readonly maxTrackedKeys?: number;
  /** Bounds of the version history (defaults: 64 versions per entity, 200,000 entities). */
  readonly history?: { readonly maxVersionsPerEntity?: number; readonly maxEntities?: number };
}

/** A running (or ready to run) simulator. */
export interface OriginSimulator {
  readonly app: FastifyInstance;
  /** Starts listening; returns the base URL (port 0 picks a free port). */
  listen(port: number, host?: string): Promise<string>;
  /** Stops the server and releases SNS; idempotent. */
  close(): Promise<void>;
}

/** Builds a simulator; throws when `options.config` is invalid (all problems listed). */
export function createOriginSimulator(options: OriginSimulatorOptions = {}): OriginSimulator {
  const initial = applyConfigPatch(DEFAULT_CONFIG, options.config ?? {});
  if (!initial.ok) throw new Error(`invalid origin simulator config: ${initial.errors.join('; ')}`);
  let config: SimConfig = initial.config;
  let publisher = options.publisher;
  const ownsPublisher = publisher === undefined;

  const history = new VersionHistory(options.history ?? {});
  const context: SimContext = {
    store: new EntityStore(Date.now, history),
    history,
    stats: new CallStats(
      options.maxTrackedKeys !== undefined ? { maxTrackedKeys: options.maxTrackedKeys } : {},
    ),
    failures: new FailureInjector(),
    topics: Object.freeze({ ...options.topics }),
    config: () => config,
    setConfig: (next) => {
      config = next;
    },
    publisher: () => (publisher ??= createSnsPublisher(options.sns ?? { region: 'us-east-1' })),
  };

  // Fastify types its logger against its own pino copy; ours is structurally the same API.
  const app: FastifyInstance = options.logger
    ? Fastify({ loggerInstance: options.logger as unknown as FastifyBaseLogger })
    : Fastify({ logger: false });
  registerOriginRoutes(app, context);
  registerControlRoutes(app, context);

  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    try {
      await app.close();
    } finally {
      if (ownsPublisher) publisher?.close();
    }
  }

  return {
    app,
    async listen(port, host = '127.0.0.1') {
      await app.listen({ port, host });
      const address = app.server.address();
      if (address === null || typeof address === 'string') throw new Error('server is not listening on TCP');
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${shownHost}:${address.port}`;
    },
    close() {
      return (closing ??= shutdown());
    },
  };
}
