/**
 * `GET /shadow.json` on the worker's admin port (behind its bearer token, admin-server.ts):
 * the shadow evaluator's report (shadow-evaluator.ts), or `{ "enabled": false }` when no
 * candidate is configured (`WORKER_SHADOW_CONTRACT`). `admin shadow report` merges it over
 * the fleet (src/admin/shadow-command.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { ShadowEvaluator } from './shadow-evaluator.ts';

/** Registers `GET /shadow.json`. */
export function registerShadowRoutes(app: FastifyInstance, evaluator: ShadowEvaluator | undefined): void {
  app.get('/shadow.json', (_request, reply) =>
    reply
      .header('cache-control', 'no-store')
      .send(evaluator === undefined ? { enabled: false } : evaluator.report()),
  );
}
