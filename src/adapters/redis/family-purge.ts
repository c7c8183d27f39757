/**
 * Makes every cached value of some families unreachable: the escalation of a failover
 * replay that cannot be complete (src/worker/failover-replay.ts). It UNLINKs every key of
 * those families in the namespace (values, fences, reco generations) with incremental
 * `SCAN` (never `KEYS`, so Redis never blocks for long), on every primary, then bumps the
 * L1 broadcast sequence without publishing: every L1 subscriber sees the jump on the next
 * heartbeat and flushes (docs/l1-broadcast.md).
 *
 * Why deleting fences is safe: a populate whose fence is gone is refused (populate-2.lua),
 * and the next bump is drawn from the server clock, never reissued (decision 0007).
 *
 * Why two passes: the scan is not atomic. A reader holding a fence token from before the
 * purge can write its value back after the scan unlinked that value and before it reached
 * the fence (test/integration/admin/purge-race.test.ts: 201 of 3,000 such values survived
 * one pass). Once the first pass is over, every fence that existed before is gone, so no
 * such write can succeed any more; the second pass removes those that landed during the
 * first. It also removes fences and values created after the first pass, which costs only
 * refused fills and misses.
 * Cost: O(keys of the namespace) twice, paid only on rare paths (an incomplete failover
 * replay, an operator's family purge); a cache miss for each purged value afterwards.
 */
import { Cluster } from 'ioredis';
import type { FamilyName } from '../../core/invalidation-plan.ts';
import type { KeyBuilder } from '../../core/key-builder.ts';
import type { L1Channel } from './broadcast-message.ts';
import type { RedisClient } from './redis-connection.ts';

export interface FamilyPurgeOptions {
  /** Names the SCAN pattern of each family (`familyPattern`). */
  readonly keys: Pick<KeyBuilder, 'familyPattern'>;
  readonly families: ReadonlySet<FamilyName>;
  readonly channel: L1Channel;
  /** Keys asked per SCAN step. Default 1 000. */
  readonly scanCount?: number;
}

/** Resolves with the number of keys unlinked (both passes). */
export async function purgeFamilies(client: RedisClient, options: FamilyPurgeOptions): Promise<number> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  let unlinked = 0;
  for (let pass = 0; pass < 2; pass++) {
    for (const family of options.families) {
      const match = options.keys.familyPattern(family);
      for (const node of nodes) unlinked += await purgeNode(node, match, options.scanCount ?? 1_000);
    }
  }
  await client.incr(options.channel.seqKey);
  return unlinked;
}

async function purgeNode(node: RedisClient, match: string, count: number): Promise<number> {
  let cursor = '0';
  let unlinked = 0;
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', count);
    cursor = next;
    // One UNLINK per key: in cluster mode the keys of one SCAN page span many slots.
    if (keys.length > 0) {
      const replies = await Promise.all(keys.map((k) => node.unlink(k)));
      unlinked += replies.reduce((a, b) => a + b, 0);
    }
  } while (cursor !== '0');
  return unlinked;
}
