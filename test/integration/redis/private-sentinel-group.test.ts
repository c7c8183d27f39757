/**
 * The local twin's failover timings (DESIGN rule 10), on PRIVATE groups (never the shared
 * stack): detection + promotion per profile, a promoted primary without replica until the
 * old node is restored, and the primary endpoint's DNS switch leaving open connections on
 * the old node. The tests run concurrently: each owns its group.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, it } from 'vitest';
import { privateAccess } from '../../support/redis-access.ts';
import {
  startPrivateSentinelGroup,
  type HostPort,
  type PrivateSentinelGroup,
  type PrivateSentinelGroupOptions,
} from '../../support/private-sentinel-group.ts';

/** How often a Sentinel PINGs the nodes it monitors (fixed in Redis). */
const SENTINEL_PING_PERIOD_MS = 1_000;
const groups: PrivateSentinelGroup[] = [];
const clients: Redis[] = [];

async function group(options: PrivateSentinelGroupOptions): Promise<PrivateSentinelGroup> {
  const g = await startPrivateSentinelGroup(options);
  groups.push(g);
  return g;
}

/** A standalone client on the endpoint that never reconnects: it stays on the node it reached. */
async function pinnedClient(endpoint: HostPort): Promise<Redis> {
  const c = new Redis({
    ...privateAccess().node,
    ...endpoint,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
  });
  c.on('error', () => undefined);
  clients.push(c);
  await c.connect();
  return c;
}

/** The port of the node a client is connected to (through the proxy). */
async function nodePort(c: Redis): Promise<number> {
  const info = await c.info('server');
  return Number(/tcp_port:(\d+)/.exec(info)?.[1]);
}

async function connectedReplicas(g: PrivateSentinelGroup): Promise<number> {
  return Number((await g.replication(g.primary())).connected_slaves);
}

/** Whether a fresh connection through the endpoint gets an answer (a dead target: no). */
async function endpointAnswers(g: PrivateSentinelGroup): Promise<number | undefined> {
  try {
    const c = await pinnedClient(g.endpoint);
    const port = await nodePort(c);
    c.disconnect();
    return port;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await Promise.all(groups.map((g) => g.stop()));
});

