/**
 * A Redis client keeps writing through a Sentinel failover: the primary is shut down, the
 * replica is promoted, writes resume. Afterwards the old primary is restarted by the
 * project's own env script and the roles are switched back, so the stack is as it was.
 */
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/aws.ts';
import { stack, testPrefix } from '../../support/stack.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;

function sentinelClient(): Redis {
  const s = stack();
  return new Redis({
    sentinels: s.redis.sentinels.map((x) => ({ host: x.host, port: x.port })),
    name: s.redis.sentinelName,
    failoverDetector: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
  });
}

async function currentPrimaryPort(sentinel: Redis, name: string): Promise<number> {
  const addr = (await sentinel.call('SENTINEL', 'get-master-addr-by-name', name)) as [string, string];
  return Number(addr[1]);
}

describe('Sentinel failover', () => {
  const s = stack();
  const sentinel = new Redis({ host: s.redis.sentinels[0]!.host, port: s.redis.sentinels[0]!.port });

  afterAll(async () => {
    // Restore: restart whatever is missing, then make the configured primary primary again.
    execFileSync('bash', [`${ROOT}scripts/env.sh`, 'up'], { stdio: 'ignore' });
    if ((await currentPrimaryPort(sentinel, s.redis.sentinelName)) !== s.redis.primary.port) {
      await eventually(
        async () => {
          const replica = new Redis({ ...s.redis.primary, lazyConnect: true });
          try {
            await replica.connect();
            const info = await replica.info('replication');
            return /master_link_status:up/.test(info) ? true : undefined;
          } finally {
            replica.disconnect();
          }
        },
        { timeoutMs: 20_000, what: 'the old primary to resync as a replica' },
      );
      await sentinel.call('SENTINEL', 'failover', s.redis.sentinelName);
      await eventually(
        async () =>
          (await currentPrimaryPort(sentinel, s.redis.sentinelName)) === s.redis.primary.port ? true : undefined,
        { timeoutMs: 20_000, what: 'the roles to be restored' },
      );
    }
    sentinel.disconnect();
  }, 60_000);

  it('promotes the replica and writes resume', async () => {
    // Prepare
    const client = sentinelClient();
    client.on('error', () => undefined);
    const prefix = testPrefix('failover');
    const before = await currentPrimaryPort(sentinel, s.redis.sentinelName);
    await client.set(`${prefix}:before`, '1');

    // Act: shut the primary down hard while writes keep coming.
    const killedAt = Date.now();
    execFileSync('redis-cli', ['-h', s.redis.primary.host, '-p', String(before), 'shutdown', 'nosave']);
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

    // Assess: a different node is primary, and it has the write.
    const after = await currentPrimaryPort(sentinel, s.redis.sentinelName);
    expect(after).not.toBe(before);
    const direct = new Redis({ host: s.redis.primary.host, port: after });
    expect(await direct.get(`${prefix}:after`)).toBe(String(writes));
    await direct.del(`${prefix}:before`, `${prefix}:after`);
    direct.disconnect();
    client.disconnect();
    console.info(`writes resumed ${resumedAt - killedAt} ms after the primary was shut down`);
  }, 60_000);
});
