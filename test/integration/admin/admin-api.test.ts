/**
 * The admin API on a real admin server and the shared Redis (a namespace of its own):
 * every route but /healthz and /readyz refuses calls without the token or with a wrong one
 * (401, counted, nothing written), including path spellings that try to pass as a health
 * route; purges are rate-limited and audited; the audit trail stays bounded; the kill switch
 * keeps its last state when its hash vanishes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { registerAdminApi } from '../../../src/admin/admin-routes.ts';
import { AuditTrail } from '../../../src/admin/audit-trail.ts';
import { PauseWatcher, pauseKey, setPause } from '../../../src/admin/pause-switch.ts';
import { Purger } from '../../../src/admin/purge.ts';
import { applyInvalidationPlan } from '../../../src/adapters/redis/invalidation-effects.ts';
import { createRedisConnection, type RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { startAdminServer, type RefusalReason } from '../../../src/worker/admin-server.ts';
import { cleanup, keysUnder, namespace, sentinelConfig } from '../redis/redis-test-kit.ts';

const TOKEN = '7'.repeat(64);
const auth = { authorization: `Bearer ${TOKEN}` };

describe('the admin API', () => {
  const ns = namespace();
  const keys = createKeyBuilder({ namespace: ns, locales: ['en-US', 'ja-JP'] });
  const refused: { reason: RefusalReason; route: string }[] = [];
  const routes: { method: string; url: string }[] = [];
  let conn: RedisConnection;
  let app: FastifyInstance;
  let url: string;
  let pause: PauseWatcher;

  beforeAll(async () => {
    conn = createRedisConnection(sentinelConfig());
    const client = conn.client;
    pause = new PauseWatcher({ client, namespace: ns, pollMs: 50 });
    const purger = new Purger({
      client,
      keys,
      applyEffects: (plan) =>
        applyInvalidationPlan(client, plan, { channel: keys.l1Channel(), waitReplicas: 0 }),
      perMinute: 2,
      // One fixed minute: the per-minute window must not roll over in the middle of the test.
      now: () => 1_800_000_000_000,
    });
    const server = await startAdminServer({
      port: 0,
      token: TOKEN,
      readiness: () => ({ ready: true, checks: {} }),
      onRefused: (reason, route) => refused.push({ reason, route }),
      register: (a) => {
        a.addHook('onRoute', (r) => {
          for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url });
        });
        registerAdminApi(a, {
          client,
          namespace: ns,
          queues: ['catalog', 'sessions'],
          purger,
          audit: new AuditTrail({ client, namespace: ns }),
          pause,
          token: TOKEN,
        });
        a.get('/metrics', (_q, reply) => reply.send('metrics body'));
      },
    });
    app = server.app;
    url = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await app?.close();
    pause?.stop();
    if (conn) await cleanup(conn.client, ns);
    await conn?.close();
  });

  it('refuses every registered route without the token or with a wrong one, and writes nothing', async () => {
    expect(routes.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'GET /admin/audit',
      'GET /admin/pause',
      'GET /metrics',
      'POST /admin/pause',
      'POST /admin/purge',
      'POST /admin/resume',
    ]);
    const body = JSON.stringify({ scope: 'tenant', tenant: 'acme', reason: 'x', queue: 'catalog' });
    for (const r of routes) {
      for (const headers of [{}, { authorization: `Bearer ${'8'.repeat(64)}` }, { authorization: TOKEN }]) {
        const res = await fetch(`${url}${r.url}`, {
          method: r.method,
          headers: { 'content-type': 'application/json', ...headers },
          ...(r.method === 'POST' ? { body } : {}),
        });
        expect(res.status, `${r.method} ${r.url}`).toBe(401);
      }
    }
    expect(refused.length).toBe(routes.length * 3);
    expect(refused.filter((x) => x.reason === 'wrong').length).toBe(routes.length);
    expect(new Set(refused.map((x) => x.route))).toEqual(new Set(routes.map((r) => r.url)));
    expect(await keysUnder(conn.client, ns)).toEqual([]);
  });

  it.each([
    '/metrics/',
    '//metrics',
    '/healthz/../metrics',
    '/%6Detrics',
    '/healthz%2F..%2Fmetrics',
    '/HEALTHZ',
    '/nothing',
  ])('does not let %s pass as a public route', async (path) => {
    const res = await fetch(`${url}${path}`);
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain('metrics body');
  });

  it('answers the health routes without a token', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/healthz?probe=1`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it('rate-limits purges across the fleet (dry runs are free) and audits the refusal', async () => {
    const entity = { family: 'product' as const, tenant: 'acme', id: 'B0RATE0001' };
    const purge = (dryRun: boolean) =>
      fetch(`${url}/admin/purge`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'x-admin-operator': 'carol' },
        body: JSON.stringify({ scope: 'entity', ...entity, reason: 'rate test', dryRun }),
      });
    expect((await purge(true)).status).toBe(200);
    expect((await purge(false)).status).toBe(200);
    expect((await purge(false)).status).toBe(200);
    const variants = keys.variantKeys(entity);
    await conn.client.mset(...variants.flatMap((k) => [k, 'v']));
    const third = await purge(false);
    expect(third.status).toBe(429);
    expect(await conn.client.exists(...variants)).toBe(variants.length);
    const audit = (await (await fetch(`${url}/admin/audit?actor=carol`, { headers: auth })).json()) as {
      records: { result: string; details: { code?: string } }[];
    };
    expect(audit.records.map((r) => r.result)).toEqual(['refused', 'ok', 'ok', 'dry-run']);
    expect(audit.records[0]?.details.code).toBe('PURGE_RATE_LIMITED');
  });

  it('keeps the audit trail bounded and reads it newest first, filtered', async () => {
    const trail = new AuditTrail({ client: conn.client, namespace: `${ns}b`, maxLength: 10 });
    for (let i = 0; i < 300; i++)
      await trail.append({
        actor: i % 2 === 0 ? 'even' : 'odd',
        action: i % 3 === 0 ? 'purge.key' : 'pause',
        target: `t${i}`,
        reason: 'r',
        at: new Date().toISOString(),
        result: 'ok',
      });
    // MAXLEN ~ trims whole stream nodes (100 entries each): about maxLength, never unbounded.
    expect(await conn.client.xlen(trail.key)).toBeLessThanOrEqual(10 + 100);
    const newest = await trail.read({ limit: 3 });
    expect(newest.map((r) => r.target)).toEqual(['t299', 't298', 't297']);
    const filtered = await trail.read({ limit: 5, action: 'purge', actor: 'even' });
    expect(filtered.map((r) => r.target)).toEqual(['t294', 't288', 't282', 't276', 't270']);
    await cleanup(conn.client, `${ns}b`);
  });

  it('keeps the kill switch paused when its hash vanishes, until an explicit resume', async () => {
    const vanished: unknown[] = [];
    pause.on('vanished', (s) => vanished.push(s));
    await setPause(conn.client, ns, { paused: true, queue: 'sessions', by: 'dave', reason: 'storm' });
    await pause.poll();
    expect(pause.isPaused('sessions')).toBe(true);
    expect(pause.isPaused('catalog')).toBe(false);
    await conn.client.unlink(pauseKey(ns));
    await pause.poll();
    expect(vanished.length).toBe(1);
    expect(pause.isPaused('sessions')).toBe(true);
    await setPause(conn.client, ns, { paused: false, by: 'dave', reason: 'ok' });
    await pause.poll();
    expect(pause.isPaused('sessions')).toBe(false);
  });
});
