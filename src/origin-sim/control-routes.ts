/**
 * The simulator's own endpoints under `/_sim` (stats, load, history, reset, config, change)
 * and `/healthz`. `GET /_sim/history[?family=]` is every entity's version history (which
 * version became true when), the truth the read-staleness checker judges reads against.
 * The underscore keeps them apart from anything an origin would serve.
 */
import type { FastifyInstance } from 'fastify';
import { applyChange } from './change-applier.ts';
import { parseChangeRequest } from './change-request.ts';
import { buildEvent, topicForChange } from './event-factory.ts';
import { badRequest } from './origin-routes.ts';
import type { ErrorBody } from './origin-routes.ts';
import { ORIGIN_ENDPOINTS } from './origin-endpoints.ts';
import { applyConfigPatch } from './sim-config.ts';
import type { SimContext } from './sim-context.ts';

/** Registers `/healthz` and the `/_sim/*` control endpoints. */
export function registerControlRoutes(app: FastifyInstance, ctx: SimContext): void {
  app.get('/healthz', () => ({ status: 'ok' }));

  app.get<{ Querystring: { keys?: string } }>('/_sim/stats', (request) => {
    const keys = request.query.keys;
    return ctx.stats.snapshot(keys === '1' || keys === 'true');
  });

  app.get('/_sim/load', () => ctx.stats.load());

  app.get<{ Querystring: { family?: string } }>('/_sim/history', (request, reply) => {
    const family = request.query.family;
    if (family === undefined) return ctx.history.snapshot();
    if (family !== 'product' && family !== 'promo' && family !== 'reco' && family !== 'review')
      return badRequest(reply, 'family must be one of product, promo, reco, review');
    return ctx.history.snapshot(family);
  });

  app.post('/_sim/reset', () => {
    ctx.stats.reset();
    ctx.failures.reset();
    return { reset: true, since: ctx.stats.snapshot().since };
  });

  app.get('/_sim/config', () => ctx.config());

  app.post('/_sim/config', (request, reply) => {
    const before = ctx.config();
    const result = applyConfigPatch(before, request.body);
    if (!result.ok) return badRequest(reply, result.errors.join('; '));
    // A new failure rate starts a fresh sequence, so "the next N calls" are predictable.
    for (const endpoint of ORIGIN_ENDPOINTS)
      if (result.config.failRate[endpoint] !== before.failRate[endpoint]) ctx.failures.reset(endpoint);
    ctx.setConfig(result.config);
    return result.config;
  });

  app.post('/_sim/change', async (request, reply) => {
    const parsed = parseChangeRequest(request.body);
    if (!parsed.ok) return badRequest(reply, parsed.errors.join('; '));
    const change = parsed.change;
    const topic = topicForChange(change);
    const topicArn = ctx.topics[topic];
    // Refuse before changing anything: a change nobody hears of would leave caches stale.
    if (change.publish && topicArn === undefined) {
      void reply.code(409);
      return { error: 'no_topic', message: `no ${topic} topic ARN configured` } satisfies ErrorBody;
    }
    const event = buildEvent(change, applyChange(ctx.store, change));
    if (!change.publish || topicArn === undefined) return { event, published: false };
    try {
      const receipt = await ctx.publisher().publish(topicArn, event);
      request.log.info(
        { eventId: event.eventId, type: event.type, messageId: receipt.messageId },
        'event published',
      );
      return { event, published: true, topicArn, messageId: receipt.messageId };
    } catch (cause) {
      // The origin's write happened but its event was lost: exactly the gap TTLs exist for.
      request.log.error({ err: cause, eventId: event.eventId }, 'event publish failed');
      void reply.code(502);
      const message = cause instanceof Error ? cause.message : String(cause);
      return { error: 'publish_failed', message, event };
    }
  });
}
