/**
 * Shadow mode at unit speed: the candidate contract (shadow-contract.ts) as the worker's
 * config parses it, and the evaluator's counts (shadow-evaluator.ts) against plans whose
 * difference is known key by key. The adversaries: an event that names the candidate's extra
 * locale itself (no difference then), a duplicate entity in one batch (counted once), a
 * candidate that drops a locale (the dangerous side), a policy change that turns poison into
 * apply, and a candidate planner that throws (the live plan must not notice).
 */
import type { Message } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { EffectsApplied } from '../../../src/adapters/redis/invalidation-effects.ts';
import { NO_METRICS } from '../../../src/metrics/worker-metrics.ts';
import { createBatchHandler, type BatchHandlerDeps } from '../../../src/worker/batch-handler.ts';
import { loadWorkerConfig } from '../../../src/config/load-config.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { planBatch, type IncomingMessage } from '../../../src/core/invalidation-planner.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import {
  createShadowPlanner,
  shadowContractSchema,
  type ShadowCandidate,
} from '../../../src/worker/shadow-contract.ts';
import { ShadowEvaluator, diffPlans, type ShadowObservation } from '../../../src/worker/shadow-evaluator.ts';
import { event, raw } from '../core/fixtures.ts';

const LIVE = { namespace: 'mc', locales: ['en-US', 'ja-JP'] };
const liveKeys = createKeyBuilder(LIVE);
let n = 0;
const msg = (body: string): IncomingMessage => ({ messageId: `m${++n}`, body });
const candidate = (json: unknown): ShadowCandidate => shadowContractSchema.parse(JSON.stringify(json));

function evaluate(c: ShadowCandidate, batches: IncomingMessage[][]) {
  const observed: ShadowObservation[] = [];
  const evaluator = new ShadowEvaluator({
    planner: createShadowPlanner(c, LIVE),
    instance: 'test',
    metrics: { shadowCompared: (o) => observed.push(o) },
  });
  for (const batch of batches) evaluator.observe('catalog', batch, planBatch(batch, liveKeys));
  return { report: evaluator.report(), observed };
}

