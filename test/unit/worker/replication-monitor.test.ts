/** The replication monitor (replication-health.ts): what a lost connection does to its state. */
import { describe, expect, it } from 'vitest';
import type { NodeReplication } from '../../../src/adapters/redis/replication-info.ts';
import { ReplicationMonitor, type ReplicationState } from '../../../src/worker/replication-health.ts';

const primaryWithReplica: NodeReplication = {
  node: '127.0.0.1:6379',
  role: 'master',
  replId: 'a'.repeat(40),
  offset: 10,
  replicas: [{ address: '127.0.0.1:6380', state: 'online', offset: 10, lagS: 0 }],
};

describe('ReplicationMonitor', () => {
  it('forgets its sample when the connection is lost: the next primary must be sampled before a WAIT', async () => {
    // Prepare: healthy on the old primary.
    const monitor = new ReplicationMonitor({
      read: () => Promise.resolve([primaryWithReplica]),
      required: 1,
    });
    await monitor.poll();
    expect(monitor.state).toBe('healthy');
    const changes: ReplicationState[] = [];
    monitor.on('change', (sample) => changes.push(sample.state));

    // Act: the connection dropped (a primary killed, a failover).
    monitor.forget();

    // Assess: nothing vouches for the node the connection reaches next.
    expect(monitor.state).toBe('unknown');
    expect(changes).toEqual(['unknown']);
  });

  it('keeps the replay anchor where it was when it forgets (the loss is measured from it)', async () => {
    let now = 10_000;
    const monitor = new ReplicationMonitor({
      read: () => Promise.resolve([primaryWithReplica]),
      required: 1,
      now: () => now,
    });
    await monitor.poll();
    const anchor = monitor.safeSinceMs;

    now = 20_000;
    monitor.forget();

    expect(monitor.safeSinceMs).toBe(anchor);
  });
});
