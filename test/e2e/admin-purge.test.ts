/**
 * Issue 14, Done when (purge and the closed admin surface), on a private world (its own
 * redis-server and messaging stack) with a real worker process:
 * - a purge of one entity, with an L1 subscriber listening: the keys are gone, the fence has
 *   moved, the L1 dropped them, a populate that read the fence before the purge is refused,
 *   and the audit record names the operator, the reason and the key count;
 * - calls without a token or with a wrong one get 401, are counted, and change nothing;
 * - family/tenant purges (SCAN + UNLINK) take exactly their keys; --dry-run changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders } from '../../src/admin/admin-token.ts';
import type { StoredAuditRecord } from '../../src/admin/audit-trail.ts';
import { populate, readFence } from '../../src/client/fenced-populate.ts';
import { L1Subscriber } from '../../src/client/l1-subscriber.ts';
import { main as admin } from '../../src/cli/admin.ts';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { KEY_CONTRACT, fenceTtlMs } from '../../src/core/key-contract.ts';
import { eventually } from '../support/aws.ts';
import { privateWorld, type PrivateWorld } from '../support/private-world.ts';

describe('admin purge through the worker admin API', () => {
  const namespace = 'adminpurge';
  const keys = createKeyBuilder({ namespace });
  const tenant = 'acme';
  const product = { family: 'product' as const, tenant, id: 'B0PURGE001' };
  const other = { family: 'product' as const, tenant, id: 'B0KEEP0001' };
  let world: PrivateWorld;
  let url: string;
  const operatorEnv = { ...process.env, ADMIN_OPERATOR: 'alice.ops' };

  const run = async (...args: string[]): Promise<{ code: number; out: string }> => {
    const lines: string[] = [];
    const code = await admin(['node', 'admin', ...args, '--targets', url], (s) => lines.push(s), operatorEnv);
    return { code, out: lines.join('\n') };
  };
  const metric = async (name: string): Promise<string[]> =>
    (await (await fetch(`${url}/metrics`, { headers: adminHeaders() })).text())
      .split('\n')
      .filter((l) => l.startsWith(name));

  beforeAll(async () => {
    world = await privateWorld();
    const worker = await world.startWorker(namespace);
    url = `http://127.0.0.1:${worker.adminPort}`;
  });

  afterAll(async () => {
    await world?.teardown();
  });

  it('refuses calls without a token or with a wrong one (401, counted, nothing changed)', async () => {
    const key = keys.valueKey({ ...other, locale: keys.locales[0] ?? 'en-US' });
    await world.redis.client.set(key, 'keep');
    const body = JSON.stringify({ scope: 'key', key, reason: 'attack' });
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/admin/purge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const before = await world.redis.snapshot();

    const none = await post({});
    const wrong = await post({ authorization: `Bearer ${'0'.repeat(64)}` });
    const wrongLength = await post({ authorization: 'Bearer short' });
    const metricsNoToken = await fetch(`${url}/metrics`);
    const lagWrong = await fetch(`${url}/lag.json`, {
      headers: { authorization: `Bearer ${'f'.repeat(64)}` },
    });
    const pauseNoToken = await fetch(`${url}/admin/pause`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"reason":"x"}',
    });

    expect([
      none.status,
      wrong.status,
      wrongLength.status,
      metricsNoToken.status,
      lagWrong.status,
      pauseNoToken.status,
    ]).toEqual([401, 401, 401, 401, 401, 401]);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // Health stays open for the orchestrator's probes.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect([200, 503]).toContain((await fetch(`${url}/readyz`)).status);
    // Nothing changed in Redis: same keys, same values (no audit record, no pause switch).
    expect(await world.redis.snapshot()).toEqual(before);
    const refused = await metric('admin_requests_refused_total');
    const count = (reason: string) =>
      refused
        .filter((l) => l.includes(`reason="${reason}"`))
        .reduce((a, l) => a + Number(l.split(' ').at(-1)), 0);
    expect(count('missing')).toBe(3);
    expect(count('wrong')).toBe(3);
  });

  it('purges one entity: keys gone, fence moved, L1 dropped, stale populate refused, audited', async () => {
    const redis = world.redis.client;
    const variants = keys.variantKeys(product);
    const fence = keys.fenceKey(product);
    const keep = keys.valueKey({ ...other, locale: keys.locales[0] ?? 'en-US' });
    for (const k of variants) await redis.set(k, 'bad value');
    await redis.set(keep, 'keep');
    // A reader took its fence token before the purge and is fetching the bad value.
    const staleToken = await readFence(redis, fence, fenceTtlMs(KEY_CONTRACT.product));
    // An L1 that holds every variant, registered under the entity's fence.
    const l1 = new Map<string, unknown>();
    const sub = new L1Subscriber({ redis: world.redis.config, channel: keys.l1Channel(), l1 });
    await sub.start();
    for (const k of variants) {
      l1.set(k, 'bad value');
      sub.register(k, fence);
    }
    l1.set(keep, 'keep');
    sub.register(keep, keys.fenceKey(other));

    try {
      const dry = await run(
        'purge',
        '--family',
        'product',
        '--tenant',
        tenant,
        '--id',
        product.id,
        '--reason',
        'coupon shown wrong',
        '--dry-run',
        '--json',
      );
      expect(dry.code).toBe(0);
      expect(JSON.parse(dry.out)).toMatchObject({ dryRun: true, keyCount: variants.length });
      expect(await redis.exists(...variants)).toBe(variants.length);
      expect(await redis.get(fence)).toBe(staleToken);

      const done = await run(
        'purge',
        '--family',
        'product',
        '--tenant',
        tenant,
        '--id',
        product.id,
        '--reason',
        'bad price on PDP, ticket OPS-42',
      );
      expect(done.code).toBe(0);

      expect(await redis.exists(...variants)).toBe(0);
      expect(await redis.get(keep)).toBe('keep');
      expect(await redis.get(fence)).not.toBe(staleToken);
      expect(await populate(redis, variants[0]!, fence, staleToken, 'bad value', { ttlMs: 60_000 })).toBe(
        'refused-stale',
      );
      await eventually(() => (variants.every((k) => !l1.has(k)) ? true : undefined), {
        what: 'the L1 to drop the purged keys',
      });
      expect(l1.has(keep)).toBe(true);

      const audit = await run('audit', '--action', 'purge', '--json');
      const records = JSON.parse(audit.out) as StoredAuditRecord[];
      const last = records[0];
      expect(last).toMatchObject({
        actor: 'alice.ops',
        action: 'purge.entity',
        target: `entity product/${tenant}/${product.id}`,
        reason: 'bad price on PDP, ticket OPS-42',
        result: 'ok',
      });
      expect(last?.details?.keyCount).toBe(variants.length);
      expect(String(last?.details?.credential)).toMatch(/^admin-token:[0-9a-f]{12}$/);
      expect(records[1]).toMatchObject({ result: 'dry-run', reason: 'coupon shown wrong' });
    } finally {
      await sub.close();
    }
  });

  it('purges one exact key; refuses a purge without a reason or with a bad key (nothing changed)', async () => {
    const redis = world.redis.client;
    const [a, b] = keys.variantKeys(other);
    await redis.set(a!, 'x');
    await redis.set(b!, 'y');
    const fenceBefore = await readFence(redis, keys.fenceKey(other), fenceTtlMs(KEY_CONTRACT.product));

    expect((await run('purge', '--key', a!)).code).toBe(2);
    const bad = await run('purge', '--key', 'mc:*', '--reason', 'glob');
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/HTTP 400/);
    expect(await redis.exists(a!, b!)).toBe(2);

    expect((await run('purge', '--key', a!, '--reason', 'one bad locale')).code).toBe(0);
    expect(await redis.exists(a!)).toBe(0);
    expect(await redis.get(b!)).toBe('y');
    expect(await redis.get(keys.fenceKey(other))).not.toBe(fenceBefore);
  });

  it('purges a family in one tenant with SCAN, leaving the other tenant', async () => {
    const redis = world.redis.client;
    const mine = Array.from({ length: 300 }, (_, i) =>
      keys.valueKey({
        family: 'review',
        tenant: 't1',
        id: `B0REV${String(i).padStart(5, '0')}`,
        locale: 'en-US',
      }),
    );
    const theirs = Array.from({ length: 50 }, (_, i) =>
      keys.valueKey({
        family: 'review',
        tenant: 't2',
        id: `B0REV${String(i).padStart(5, '0')}`,
        locale: 'en-US',
      }),
    );
    await redis.mset(...[...mine, ...theirs].flatMap((k) => [k, 'v']));

    const dry = await run(
      'purge',
      '--family',
      'review',
      '--tenant',
      't1',
      '--reason',
      'bad summaries',
      '--dry-run',
      '--json',
    );
    expect(JSON.parse(dry.out)).toMatchObject({ keyCount: 300, method: 'scan' });
    expect(await redis.exists(...mine)).toBe(300);

    const done = await run(
      'purge',
      '--family',
      'review',
      '--tenant',
      't1',
      '--reason',
      'bad summaries',
      '--json',
    );
    expect(done.code).toBe(0);
    expect(JSON.parse(done.out)).toMatchObject({ keyCount: 300, method: 'scan' });
    expect(await redis.exists(...mine)).toBe(0);
    expect(await redis.exists(...theirs)).toBe(50);
  });
});
