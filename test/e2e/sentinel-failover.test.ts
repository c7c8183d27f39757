/**
 * A Redis client keeps writing through a Sentinel failover: the primary is killed, the
 * replica is promoted, writes resume. On a private group (test/support/private-sentinel-group.ts)
 * of the fast profile, so neither the shared stack nor another test's timing is involved.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/aws.ts';
import { startPrivateSentinelGroup, type PrivateSentinelGroup } from '../support/private-sentinel-group.ts';
import { testPrefix } from '../support/stack.ts';

describe('Sentinel failover', () => {
  let group: PrivateSentinelGroup;

  beforeAll(async () => {
    group = await startPrivateSentinelGroup({ profile: 'fast' });
  }, 60_000);

  afterAll(async () => {
    await group?.stop();
  });

  it('promotes the replica and writes resume', async () => {
    // Prepare
    const client = new Redis({
      ...group.access.sentinel,
      sentinels: [...group.sentinels],
      name: group.masterName,
      failoverDetector: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
    });
    client.on('error', () => undefined);
    const prefix = testPrefix('failover');
    const before = group.primary();
    await client.set(`${prefix}:before`, '1');
    expect(await client.call('WAIT', '1', '5000')).toBe(1);

    // Act: kill the primary while writes keep coming.
    const { killedAt } = await group.killPrimary();
    let writes = 0;
    const resumedAt = await eventually(
      async () => {
        try {
          await client.set(`${prefix}:after`, String(++writes));
          return Date.now();
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'writes to resume after the failover' },
    );

    // Assess: a different node is primary, and it has both writes.
    const promotion = await group.waitForPromotion(5_000);
    expect(promotion.newPrimary.port).not.toBe(before.port);
    const direct = new Redis({ ...group.access.node, ...promotion.newPrimary });
    expect(await direct.get(`${prefix}:before`)).toBe('1');
    expect(await direct.get(`${prefix}:after`)).toBe(String(writes));
    direct.disconnect();
    client.disconnect();
    console.info(`writes resumed ${resumedAt - killedAt} ms after the primary was killed`);
  }, 60_000);
});
