/**
 * The worker admin server's metrics routes: `GET /metrics` (Prometheus text) and
 * `GET /lag.json?window=60` (HDR lag per family and stage, the contract in lag-report.ts).
 * The worker registers them next to its own /healthz and /readyz.
 */
import { hostname } from 'node:os';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { buildLagReport } from './lag-report.ts';
import type { PrometheusMetrics } from './prometheus-metrics.ts';

export interface MetricsRoutesOptions {
  /** Names this worker in `/lag.json`. Default `hostname:pid`. */
  readonly instance?: string;
}

/** Registers `GET /metrics` and `GET /lag.json` on `app`. */
export function registerMetricsRoutes(
  app: FastifyInstance,
  metrics: PrometheusMetrics,
  options: MetricsRoutesOptions = {},
): void {
  const source = options.instance ?? `${hostname()}:${process.pid}`;
  const maxWindowSeconds = Math.floor(metrics.lag.maxWindowMs / 1000);

  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply
      .header('content-type', metrics.registry.contentType)
      .header('cache-control', 'no-store')
      .send(body);
  });

  app.get<{ Querystring: { window?: string } }>(
    '/lag.json',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { window: { type: 'string', pattern: '^[0-9]{1,6}$' } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const window = request.query.window === undefined ? maxWindowSeconds : Number(request.query.window);
      if (!(window >= 1 && window <= maxWindowSeconds)) {
        return reply.code(400).send({ error: `window must be 1..${maxWindowSeconds} seconds` });
      }
      return reply.header('cache-control', 'no-store').send(buildLagReport(metrics.lag, window, source));
    },
  );
}

/** The same routes as an (unencapsulated-by-intent) fastify plugin: `app.register(metricsRoutes, { metrics })`. */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions & { metrics: PrometheusMetrics }> = (
  app,
  options,
) => {
  registerMetricsRoutes(app, options.metrics, options);
  return Promise.resolve();
};
