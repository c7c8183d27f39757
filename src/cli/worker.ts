/**
 * The worker's entry point (the container's command): validate the configuration from the
 * environment (every problem reported at once, exit 2), start, and stop gracefully on
 * SIGTERM/SIGINT (exit 0 when drained; a second signal exits at once with 1).
 */
import { loadWorkerConfig } from '../config/load-config.ts';
import { AdminTokenError, loadAdminToken } from '../admin/admin-token.ts';
import { ConfigError } from '../core/errors.ts';
import { createFleetMetrics } from '../metrics/composite-metrics.ts';
import { registerMetricsRoutes } from '../metrics/metrics-routes.ts';
import { createLogger } from '../observability/logger.ts';
import { startWorker } from '../worker/invalidation-worker.ts';
import { createRefreshTickHandler } from '../worker/refresh-tick-handler.ts';
import { onStopSignal } from './run-main.ts';

let config;
let adminToken: string;
try {
  config = loadWorkerConfig(process.env);
  adminToken = loadAdminToken();
} catch (err) {
  if (err instanceof ConfigError || err instanceof AdminTokenError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const logger = createLogger('invalidation-worker', config.logLevel);
// Prometheus on the admin port always; CloudWatch EMF lines on stdout where awslogs ships them.
const fleetMetrics = createFleetMetrics({
  service: config.metricsService,
  ...(config.emfEnabled ? { emfOut: process.stdout } : {}),
  onError: (err, exporter) => logger.warn({ err, exporter }, 'metrics exporter failed'),
});
const worker = await startWorker({
  config,
  logger,
  metrics: fleetMetrics.metrics,
  adminToken,
  adminMetrics: fleetMetrics.prometheus,
  shadowMetrics: fleetMetrics.prometheus,
  ignoredEvents: ({ redis, keys, metrics, shutdown }) =>
    createRefreshTickHandler({ config, redis: redis.client, keys, metrics, logger, signal: shutdown }),
  registerAdminRoutes: (app) =>
    registerMetricsRoutes(app, fleetMetrics.prometheus, { instance: fleetMetrics.instance }),
}).catch((err: unknown) => {
  logger.fatal({ err }, 'worker failed to start');
  process.exit(1);
});

onStopSignal(
  async (signal) => {
    logger.info({ signal, drainDeadlineMs: config.lifecycle.drainDeadlineMs }, 'stopping');
    await worker.close();
    fleetMetrics.close();
    logger.flush();
  },
  { exitWhenStopped: true, timeoutMs: config.lifecycle.stopTimeoutMs, reporter: logger },
);
process.on('uncaughtException', (err) => {
  // Messages in hand are not acked, so they come back: crashing is safe, hiding a bug is not.
  logger.fatal({ err }, 'uncaught exception');
  process.exit(1);
});
