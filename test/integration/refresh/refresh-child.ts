/**
 * A refresh worker in its own process, for the hard-kill test:
 *   node refresh-child.ts <namespace> <originUrl> <scheduledAt> <eventId>
 * Prints "started" once its run began; the test kills it with SIGKILL mid-run.
 */
import { pino } from 'pino';
import { createRedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { createRedisHotKeySource } from '../../../src/adapters/redis/hot-key-ranking.ts';
import { createReviewRefresher } from '../../../src/refresh/review-refresher.ts';
import { sentinelConfig } from '../redis/redis-test-kit.ts';

const [ns = '', originUrl = '', scheduledAt = '', eventId = ''] = process.argv.slice(2);
const conn = createRedisConnection(sentinelConfig());
const refresher = createReviewRefresher({
  redis: conn.client,
  keys: createKeyBuilder({ namespace: ns }),
  originBaseUrl: originUrl,
  hotKeys: createRedisHotKeySource(conn.client, createKeyBuilder({ namespace: ns })),
  limits: { concurrency: 8, ratePerSecond: 300 },
  logger: pino({ level: 'silent' }),
  lock: { ttlMs: 1_000, renewEveryMs: 250, waitMs: 0 },
});
process.stdout.write('started\n');
await refresher.handleTick({
  type: 'refresh.tick',
  schemaVersion: 1,
  eventId,
  occurredAt: scheduledAt,
  scheduledAt,
  version: 1,
  tenant: 'default',
});
await conn.close();
