/**
 * The rules between variables (heartbeat shorter than the visibility timeout, and so on).
 * Each runs only when the variables it reads are themselves valid, so one bad value is
 * reported once, where it is, and not again as a broken rule.
 */
import type { ConfigProblem } from '../core/errors.ts';
import { QUEUE_VARIABLES, TOPIC_VARIABLES } from './variables.ts';
import type { Variables } from './variables.ts';

/** Rules between variables; each runs only when the variables it reads are themselves valid. */
export function crossFieldProblems(v: Partial<Variables>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const rule = (ok: boolean | undefined, variable: string, message: string) => {
    if (ok === false) problems.push({ variable, message });
  };
  const both = <A, B>(a: A | undefined, b: B | undefined, f: (a: A, b: B) => boolean) =>
    a === undefined || b === undefined ? undefined : f(a, b);

  rule(
    both(v.WORKER_HEARTBEAT_INTERVAL_S, v.WORKER_VISIBILITY_TIMEOUT_S, (h, vis) => h < vis),
    'WORKER_HEARTBEAT_INTERVAL_S',
    'must be shorter than WORKER_VISIBILITY_TIMEOUT_S, or messages reappear before their visibility is extended',
  );
  rule(
    both(
      v.REDIS_WAIT_TIMEOUT_MS,
      v.WORKER_VISIBILITY_TIMEOUT_S,
      (w, vis) => w + (v.REDIS_COMMAND_TIMEOUT_MS ?? 0) < vis * 1000,
    ),
    'REDIS_WAIT_TIMEOUT_MS',
    'REDIS_WAIT_TIMEOUT_MS + REDIS_COMMAND_TIMEOUT_MS must be shorter than WORKER_VISIBILITY_TIMEOUT_S, or a batch is redelivered while still being applied',
  );
  rule(
    both(v.REDIS_WAIT_TIMEOUT_MS, v.REDIS_COMMAND_TIMEOUT_MS, (w, c) => w < c),
    'REDIS_WAIT_TIMEOUT_MS',
    'must be shorter than REDIS_COMMAND_TIMEOUT_MS, or the client gives up on a WAIT that Redis still runs and a Redis error is reported instead of a replica shortfall',
  );
  rule(
    both(
      v.WORKER_EFFECTS_DEADLINE_MS,
      v.REDIS_COMMAND_TIMEOUT_MS,
      (d, c) => d > c + (v.REDIS_WAIT_TIMEOUT_MS ?? 0),
    ),
    'WORKER_EFFECTS_DEADLINE_MS',
    'must exceed REDIS_COMMAND_TIMEOUT_MS + REDIS_WAIT_TIMEOUT_MS, or a batch is given up while its commands may still succeed',
  );
  rule(
    both(v.REDIS_WAIT_REPLICAS, v.REDIS_ALLOW_NO_WAIT, (n, allow) => n > 0 || allow),
    'REDIS_WAIT_REPLICAS',
    'must be at least 1: promotion deletes are confirmed on a replica before the ack (set REDIS_ALLOW_NO_WAIT=true to accept 0 knowingly, e.g. a Redis without replica)',
  );
  rule(
    both(v.WORKER_DURABILITY_HOLD_MS, v.WORKER_HEARTBEAT_INTERVAL_S, (h, b) => h > b * 1_000),
    'WORKER_DURABILITY_HOLD_MS',
    'must be longer than WORKER_HEARTBEAT_INTERVAL_S, or a held message is acked degraded before its visibility was ever extended',
  );
  rule(
    both(v.WORKER_DRAIN_DEADLINE_MS, v.WORKER_STOP_TIMEOUT_MS, (d, s) => d < s),
    'WORKER_DRAIN_DEADLINE_MS',
    'must be shorter than WORKER_STOP_TIMEOUT_MS, or the orchestrator kills the worker mid-drain',
  );
  rule(
    v.WORKER_REVIEW_REFRESH_QUEUE_URL === undefined || v.WORKER_ORIGIN_URL !== undefined,
    'WORKER_ORIGIN_URL',
    'is required when WORKER_REVIEW_REFRESH_QUEUE_URL is set: the hourly refresh fetches review summaries from it',
  );
  rule(
    both(v.WORKER_RETRY_BACKOFF_BASE_S, v.WORKER_RETRY_BACKOFF_MAX_S, (b, m) => b <= m),
    'WORKER_RETRY_BACKOFF_BASE_S',
    'must not exceed WORKER_RETRY_BACKOFF_MAX_S',
  );
  if (v.REDIS_MODE === 'sentinel' && 'REDIS_SENTINEL_NAME' in v && v.REDIS_SENTINEL_NAME === undefined) {
    problems.push({ variable: 'REDIS_SENTINEL_NAME', message: 'is required when REDIS_MODE=sentinel' });
  }
  rule(
    both(v.REDIS_MODE, v.REDIS_DB, (mode, db) => mode !== 'cluster' || db === 0),
    'REDIS_DB',
    'must be 0 when REDIS_MODE=cluster (cluster mode has one database)',
  );
  rule(
    v.REDIS_TLS_CA_FILE === undefined || !('REDIS_TLS' in v) || v.REDIS_TLS === true,
    'REDIS_TLS_CA_FILE',
    'is set but REDIS_TLS is not true: set REDIS_TLS=true (the CA is only used for TLS), or unset the CA file',
  );
  rule(
    both(v.REDIS_MODE, v.REDIS_ADDRESSES, (mode, a) => mode !== 'standalone' || a.length === 1),
    'REDIS_ADDRESSES',
    'must hold exactly one host:port when REDIS_MODE=standalone',
  );
  const queues = QUEUE_VARIABLES.map(([, q]) => v[q]).filter((u) => u !== undefined);
  // Only complain about "no queue" when every queue variable parsed (a bad URL is reported already).
  if (queues.length === 0 && QUEUE_VARIABLES.every(([, q]) => q in v)) {
    problems.push({
      variable: 'WORKER_*_QUEUE_URL',
      message:
        'set at least one of WORKER_CATALOG_QUEUE_URL, WORKER_PROMOTIONS_QUEUE_URL, WORKER_SESSIONS_QUEUE_URL, WORKER_REVIEW_REFRESH_QUEUE_URL',
    });
  }
  for (const [, q, dlq] of QUEUE_VARIABLES) {
    rule(v[dlq] === undefined || !(q in v) || v[q] !== undefined, dlq, `is set but ${q} is not`);
    rule(v[dlq] === undefined || v[dlq] !== v[q], dlq, `must differ from ${q}`);
  }
  rule(new Set(queues).size === queues.length, 'WORKER_*_QUEUE_URL', 'each queue URL must be different');
  for (const [, topic, queue] of TOPIC_VARIABLES) {
    rule(
      v[topic] === undefined || !(queue in v) || v[queue] !== undefined,
      topic,
      `is set but ${queue} is not: a worker publishes canaries only to the topics of the queues it consumes`,
    );
  }
  return problems;
}
