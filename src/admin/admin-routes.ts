/**
 * The worker's admin API (issue 14), registered on its admin server behind the bearer-token
 * check of src/worker/admin-server.ts (no route here is reachable without the token):
 *
 *   POST /admin/purge    purge-request.ts body; runs purge.ts; audited
 *   GET  /admin/audit    ?limit&action&actor&sinceMs: the audit trail, newest first
 *   GET  /admin/pause    the kill switch
 *   POST /admin/pause    { queue?, reason }: pause every worker (or one queue); audited
 *   POST /admin/resume   { queue?, reason }: resume; audited
 *
 * The actor of every audit record is the operator the call names in `x-admin-operator`
 * (checked against OPERATOR_RULE), accepted only once the token passed, and the record keeps
 * the fingerprint of the credential that authenticated it (`credential`: the first 12 hex of
 * the token's SHA-256). With one shared token the name is asserted by a token holder, not
 * proven: decision 0015 says so and what per-operator tokens would change.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { OPERATOR_HEADER, OPERATOR_RULE } from './admin-cli.ts';
import type { AuditRecord, AuditTrail } from './audit-trail.ts';
import { ALL_QUEUES, pausedOnly, queuePaused, readPause, setPause } from './pause-switch.ts';
import type { PauseWatcher } from './pause-switch.ts';
import { PurgeRefusedError, type Purger } from './purge.ts';
import { purgeRequestSchema } from './purge-request.ts';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';
import { errorCode } from '../core/errors.ts';

export interface AdminApiDeps {
  readonly client: RedisClient;
  readonly namespace: string;
  /** The queues this worker consumes (the names `--queue` accepts). */
  readonly queues: readonly string[];
  readonly purger: Purger;
  readonly audit: AuditTrail;
  readonly pause: PauseWatcher;
  /** The admin token (only its fingerprint is recorded). */
  readonly token: string;
}

/** The first 12 hex of SHA-256(token): names a credential in the audit trail, reveals nothing. */
export const credentialFingerprint = (token: string): string =>
  `admin-token:${createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 12)}`;

/** The operator a call names, or `unnamed`. */
export function actorOf(request: FastifyRequest): string {
  const h = request.headers[OPERATOR_HEADER];
  const name = Array.isArray(h) ? h[0] : h;
  return name !== undefined && OPERATOR_RULE.test(name) ? name : 'unnamed';
}

const switchBody = z.strictObject({
  queue: z.string().min(1).max(64).optional(),
  reason: z
    .string()
    .trim()
    .min(1, 'a reason is required')
    .max(500)
    .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'the reason must not hold control or format characters'),
});

const auditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  action: z.string().max(64).optional(),
  actor: z.string().max(64).optional(),
  sinceMs: z.coerce.number().int().min(0).optional(),
});

export function registerAdminApi(app: FastifyInstance, deps: AdminApiDeps): void {
  const credential = credentialFingerprint(deps.token);
  const record = (request: FastifyRequest, r: Omit<AuditRecord, 'actor' | 'at'>): Promise<string> =>
    deps.audit.append({
      actor: actorOf(request),
      at: new Date().toISOString(),
      ...r,
      details: { ...r.details, credential },
    });
  const bad = (reply: FastifyReply, error: z.ZodError) =>
    reply.code(400).send({ error: 'bad-request', message: z.prettifyError(error) });

  app.post('/admin/purge', async (request, reply) => {
    const parsed = purgeRequestSchema.safeParse(request.body);
    if (!parsed.success) return bad(reply, parsed.error);
    const req = parsed.data;
    try {
      const outcome = await deps.purger.purge(req);
      const auditId = await record(request, {
        action: outcome.action,
        target: outcome.target,
        reason: req.reason,
        result: outcome.dryRun ? 'dry-run' : 'ok',
        details: {
          keyCount: outcome.keyCount,
          method: outcome.method,
          purgeId: outcome.purgeId,
          tookMs: outcome.tookMs,
          ...(outcome.fenceValue === undefined ? {} : { fenceValue: outcome.fenceValue }),
          ...(outcome.replicaConfirmed === undefined ? {} : { replicaConfirmed: outcome.replicaConfirmed }),
        },
      });
      return reply.send({ ...outcome, auditId });
    } catch (err) {
      const refused = err instanceof PurgeRefusedError;
      const auditId = await record(request, {
        action: `purge.${req.scope}`,
        target: describeTarget(req),
        reason: req.reason,
        result: refused ? 'refused' : 'failed',
        details: { code: errorCode(err), dryRun: req.dryRun },
      });
      return reply.code(refused ? err.status : 503).send({
        error: errorCode(err),
        message: err instanceof Error ? err.message : String(err),
        auditId,
      });
    }
  });

  app.get('/admin/audit', async (request, reply) => {
    const parsed = auditQuery.safeParse(request.query);
    if (!parsed.success) return bad(reply, parsed.error);
    const q = parsed.data;
    const records = await deps.audit.read({
      ...(q.limit === undefined ? {} : { limit: q.limit }),
      ...(q.action === undefined ? {} : { action: q.action }),
      ...(q.actor === undefined ? {} : { actor: q.actor }),
      ...(q.sinceMs === undefined ? {} : { sinceMs: q.sinceMs }),
    });
    return reply.header('cache-control', 'no-store').send({ records });
  });

  app.get('/admin/pause', async (_request, reply) => {
    const state = await readPause(deps.client, deps.namespace);
    return reply.header('cache-control', 'no-store').send({ paused: pausedOnly(state), state });
  });

  for (const verb of ['pause', 'resume'] as const) {
    app.post(`/admin/${verb}`, async (request, reply) => {
      const parsed = switchBody.safeParse(request.body ?? {});
      if (!parsed.success) return bad(reply, parsed.error);
      const { queue, reason } = parsed.data;
      if (queue !== undefined && (queue === ALL_QUEUES || !deps.queues.includes(queue)))
        return reply
          .code(400)
          .send({ error: 'bad-request', message: `--queue must be one of ${deps.queues.join(', ')}` });
      const target = `queue:${queue ?? ALL_QUEUES}`;
      if (verb === 'resume' && queue !== undefined) {
        const current = await readPause(deps.client, deps.namespace);
        if (current[ALL_QUEUES]?.paused === true) {
          const auditId = await record(request, { action: verb, target, reason, result: 'refused' });
          return reply.code(409).send({
            error: 'whole-fleet-paused',
            message: 'every queue is paused: resume without --queue (then pause the others again if needed)',
            auditId,
          });
        }
      }
      const state = await setPause(deps.client, deps.namespace, {
        paused: verb === 'pause',
        ...(queue === undefined ? {} : { queue }),
        by: actorOf(request),
        reason,
      });
      // This worker acts at once; the others within their next read of the switch.
      await deps.pause.poll();
      const auditId = await record(request, {
        action: verb,
        target,
        reason,
        result: 'ok',
        details: { pausedQueues: deps.queues.filter((q) => queuePaused(state, q)).join(',') || 'none' },
      });
      return reply.send({ paused: pausedOnly(state), auditId });
    });
  }
}

function describeTarget(req: z.output<typeof purgeRequestSchema>): string {
  switch (req.scope) {
    case 'key':
      return `key ${req.key}`;
    case 'entity':
      return `entity ${req.family}/${req.tenant}/${req.id}`;
    case 'family':
      return `family ${req.family}${req.tenant === undefined ? ' (every tenant)' : ` tenant=${req.tenant}`}`;
    case 'tenant':
      return `tenant ${req.tenant} (every family)`;
  }
}
