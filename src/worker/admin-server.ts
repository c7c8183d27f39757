/**
 * The worker's admin port: liveness (`/healthz`: the process answers), readiness
 * (`/readyz`: Redis reachable, polling, not draining) and whatever the owner registers
 * (`/metrics`, `/lag.json`, the admin API of src/admin/admin-routes.ts). Also used by the demo
 * Orchestrator's reader processes.
 *
 * The surface is closed (issue 14, docs/decisions/0015-admin-surface.md): every route but
 * `/healthz` and `/readyz` needs `Authorization: Bearer <token>` (src/admin/admin-token.ts).
 * The check runs in an `onRequest` hook, before routing, body parsing or any handler, so a
 * refused call has no side effect; it is answered 401 and counted (`onRefused`). Tokens are
 * compared in constant time: SHA-256 of both, then `crypto.timingSafeEqual` over the two
 * equal-length digests (the length of the token sent leaks nothing either).
 * It listens on 127.0.0.1 unless told otherwise (the ECS task sets 0.0.0.0: its security
 * group admits no one by default).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { adminTokenProblem } from '../admin/admin-token.ts';

export interface Readiness {
  readonly ready: boolean;
  /** Each check; a non-boolean value is a detail shown to operators, not a condition. */
  readonly checks: Readonly<Record<string, boolean | string | number>>;
}

/** Why a call was refused: no bearer token, or one that does not match. */
export type RefusalReason = 'missing' | 'wrong';

/** Routes anyone may call: the orchestrator's probes. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

export interface AdminServerOptions {
  readonly port: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** The admin token every other route requires (loadAdminToken()). */
  readonly token: string;
  readonly readiness: () => Readiness;
  readonly register?: (app: FastifyInstance) => void | Promise<void>;
  /** Called for every refused call (the metric). */
  readonly onRefused?: (reason: RefusalReason, route: string) => void;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** A constant-time check of `Authorization` headers against `token`. */
export function bearerChecker(token: string): (header: string | undefined) => RefusalReason | undefined {
  const problem = adminTokenProblem(token);
  if (problem !== undefined) throw new RangeError(`admin token ${problem}`);
  const expected = digest(token);
  return (header) => {
    const m = header === undefined ? null : /^Bearer ([^\s]+)$/i.exec(header.trim());
    const sent = m?.[1];
    if (sent === undefined) return 'missing';
    return timingSafeEqual(digest(sent), expected) ? undefined : 'wrong';
  };
}

/** Starts the admin server; resolves with it and the port it listens on. */
export async function startAdminServer(
  options: AdminServerOptions,
): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false });
  const check = bearerChecker(options.token);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '';
    if (PUBLIC_ROUTES.has(path)) return;
    const refused = check(request.headers.authorization);
    if (refused === undefined) return;
    // The route label is the matched route (bounded), never the raw URL (unbounded input).
    options.onRefused?.(refused, request.routeOptions.url ?? 'unmatched');
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="admin"')
      .send({ error: 'unauthorized', message: 'this route needs Authorization: Bearer <admin token>' });
  });
  app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', (_request, reply) => {
    const r = options.readiness();
    return reply
      .code(r.ready ? 200 : 503)
      .send({ status: r.ready ? 'ready' : 'not-ready', checks: r.checks });
  });
  await options.register?.(app);
  const address = await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  return { app, port: Number(new URL(address).port) };
}
