/**
 * The worker's admin port: liveness (`/healthz`: the process answers), readiness
 * (`/readyz`: Redis reachable, polling, not draining) and whatever the metrics module
 * registers (`/metrics`, `/lag.json`).
 */
import Fastify, { type FastifyInstance } from 'fastify';

export interface Readiness {
  readonly ready: boolean;
  /** Each check; a non-boolean value is a detail shown to operators, not a condition. */
  readonly checks: Readonly<Record<string, boolean | string | number>>;
}

export interface AdminServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly readiness: () => Readiness;
  readonly register?: (app: FastifyInstance) => void | Promise<void>;
}

/** Starts the admin server; resolves with it and the port it listens on. */
export async function startAdminServer(
  options: AdminServerOptions,
): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false });
  app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', (_request, reply) => {
    const r = options.readiness();
    return reply
      .code(r.ready ? 200 : 503)
      .send({ status: r.ready ? 'ready' : 'not-ready', checks: r.checks });
  });
  await options.register?.(app);
  const address = await app.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
  return { app, port: Number(new URL(address).port) };
}
