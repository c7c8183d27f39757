/**
 * A private world for one e2e file: its own messaging stack in LocalStack and its own
 * redis-server, and workers started against both (standalone Redis, no replica to WAIT for).
 * `teardown()` stops every worker it started, then Redis, then the stack.
 */
import { privateMessaging, type PrivateMessaging } from './private-messaging.ts';
import { startPrivateRedis, type PrivateRedis } from './private-redis.ts';
import { startWorkerProcess, type WorkerProcess } from './worker-process.ts';

export interface PrivateWorld {
  readonly messaging: PrivateMessaging;
  readonly redis: PrivateRedis;
  /** Starts a worker process on this world's queues and Redis. */
  startWorker(namespace: string, env?: Record<string, string>): Promise<WorkerProcess>;
  /** Stops (SIGTERM) every worker started so far. */
  stopWorkers(): Promise<void>;
  teardown(): Promise<void>;
}

export async function privateWorld(
  messagingOptions: Parameters<typeof privateMessaging>[0] = {},
): Promise<PrivateWorld> {
  const [messaging, redis] = await Promise.all([privateMessaging(messagingOptions), startPrivateRedis()]);
  const workers: WorkerProcess[] = [];
  const stopWorkers = async () => {
    for (const w of workers.splice(0)) await w.stop();
  };
  return {
    messaging,
    redis,
    async startWorker(namespace, env = {}) {
      const worker = await startWorkerProcess({
        messaging,
        namespace,
        redisMode: 'standalone',
        redisAddresses: `127.0.0.1:${redis.port}`,
        // No replica: the worker sees it and acks critical deletes degraded (held-acks.ts), as on
        // an ElastiCache primary whose replica is being replaced.
        env,
      });
      workers.push(worker);
      return worker;
    },
    stopWorkers,
    async teardown() {
      await stopWorkers();
      await redis.stop();
      await messaging.teardown();
    },
  };
}