describe.concurrent('private Sentinel group (the local twin of an ElastiCache replication group)', () => {
  it('fast profile: promotes within 5 s; the new primary has no replica until the old node is restored', async ({
    expect,
  }) => {
    // Prepare
    const g = await group({ profile: 'fast' });
    expect(g.downAfterMs).toBe(1_000);
    const before = await pinnedClient(g.endpoint);
    const oldPrimary = g.primary();
    expect(await nodePort(before)).toBe(oldPrimary.port);
    await before.set('k', 'v');

    // Act
    const { killedAt } = await g.killPrimary();
    const promotion = await g.waitForPromotion(15_000);

    // Assess
    const took = promotion.promotedAt - killedAt;
    console.info(
      `fast: kill->sdown ${(promotion.sdownAt ?? NaN) - killedAt} ms, kill->odown ${(promotion.odownAt ?? NaN) - killedAt} ms, kill->promotion ${took} ms`,
    );
    expect(took).toBeLessThan(5_000);
    expect(promotion.oldPrimary).toEqual(oldPrimary);
    expect(promotion.newPrimary).toEqual(g.primary());
    expect(g.replica()).toBeUndefined();
    expect(await connectedReplicas(g)).toBe(0);
    expect(before.status).not.toBe('ready'); // its node died, the proxy closed it

    await g.waitForEndpointSwitch(5_000);
    const after = await pinnedClient(g.endpoint);
    expect(await nodePort(after)).toBe(g.primary().port);
    expect(await after.get('k')).toBe('v');

    await sleep(2_000); // nothing re-adds the old node by itself
    expect(await connectedReplicas(g)).toBe(0);
    await g.restoreOldPrimaryAsReplica();
    expect(await connectedReplicas(g)).toBe(1);
    expect(g.replica()).toEqual(oldPrimary);
    expect((await g.replication(oldPrimary)).role).toBe('slave');
  }, 60_000);

  it('fast profile: a role swap leaves the open endpoint connection on the demoted node (READONLY)', async ({
    expect,
  }) => {
    // Prepare
    const g = await group({ profile: 'fast', dnsDelayMs: 1_500 });
    const old = await pinnedClient(g.endpoint);
    const oldPrimary = g.primary();
    await old.set('k', '1');

    // Act
    const swap = await g.demoteViaRoleSwap();

    // Assess: the open connection stayed, and its node is now a replica.
    expect(swap.oldPrimary).toEqual(oldPrimary);
    expect(swap.newPrimary).toEqual(g.primary());
    expect(await nodePort(old)).toBe(oldPrimary.port);
    await expect(old.set('k', '2')).rejects.toThrow(/READONLY/);
    // Before the DNS switch a new connection still lands on the demoted node...
    if (Date.now() < swap.promotedAt + 1_000) expect(await endpointAnswers(g)).toBe(oldPrimary.port);
    // ...after it, on the new primary.
    const sw = await g.waitForEndpointSwitch();
    expect(sw.switchedAt - swap.promotedAt).toBeGreaterThanOrEqual(1_400);
    const fresh = await pinnedClient(g.endpoint);
    expect(await nodePort(fresh)).toBe(swap.newPrimary.port);
    expect(await fresh.set('k', '3')).toBe('OK');
    expect(await nodePort(old)).toBe(oldPrimary.port); // still there after the switch
    await expect(old.set('k', '4')).rejects.toThrow(/READONLY/);
    expect(await connectedReplicas(g)).toBe(1);
  }, 60_000);

  it('elasticache profile: down-after drawn in [15 s, 30 s] with a failover-timeout to match', async ({
    expect,
  }) => {
    const g = await group({ profile: 'elasticache', random: () => 0.5 });
    expect(g.downAfterMs).toBe(22_500);
    expect(g.failoverTimeoutMs).toBe(45_000);
    expect(g.dnsDelayMs).toBe(5_000);
    const admin = new Redis({
      ...g.access.node,
      ...g.sentinels[0],
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    clients.push(admin);
    const master = (await admin.call('SENTINEL', 'MASTER', g.masterName)) as string[];
    expect(master[master.indexOf('down-after-milliseconds') + 1]).toBe('22500');
    expect(master[master.indexOf('failover-timeout') + 1]).toBe('45000');
    const drawn = await group({ profile: 'elasticache' });
    expect(drawn.downAfterMs).toBeGreaterThanOrEqual(15_000);
    expect(drawn.downAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('elasticache profile: promotion takes 15-35 s, the endpoint switches seconds later, no replica until restored', async ({
    expect,
  }) => {
    // Prepare
    const g = await group({ profile: 'elasticache', downAfterMs: 15_000 });
    const oldPrimary = g.primary();

    // Act
    const { killedAt } = await g.killPrimary();
    const promotion = await g.waitForPromotion(60_000);

    // Assess
    const took = promotion.promotedAt - killedAt;
    console.info(
      `elasticache: kill->sdown ${(promotion.sdownAt ?? NaN) - killedAt} ms, kill->odown ${(promotion.odownAt ?? NaN) - killedAt} ms, kill->promotion ${took} ms`,
    );
    // A Sentinel counts down-after from the last PING the node answered, and it PINGs once a
    // second: the kill may come up to 1 s after that answer (a fresh clone's run saw sdown
    // 14.0 s after the kill with down-after 15 s).
    expect(took).toBeGreaterThanOrEqual(15_000 - SENTINEL_PING_PERIOD_MS);
    expect(took).toBeLessThanOrEqual(35_000);
    expect(await connectedReplicas(g)).toBe(0);
    // The DNS name still points at the dead node for a few seconds.
    expect(await endpointAnswers(g)).toBeUndefined();
    const sw = await g.waitForEndpointSwitch();
    console.info(`elasticache: promotion->endpoint switch ${sw.switchedAt - promotion.promotedAt} ms`);
    expect(sw.switchedAt - promotion.promotedAt).toBeGreaterThanOrEqual(4_900);
    expect(await endpointAnswers(g)).toBe(promotion.newPrimary.port);
    // killPrimary restarted nothing: still no replica, the old node is down.
    expect(await connectedReplicas(g)).toBe(0);
    expect(g.nodes().find((n) => n.port === oldPrimary.port)?.state).toBe('stopped');

    await g.restoreOldPrimaryAsReplica();
    expect(await connectedReplicas(g)).toBe(1);
  }, 90_000);
});
