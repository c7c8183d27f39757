/**
 * A Redis client keeps writing through a Sentinel failover: the primary is shut down, the
 * replica is promoted, writes resume. Afterwards `env.sh up` restarts the old primary and
 * switches the roles back, so the stack is as it was.
 */
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/aws.ts';
import { stack, testPrefix } from '../support/stack.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

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

  afterAll(() => {
    // Restore: the project's own script restarts the stopped node and, once it has resynced
    // as a replica, switches the roles back so .local/env.json is true again.
    execFileSync('bash', [`${ROOT}scripts/env.sh`, 'up'], { stdio: 'inherit' });
    sentinel.disconnect();
  }, 90_000);

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
