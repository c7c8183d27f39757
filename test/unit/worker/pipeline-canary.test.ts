/**
 * The pipeline canary (decision 0022): what a worker publishes parses as a valid event, the
 * planner ignores it (never an invalidation, never poison), and its config rules stop a bad
 * start-up with a message that says what to fix.
 */
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../../../src/config/load-config.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { parseEventMessage } from '../../../src/core/events/parse-event-message.ts';
import { planBatch } from '../../../src/core/invalidation-planner.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { buildCanary, CANARY_EVENT_TYPE } from '../../../src/worker/pipeline-canary.ts';

const QUEUE = 'http://localhost:4566/000000000000/catalog-events';
const ARN = 'arn:aws:sns:us-east-1:000000000000:cif-catalog-events';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadWorkerConfig({ AWS_REGION: 'us-east-1', ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.variable}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('pipeline canary', () => {
  it('is a valid event that the planner ignores: no effect, no broadcast, not poison', () => {
    // Prepare
    const canary = buildCanary('catalog', Date.parse('2026-12-01T18:00:00.123Z'));
    const body = JSON.stringify({
      Type: 'Notification',
      MessageId: 'm-1',
      TopicArn: ARN,
      Timestamp: '2026-12-01T18:00:00.150Z',
      Message: JSON.stringify(canary),
    });

    // Act
    const parsed = parseEventMessage(body);
    const plan = planBatch([{ messageId: 'm-1', body }], createKeyBuilder({ namespace: 'mc' }));

    // Assess
    expect(parsed).toMatchObject({ ok: true, event: { type: CANARY_EVENT_TYPE, topic: 'catalog' } });
    expect(parsed.ok && parsed.originTimeMs).toBe(Date.parse('2026-12-01T18:00:00.123Z'));
    expect(plan.decisions).toEqual([expect.objectContaining({ kind: 'ignore', messageId: 'm-1' })]);
    expect(plan.effects).toEqual([]);
    expect(plan.broadcast).toBeNull();
  });

  it('a canary naming an unknown topic is poison with a reason that does not echo it', () => {
    const canary = { ...buildCanary('catalog', Date.now()), topic: 'exfiltrate-me' };
    const parsed = parseEventMessage(JSON.stringify(canary));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.message).toContain('topic');
      expect(parsed.error.message).not.toContain('exfiltrate');
    }
  });

  it('config: the interval defaults to 250 ms and 0 turns it off; 1-49 ms, a bad ARN or an ARN without its queue stop start-up', () => {
    expect(loadWorkerConfig({ AWS_REGION: 'us-east-1', WORKER_CATALOG_QUEUE_URL: QUEUE }).canary).toEqual({
      intervalMs: 250,
      topics: {},
    });
    expect(
      loadWorkerConfig({
        AWS_REGION: 'us-east-1',
        WORKER_CATALOG_QUEUE_URL: QUEUE,
        WORKER_CATALOG_TOPIC_ARN: ARN,
        WORKER_CANARY_INTERVAL_MS: '0',
      }).canary,
    ).toEqual({ intervalMs: 0, topics: { catalog: ARN } });
    expect(problemsOf({ WORKER_CATALOG_QUEUE_URL: QUEUE, WORKER_CANARY_INTERVAL_MS: '10' })).toEqual([
      'WORKER_CANARY_INTERVAL_MS: must be 0 (off) or 50-10000',
    ]);
    expect(problemsOf({ WORKER_CATALOG_QUEUE_URL: QUEUE, WORKER_CATALOG_TOPIC_ARN: 'catalog' })).toEqual([
      'WORKER_CATALOG_TOPIC_ARN: must be an SNS topic ARN',
    ]);
    expect(problemsOf({ WORKER_CATALOG_QUEUE_URL: QUEUE, WORKER_SESSIONS_TOPIC_ARN: ARN })).toEqual([
      'WORKER_SESSIONS_TOPIC_ARN: is set but WORKER_SESSIONS_QUEUE_URL is not: a worker publishes canaries only to the topics of the queues it consumes',
    ]);
  });
});
