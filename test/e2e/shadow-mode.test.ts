/**
 * Issue 14, Done when (shadow mode), on a private world with a real worker process: the
 * worker runs the live contract (en-US, ja-JP) and a candidate that adds fr-FR
 * (WORKER_SHADOW_CONTRACT). Events of three families arrive through SNS. `admin shadow
 * report` counts the extra keys exactly (one fr-FR key per product and per promo section,
 * none for reco, none for the product whose event names fr-FR itself, since the live plan
 * deletes that one too), and Redis shows that nothing extra was deleted: every fr-FR key the
 * candidate alone would delete is still there, byte for byte.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders } from '../../src/admin/admin-token.ts';
import { main as admin } from '../../src/cli/admin.ts';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { eventually, queueDepth, snsClient, sqsClient } from '../support/aws.ts';
import { productUpdated, promotionChanged, publishAll, sessionStarted } from '../support/events.ts';
import { privateWorld, type PrivateWorld } from '../support/private-world.ts';

describe('shadow mode with a candidate contract that adds a locale', () => {
  const namespace = 'shadowe2e';
  const live = createKeyBuilder({ namespace, locales: ['en-US', 'ja-JP'] });
  const sqs = sqsClient();
  let sns: SNSClient;
  let world: PrivateWorld;

  beforeAll(async () => {
    sns = snsClient();
    world = await privateWorld();
  });

  afterAll(async () => {
    await world?.teardown();
    sqs.destroy();
    sns?.destroy();
  });

  const report = async (url: string, ...args: string[]): Promise<{ code: number; out: string }> => {
    const lines: string[] = [];
    const code = await admin(['node', 'admin', 'shadow', 'report', '--targets', url, ...args], (s) =>
      lines.push(s),
    );
    return { code, out: lines.join('\n') };
  };

  it('counts the extra keys exactly and deletes none of them', async () => {
    const { redis, messaging } = world;
    // Prepare: 30 products and 10 promo sections with all three locales cached; one more
    // product whose event names fr-FR itself; 3 users' sessions (reco keys carry no locale).
    const asins = Array.from({ length: 30 }, (_, i) => `B0SHADOW${String(i).padStart(2, '0')}`);
    const sections = Array.from({ length: 10 }, (_, i) => `shadow-section-${i}`);
    const fr = (family: 'product' | 'promo', id: string) =>
      live.valueKey({ family, tenant: 'default', id, locale: 'fr-FR' });
    const liveKeys = [
      ...asins.flatMap((id) => live.variantKeys({ family: 'product', tenant: 'default', id })),
      ...sections.flatMap((id) => live.variantKeys({ family: 'promo', tenant: 'default', id })),
    ];
    const candidateOnly = [...asins.map((id) => fr('product', id)), ...sections.map((id) => fr('promo', id))];
    const namedFr = fr('product', 'B0SHADOWFR');
    for (const k of [...liveKeys, ...candidateOnly, namedFr]) await redis.client.set(k, `cached ${k}`);

    const worker = await world.startWorker(namespace, {
      WORKER_SHADOW_CONTRACT: JSON.stringify({ name: 'add-fr-FR', locales: ['en-US', 'ja-JP', 'fr-FR'] }),
    });
    const url = `http://127.0.0.1:${worker.adminPort}`;

    // Act: 31 catalog, 2 promotion (5 sections each) and 3 session events through SNS.
    await publishAll(sns, messaging.topics.catalog, [
      ...asins.map((a) => productUpdated(a)),
      productUpdated('B0SHADOWFR', { locales: ['fr-FR'] }),
    ]);
    await publishAll(sns, messaging.topics.promotions, [
      promotionChanged(sections.slice(0, 5)),
      promotionChanged(sections.slice(5)),
    ]);
    await publishAll(
      sns,
      messaging.topics.sessions,
      ['u1', 'u2', 'u3'].map((u) => sessionStarted(u)),
    );

    // Assess: the live plan ran (its keys are gone, the queues drained) ...
    await eventually(
      async () => ((await redis.client.exists(...liveKeys, namedFr)) === 0 ? true : undefined),
      {
        timeoutMs: 30_000,
        what: 'the live deletes',
      },
    );
    for (const q of ['catalog', 'promotions', 'sessions'] as const)
      await eventually(
        async () => ((await queueDepth(sqs, messaging.queues[q].url)) === 0 ? true : undefined),
        {
          what: `${q} drained`,
        },
      );
    // ... the report has seen all 36 messages, and counts exactly 30 + 10 extra keys.
    const json = await eventually(
      async () => {
        const r = await report(url, '--json');
        const body = JSON.parse(r.out) as {
          messages: number;
          deletes: Record<string, number>;
          byFamily: Record<string, { candidateOnly: number; liveOnly: number }>;
          decisions: Record<string, number>;
          fences: Record<string, number>;
          samples: { candidateOnlyKeys: string[] }[];
          candidate: unknown;
        };
        return body.messages === 36 ? { code: r.code, body } : undefined;
      },
      { what: 'the shadow report to see 36 messages' },
    );
    expect(json.code).toBe(0);
    expect(json.body.candidate).toEqual({ name: 'add-fr-FR', locales: ['en-US', 'ja-JP', 'fr-FR'] });
    expect(json.body.deletes).toMatchObject({ candidateOnly: 40, liveOnly: 0 });
    expect(json.body.deletes.candidate).toBe((json.body.deletes.live ?? 0) + 40);
    expect(json.body.byFamily).toEqual({
      product: { candidateOnly: 30, liveOnly: 0 },
      promo: { candidateOnly: 10, liveOnly: 0 },
    });
    expect(json.body.fences).toMatchObject({ candidateOnly: 0, liveOnly: 0 });
    expect(json.body.decisions).toEqual({});
    const sampled = new Set(json.body.samples.flatMap((s) => s.candidateOnlyKeys));
    for (const k of sampled) expect(candidateOnly).toContain(k);
    expect(sampled.has(namedFr)).toBe(false);

    // Nothing extra was deleted: every key only the candidate would delete is still there.
    const values = await redis.client.mget(...candidateOnly);
    expect(values).toEqual(candidateOnly.map((k) => `cached ${k}`));

    // The same in the metrics and in the text report.
    const metrics = await (await fetch(`${url}/metrics`, { headers: adminHeaders() })).text();
    expect(metrics).toMatch(/invalidation_shadow_keys_total\{family="product",side="candidate_only"\} 30\b/);
    expect(metrics).toMatch(/invalidation_shadow_keys_total\{family="promo",side="candidate_only"\} 10\b/);
    expect(metrics).not.toMatch(/side="live_only"/);
    const text = await report(url);
    expect(text.out).toContain(
      'no key the live contract deletes is missed by the candidate; it adds 40 deletes',
    );
    // The shadow route is behind the admin token like every other.
    expect((await fetch(`${url}/shadow.json`)).status).toBe(401);
  });
});
