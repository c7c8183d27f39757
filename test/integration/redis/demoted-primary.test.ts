/**
 * A connection left on a demoted primary (issue 10 item 4, rules 1 and 4). On ElastiCache's
 * primary endpoint, a role swap leaves open TCP connections on the old node, now a replica:
 * every write gets READONLY. The connection must drop and reconnect, must not take the
 * replica it may land on while DNS still names it for the primary, and must announce the
 * new primary so the worker replays. Run on a private group through its endpoint proxy,
 * whose DNS switch lags the promotion by 3 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyInvalidationPlan } from '../../../src/adapters/redis/invalidation-effects.ts';
import {
  createRedisConnection,
  type PrimaryChange,
  type RedisConnection,
} from '../../../src/adapters/redis/redis-connection.ts';
import { eventually } from '../../support/aws.ts';
import {
  startPrivateSentinelGroup,
  type PrivateSentinelGroup,
} from '../../support/private-sentinel-group.ts';
import { effect, keysOf, namespace, planOf } from './redis-test-kit.ts';

describe('a connection left on a demoted primary', () => {
  let group: PrivateSentinelGroup;
  let conn: RedisConnection;
  const k = keysOf(namespace());

  beforeAll(async () => {
    group = await startPrivateSentinelGroup({ profile: 'fast', dnsDelayMs: 3_000 });
    const standalone = group.redisConfig('standalone');
    if (standalone.mode !== 'standalone') throw new Error('expected a standalone config');
    conn = createRedisConnection({
      ...standalone,
      tuning: { ...standalone.tuning, commandTimeoutMs: 1_000 },
    });
    conn.events.on('error', () => undefined);
    await eventually(() => (conn.client.status === 'ready' ? true : undefined), { what: 'the connection' });
  }, 60_000);

  afterAll(async () => {
    await conn?.close();
    await group?.stop();
  });

  it('reconnects on READONLY, refuses the replica it lands on, and announces the new primary', async () => {
    // Prepare: effects work on the primary; the connection knows it.
    const plan = () =>
      planOf([effect('product', k.productFence('B0DEMOTE01'), [k.product('B0DEMOTE01', 'en-US')])]);
    const channel = k.channel();
    expect((await applyInvalidationPlan(conn.client, plan(), { channel, waitReplicas: 0 })).ok).toBe(true);
    const changes: PrimaryChange[] = [];
    const wrongNodes: string[] = [];
    conn.events.on('primary-changed', (c) => changes.push(c));
    conn.events.on('not-primary', (n) => wrongNodes.push(n.role));

    // Act: the role swap; the open connection stays on the old node, now a replica.
    const swap = await group.demoteViaRoleSwap();
    const first = await applyInvalidationPlan(conn.client, plan(), { channel, waitReplicas: 0 });

    // Assess: the write failed (never acked), then effects succeed on the NEW primary.
    expect(first.ok).toBe(false);
    const applied = await eventually(
      async () =>
        (await applyInvalidationPlan(conn.client, plan(), { channel, waitReplicas: 0 })).ok
          ? true
          : undefined,
      { what: 'effects to succeed again', timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(applied).toBe(true);
    // Through the proxy, the connection now reaches the node Sentinel promoted.
    const info = String(await conn.client.call('INFO', 'replication'));
    expect(info).toMatch(/^role:master/m);
    const promoted = await group.replication(swap.newPrimary);
    expect(/^master_replid:(\S+)/m.exec(info)?.[1]).toBe(promoted.master_replid);
    await eventually(() => (changes.length > 0 ? true : undefined), { what: 'primary-changed' });
    expect(changes[0]?.reason).toMatch(/^(run-id|repl-id)-changed$/);
    // While DNS still named the old node, the connection landed on a replica and refused it.
    expect(wrongNodes.length).toBeGreaterThan(0);
  }, 60_000);
});
