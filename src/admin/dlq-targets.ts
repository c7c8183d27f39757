/**
 * Which DLQs `admin dlq` works on, and with which clients: the same variables the worker
 * reads (WORKER_<QUEUE>_QUEUE_URL and _DLQ_URL, AWS_*, REDIS_* for the audit trail), validated
 * by the worker's own loader, so the CLI and the fleet can never disagree on a queue. When
 * the environment names no queue at all (an operator's shell on the local stack), they are
 * filled from `.local/env.json`, as `npm run local` fills the local workers'.
 */
import { join } from 'node:path';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { loadWorkerConfig, type EnvRecord } from '../config/load-config.ts';
import { QUEUE_VARIABLES, type QueueName } from '../config/variables.ts';
import type { WorkerConfig } from '../config/worker-config.ts';
import { readLocalStack } from '../local/env-file.ts';
import { localWorkerEnv } from '../local/local-worker-env.ts';
import { SqsOperationError } from '../adapters/sqs/sqs-errors.ts';

/** The local stack's description, written by `npm run env:up`. */
export const LOCAL_ENV_FILE = join(import.meta.dirname, '..', '..', '.local', 'env.json');

/** One source queue and its DLQ. */
export interface DlqTarget {
  readonly queue: QueueName;
  readonly sourceUrl: string;
  readonly dlqUrl: string;
}

/** The queue names, as `--queue` takes them. */
export const QUEUE_NAMES: readonly QueueName[] = QUEUE_VARIABLES.map(([name]) => name);

/** `env` when it names a queue; else `env` over the local stack's worker environment. */
export function adminEnvironment(env: EnvRecord, localFile: string = LOCAL_ENV_FILE): EnvRecord {
  const namesQueue = QUEUE_VARIABLES.some(([, url]) => (env[url] ?? '') !== '');
  if (namesQueue) return env;
  const local = localWorkerEnv(readLocalStack(localFile), { redisMode: 'sentinel' });
  // LocalStack takes any credentials; the project's scripts export these (scripts/lib/common.sh),
  // and `npm run admin` from a plain shell needs them too. Only on the local stack's branch.
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  return { ...local, ...given };
}

/** The validated configuration the CLI works with (throws the worker's ConfigError). */
export function adminConfig(env: EnvRecord): WorkerConfig {
  return loadWorkerConfig(adminEnvironment(env));
}

/** Every configured queue that has a DLQ, or only `queue`; throws when it has none. */
export function dlqTargets(config: WorkerConfig, queue?: string): DlqTarget[] {
  if (queue !== undefined && !(QUEUE_NAMES as readonly string[]).includes(queue))
    throw new Error(`--queue must be one of ${QUEUE_NAMES.join(', ')}`);
  const targets: DlqTarget[] = [];
  for (const name of QUEUE_NAMES) {
    const q = config.queues[name];
    if (q?.dlqUrl === undefined || (queue !== undefined && name !== queue)) continue;
    targets.push({ queue: name, sourceUrl: q.url, dlqUrl: q.dlqUrl });
  }
  if (queue !== undefined && targets.length === 0) {
    const [, url, dlq] = QUEUE_VARIABLES.find(([n]) => n === queue) ?? [];
    throw new Error(
      `queue ${queue} has no DLQ configured: set ${url ?? 'its queue URL'} and ${dlq ?? 'its DLQ URL'}`,
    );
  }
  return targets;
}

/** The ARN of a queue (StartMessageMoveTask takes ARNs). */
export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  try {
    const res = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const arn = res.Attributes?.QueueArn;
    if (arn === undefined) throw new Error('no QueueArn attribute');
    return arn;
  } catch (cause) {
    throw new SqsOperationError('GetQueueAttributes', cause);
  }
}
