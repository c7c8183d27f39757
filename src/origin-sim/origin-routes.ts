/**
 * The simulated origin endpoints. Every valid call is counted when it starts (that is the
 * load the origin feels), then waits its latency, then either fails (injected 503) or
 * answers. Invalid ids are rejected at once with 400 and not counted as origin load.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { priceOf, productOf, promotionOf, recommendationsOf, reviewSummaryOf } from './entity-generator.ts';
import { isAsin, isSlug, isUserId } from './identifiers.ts';
import type { OriginEndpoint } from './origin-endpoints.ts';
import type { SimContext } from './sim-context.ts';
import { effectiveLatencyMs } from './sim-config.ts';
import type { SimConfig } from './sim-config.ts';

/** An error body, the same shape for every 4xx/5xx of the simulator. */
export interface ErrorBody {
  readonly error: string;
  readonly message: string;
}

/** Replies 400 with `message`. */
export function badRequest(reply: FastifyReply, message: string): ErrorBody {
  void reply.code(400);
  return { error: 'bad_request', message };
}

/** Registers `GET /products/:asin`, `/promotions/:section`, `/recommendations/:userId`, `/reviews/:asin`, `/prices/:asin`. */
export function registerOriginRoutes(app: FastifyInstance, ctx: SimContext): void {
  /** Counts, delays and maybe fails one call, then answers with `produce`. */
  async function serve(
    reply: FastifyReply,
    endpoint: OriginEndpoint,
    key: string,
    produce: (config: SimConfig) => unknown,
  ): Promise<unknown> {
    ctx.stats.record(endpoint, key);
    const config = ctx.config();
    const failing = ctx.failures.shouldFail(endpoint, config.failRate[endpoint]);
    const latency = effectiveLatencyMs(config, endpoint);
    // A failing origin still takes its time: callers' timeouts and rate limits see real cost.
    if (latency > 0) await sleep(latency);
    if (failing) {
      void reply.code(503);
      return { error: 'unavailable', message: `injected failure on ${endpoint}` } satisfies ErrorBody;
    }
    return produce(config);
  }

  app.get<{ Params: { asin: string } }>('/products/:asin', async (request, reply) => {
    const { asin } = request.params;
    if (!isAsin(asin)) return badRequest(reply, 'asin must be 10 upper-case letters or digits');
    return serve(reply, 'products', asin, () => {
      const state = ctx.store.get('product', asin);
      if (!state.deleted) return productOf(asin, state);
      void reply.code(404);
      return { error: 'not_found', message: `product ${asin} was deleted` } satisfies ErrorBody;
    });
  });

  app.get<{ Params: { section: string } }>('/promotions/:section', async (request, reply) => {
    const { section } = request.params;
    if (!isSlug(section)) return badRequest(reply, 'section must be a lower-case slug');
    return serve(reply, 'promotions', section, () =>
      promotionOf(section, ctx.store.get('promotion-section', section)),
    );
  });

  app.get<{ Params: { userId: string }; Querystring: { seed?: string } }>(
    '/recommendations/:userId',
    async (request, reply) => {
      const { userId } = request.params;
      const { seed } = request.query;
      if (!isUserId(userId)) return badRequest(reply, 'userId must be 1-64 letters, digits, "_" or "-"');
      if (!isAsin(seed)) return badRequest(reply, 'query "seed" must be an ASIN');
      return serve(reply, 'recommendations', `${userId}:${seed}`, () =>
        recommendationsOf(userId, seed, ctx.store.get('recommendation-user', userId)),
      );
    },
  );

  app.get<{ Params: { asin: string } }>('/reviews/:asin', async (request, reply) => {
    const { asin } = request.params;
    if (!isAsin(asin)) return badRequest(reply, 'asin must be 10 upper-case letters or digits');
    return serve(reply, 'reviews', asin, (config) => {
      const summary = reviewSummaryOf(asin, ctx.store.get('review', asin));
      if (!config.reviewsIncludePrice) return summary;
      // The leak a consumer must strip before caching: prices are never cached.
      const { priceCents } = priceOf(asin);
      return { ...summary, price: priceCents / 100, priceCents };
    });
  });

  app.get<{ Params: { asin: string } }>('/prices/:asin', async (request, reply) => {
    const { asin } = request.params;
    if (!isAsin(asin)) return badRequest(reply, 'asin must be 10 upper-case letters or digits');
    return serve(reply, 'prices', asin, () => priceOf(asin));
  });
}
