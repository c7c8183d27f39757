import { describe, expect, it } from 'vitest';
import { refreshTickV1 } from '../../src/core/events/review-events.ts';
import { logicalIdOf, referencedId, resourcesOf, synthFleet } from './support/synth-fleet-stack.ts';

describe('RefreshSchedule in the stack', () => {
  const fleet = synthFleet('dev');
  const rules = Object.values(resourcesOf(fleet.template, 'AWS::Events::Rule'));
  const rule = rules[0]?.Properties ?? {};
  const target = (rule.Targets as Record<string, unknown>[])[0] ?? {};
  const refreshQueueId = logicalIdOf(fleet, 'Messaging/reviewRefreshQueue');

  it('fires every hour and targets the review-refresh queue only', () => {
    expect(rules).toHaveLength(1);
    expect(rule.ScheduleExpression).toBe('rate(1 hour)');
    expect(rule.Targets).toHaveLength(1);
    expect(referencedId(target.Arn)).toBe(refreshQueueId);
  });

  it('delivers a body the worker accepts as a refresh.tick v1', () => {
    const transformer = target.InputTransformer as {
      InputPathsMap: Record<string, string>;
      InputTemplate: string;
    };
    expect(transformer.InputPathsMap).toEqual({ id: '$.id', time: '$.time' });
    // What EventBridge substitutes for a scheduled event: its UUID and its ISO time.
    const body = transformer.InputTemplate.replace(
      '<id>',
      '"7bf73129-1428-4cd3-a780-95db273d1602"',
    ).replaceAll('<time>', '"2026-03-01T10:00:00Z"');
    const tick = refreshTickV1.parse(JSON.parse(body));
    expect(tick).toMatchObject({
      type: 'refresh.tick',
      schemaVersion: 1,
      version: 1,
      scheduledAt: '2026-03-01T10:00:00Z',
    });
  });

  it('dead-letters undeliverable ticks to an encrypted DLQ of its own', () => {
    const dlqId = logicalIdOf(fleet, 'Schedule/TargetDlq');
    expect(referencedId((target.DeadLetterConfig as { Arn: unknown }).Arn)).toBe(dlqId);
    const dlq = resourcesOf(fleet.template, 'AWS::SQS::Queue')[dlqId]?.Properties ?? {};
    expect(referencedId(dlq.KmsMasterKeyId)).toBe(logicalIdOf(fleet, 'Messaging/Key'));
    expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 });
  });

  it('lets EventBridge (of this account only) send to the queue and use its key', () => {
    const policies = Object.values(resourcesOf(fleet.template, 'AWS::SQS::QueuePolicy')).filter((p) =>
      (p.Properties.Queues as unknown[]).some((q) => referencedId(q) === refreshQueueId),
    );
    const statements = policies.flatMap(
      (p) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
    );
    const allow = statements.find((s) => JSON.stringify(s.Principal).includes('events.amazonaws.com'));
    expect(allow).toMatchObject({
      Effect: 'Allow',
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect(JSON.stringify(allow?.Action)).toContain('sqs:SendMessage');
    const key =
      resourcesOf(fleet.template, 'AWS::KMS::Key')[logicalIdOf(fleet, 'Messaging/Key')]?.Properties ?? {};
    expect(JSON.stringify(key.KeyPolicy)).toContain('events.amazonaws.com');
  });
});