describe('the shadow candidate from WORKER_SHADOW_CONTRACT', () => {
  const env = {
    AWS_REGION: 'us-east-1',
    WORKER_CATALOG_QUEUE_URL: 'http://127.0.0.1:4566/queue/us-east-1/000000000000/q',
  };

  it('is off when unset, parsed and frozen when set', () => {
    expect(loadWorkerConfig(env).shadow).toBeUndefined();
    const config = loadWorkerConfig({
      ...env,
      WORKER_SHADOW_CONTRACT:
        '{"name":"fr","locales":["en-US","ja-JP","fr-FR"],"liveSchemaVersions":{"product":[1,2]}}',
    });
    expect(config.shadow).toEqual({
      name: 'fr',
      locales: ['en-US', 'ja-JP', 'fr-FR'],
      liveSchemaVersions: { product: [1, 2] },
    });
    expect(Object.isFrozen(config.shadow?.locales)).toBe(true);
  });

  it.each([
    ['not JSON', '{locales:', 'must be a JSON object'],
    ['an unknown field', '{"locale":["fr-FR"]}', 'only name, locales'],
    ['a bad locale', '{"locales":["fr_FR*"]}', 'every locale must be'],
    ['reco versions', '{"liveSchemaVersions":{"reco":[2]}}', 'reco is invalidated by its generation'],
    ['a tiny body limit', '{"maxEventBodyBytes":10}', 'at least 1024'],
  ])('stops start-up on %s, saying what to fix', (_what, value, message) => {
    let error: unknown;
    try {
      loadWorkerConfig({ ...env, WORKER_SHADOW_CONTRACT: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.filter((p) => p.variable === 'WORKER_SHADOW_CONTRACT');
    expect(problems.map((p) => p.message).join(' | ')).toContain(message);
  });

  it('WORKER_MAX_EVENT_BODY_BYTES defaults to the edge limit and is bounded', () => {
    expect(loadWorkerConfig(env).maxEventBodyBytes).toBe(64 * 1024);
    expect(loadWorkerConfig({ ...env, WORKER_MAX_EVENT_BODY_BYTES: '2048' }).maxEventBodyBytes).toBe(2048);
    expect(() => loadWorkerConfig({ ...env, WORKER_MAX_EVENT_BODY_BYTES: '100' })).toThrow(/at least 1024/);
  });
});

describe('the shadow evaluator', () => {
  it('counts exactly the keys a candidate with one more locale adds, and none it drops', () => {
    // Prepare: 3 products and one promo with 2 sections; one product event names fr-FR itself.
    const batch = [
      msg(raw(event('catalog.product.updated', { asin: 'B000000001' }))),
      msg(raw(event('catalog.product.updated', { asin: 'B000000002' }))),
      msg(raw(event('catalog.product.updated', { asin: 'B000000003', locales: ['fr-FR'] }))),
      msg(raw(event('promotion.changed', { storeSections: ['deals', 'manga'] }))),
      msg(raw(event('session.started', { userId: 'user1' }))),
    ];
    // Act
    const { report, observed } = evaluate(candidate({ name: 'fr', locales: ['en-US', 'ja-JP', 'fr-FR'] }), [
      batch,
    ]);
    // Assess: B1, B2 and the two promo sections gain a fr-FR key; B3 already deletes it live.
    expect(report.deletes.candidateOnly).toBe(4);
    expect(report.deletes.liveOnly).toBe(0);
    expect(report.byFamily).toEqual({
      product: { candidateOnly: 2, liveOnly: 0 },
      promo: { candidateOnly: 2, liveOnly: 0 },
    });
    expect(report.deletes.live).toBe(3 * 2 + 1 + 2 * 2);
    expect(report.deletes.candidate).toBe(report.deletes.live + 4);
    expect(report.fences).toMatchObject({ candidateOnly: 0, liveOnly: 0 });
    expect(report.samples).toHaveLength(1);
    expect(new Set(report.samples[0]?.candidateOnlyKeys)).toEqual(
      new Set([
        'mc:{default:product:B000000001}:v1:fr-FR',
        'mc:{default:product:B000000002}:v1:fr-FR',
        'mc:{default:promo:deals}:v1:fr-FR',
        'mc:{default:promo:manga}:v1:fr-FR',
      ]),
    );
    expect(observed).toEqual([
      {
        result: 'different',
        keys: [
          { family: 'product', side: 'candidate_only', count: 2 },
          { family: 'promo', side: 'candidate_only', count: 2 },
        ],
        decisions: [],
      },
    ]);
  });

  it('counts an entity twice in one batch once, and per batch across batches', () => {
    const twice = () => [
      msg(raw(event('catalog.product.updated', { asin: 'B000000001' }))),
      msg(raw(event('catalog.product.deleted', { asin: 'B000000001' }))),
    ];
    const { report } = evaluate(candidate({ locales: ['en-US', 'ja-JP', 'fr-FR'] }), [twice(), twice()]);
    expect(report.deletes.candidateOnly).toBe(2);
    expect(report.batches).toBe(2);
    expect(report.messages).toBe(4);
  });

  it('shows the dangerous side: a candidate without ja-JP would leave ja-JP keys', () => {
    const { report, observed } = evaluate(candidate({ locales: ['en-US'] }), [
      [msg(raw(event('review.summary-changed', { asin: 'B000000009' })))],
    ]);
    expect(report.deletes).toMatchObject({ candidateOnly: 0, liveOnly: 1 });
    expect(report.samples[0]?.liveOnlyKeys).toEqual(['mc:{default:review:B000000009}:v1:ja-JP']);
    expect(observed[0]?.keys).toEqual([{ family: 'review', side: 'live_only', count: 1 }]);
  });

  it('a schema version bump adds the v2 variants of that family only', () => {
    const { report } = evaluate(candidate({ liveSchemaVersions: { product: [1, 2] } }), [
      [
        msg(raw(event('catalog.product.updated', { asin: 'B000000001' }))),
        msg(raw(event('review.summary-changed', { asin: 'B000000001' }))),
      ],
    ]);
    expect(report.deletes.candidateOnly).toBe(2);
    expect(new Set(report.samples[0]?.candidateOnlyKeys)).toEqual(
      new Set(['mc:{default:product:B000000001}:v2:en-US', 'mc:{default:product:B000000001}:v2:ja-JP']),
    );
  });

  it('the same contract changes nothing, and says so', () => {
    const { report, observed } = evaluate(candidate({ name: 'same' }), [
      [msg(raw(event('catalog.product.updated'))), msg('not json')],
    ]);
    expect(report).toMatchObject({ batches: 1, batchesDiffering: 0, samples: [] });
    expect(report.deletes).toMatchObject({ candidateOnly: 0, liveOnly: 0 });
    expect(observed[0]?.result).toBe('same');
  });

  it('a larger body limit turns poison into apply, and counts the keys that come with it', () => {
    const big = raw(
      event('promotion.changed', { storeSections: Array.from({ length: 90 }, (_, i) => `section-${i}`) }),
    );
    expect(Buffer.byteLength(big)).toBeGreaterThan(1_024);
    const batch = [msg(big)];
    const planner = createShadowPlanner(candidate({ maxEventBodyBytes: 4_096 }), LIVE);
    const evaluator = new ShadowEvaluator({ planner, instance: 'test' });
    evaluator.observe('promotions', batch, planBatch(batch, liveKeys, { maxBodyBytes: 1_024 }));
    const report = evaluator.report();
    expect(report.decisions).toEqual({ 'poison->apply': 1 });
    expect(report.deletes.candidateOnly).toBe(90 * 2);
    expect(report.fences.candidateOnly).toBe(90);
  });

  it('a candidate without its own body limit uses the live one (no phantom poison->apply)', () => {
    const big = raw(
      event('promotion.changed', { storeSections: Array.from({ length: 90 }, (_, i) => `section-${i}`) }),
    );
    const batch = [msg(big)];
    const planner = createShadowPlanner(candidate({ locales: ['en-US', 'ja-JP', 'fr-FR'] }), {
      ...LIVE,
      maxBodyBytes: 1_024,
    });
    const evaluator = new ShadowEvaluator({ planner, instance: 'test' });
    evaluator.observe('promotions', batch, planBatch(batch, liveKeys, { maxBodyBytes: 1_024 }));
    expect(evaluator.report()).toMatchObject({ decisions: {}, batchesDiffering: 0 });
  });

  it('a failing candidate is counted, never thrown into the live path', () => {
    const planner = createShadowPlanner(candidate({}), LIVE);
    const broken = {
      ...planner,
      keys: {
        ...planner.keys,
        entityEffect: () => {
          throw new Error('boom');
        },
      },
    };
    const evaluator = new ShadowEvaluator({ planner: broken, instance: 'test' });
    const batch = [msg(raw(event('catalog.product.updated')))];
    // The planner isolates per-message errors as poison; a whole-plan failure is an error.
    expect(() => evaluator.observe('catalog', batch, planBatch(batch, liveKeys))).not.toThrow();
    const report = evaluator.report();
    expect(report.decisions).toEqual({ 'apply->poison': 1 });
  });

  it('a candidate plan that throws is counted as an error and the report still answers', () => {
    const planner = createShadowPlanner(candidate({}), LIVE);
    const throwing = Object.defineProperty({ ...planner }, 'maxBodyBytes', {
      get: () => {
        throw new Error('boom');
      },
    });
    const observed: ShadowObservation[] = [];
    const evaluator = new ShadowEvaluator({
      planner: throwing,
      instance: 'test',
      metrics: { shadowCompared: (o) => observed.push(o) },
    });
    const batch = [msg(raw(event('catalog.product.updated')))];
    expect(() => evaluator.observe('catalog', batch, planBatch(batch, liveKeys))).not.toThrow();
    expect(evaluator.report()).toMatchObject({ errors: 1, batches: 0 });
    expect(observed).toEqual([{ result: 'error', keys: [], decisions: [] }]);
  });

  it('diffPlans compares fences and decisions position by position', () => {
    const batch = [msg(raw(event('catalog.product.updated', { asin: 'B000000004' })))];
    const live = planBatch(batch, liveKeys);
    expect(diffPlans(live, live)).toMatchObject({ candidateOnly: [], liveOnly: [], decisions: [] });
    const none = planBatch([msg('{')], liveKeys);
    expect(diffPlans(live, none).fencesLiveOnly).toEqual(['mc:{default:product:B000000004}:fence']);
  });
});

describe('the batch handler hook', () => {
  function handler(shadow: BatchHandlerDeps['shadow'], maxBodyBytes?: number) {
    const dlq: string[] = [];
    const warnings: string[] = [];
    const logger = pino({ level: 'silent' });
    vi.spyOn(logger, 'warn').mockImplementation((_o: unknown, m?: string) => void warnings.push(m ?? ''));
    const deps: BatchHandlerDeps = {
      queue: 'catalog',
      keys: liveKeys,
      effects: { apply: () => Promise.resolve(applied()) },
      durability: { required: 0, state: () => 'healthy', hold: () => undefined, confirmed: () => undefined },
      deadLetters: {
        send: (items) => {
          dlq.push(...items.map((p) => p.code));
          return Promise.resolve(new Set(items.map((p) => p.message.MessageId ?? '')));
        },
      },
      visibility: { retryLater: () => Promise.resolve() },
      observer: { applied: () => undefined, redisUnavailable: () => undefined },
      shutdown: new AbortController().signal,
      backoff: { baseS: 1, maxS: 60 },
      metrics: NO_METRICS,
      logger,
      ...(shadow === undefined ? {} : { shadow }),
      ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
    };
    return { handle: createBatchHandler(deps), dlq, warnings };
  }
  const sqsMessage = (body: string): Message => ({ MessageId: `s${++n}`, ReceiptHandle: 'r', Body: body });

  it('hands the shadow the live plan only after the batch was handled', async () => {
    const seen: { queue: string; messages: number; effects: number }[] = [];
    const { handle } = handler({
      observe: (queue, messages, live) =>
        seen.push({ queue, messages: messages.length, effects: live.effects.length }),
    });
    const acked = await handle([sqsMessage(raw(event('catalog.product.updated')))]);
    expect(acked).toHaveLength(1);
    expect(seen).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([{ queue: 'catalog', messages: 1, effects: 1 }]);
  });

  it('a shadow that throws is logged, and the batch is acked as always', async () => {
    const { handle, warnings } = handler({
      observe: () => {
        throw new Error('boom');
      },
    });
    expect(await handle([sqsMessage(raw(event('catalog.product.updated')))])).toHaveLength(1);
    await new Promise((r) => setImmediate(r));
    expect(warnings).toEqual(['shadow mode failed on a batch (nothing live is affected)']);
  });

  it('WORKER_MAX_EVENT_BODY_BYTES decides what is oversized', async () => {
    const body = raw(
      event('promotion.changed', {
        storeSections: Array.from({ length: 60 }, (_, i) => `section-number-${i}`),
      }),
    );
    const strict = handler(undefined, 1_024);
    await strict.handle([sqsMessage(body)]);
    expect(strict.dlq).toEqual(['EVENT_OVERSIZED']);
    const relaxed = handler(undefined);
    await relaxed.handle([sqsMessage(body)]);
    expect(relaxed.dlq).toEqual([]);
  });
});

function applied(): EffectsApplied {
  return {
    ok: true,
    deleted: 1,
    fenceValues: new Map(),
    seq: 1,
    receivers: 0,
    publishedAtMs: Date.now(),
    replicasAcked: null,
    durations: { effectsMs: 1, totalMs: 1 },
  };
}
