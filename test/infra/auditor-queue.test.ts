/**
 * The consistency auditor's optional queue in the messaging construct: off by default (the
 * fleet stack is unchanged), and when asked for, one encrypted queue with its DLQ fed by every
 * topic with raw delivery and the topic's filter, and no cdk-nag finding. And the stack's
 * alarm on the auditor's confirmed inconsistencies.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../src/core/metric-names.ts';
import { resourcesOf, synthFleet } from './support/synth-fleet-stack.ts';
import { InvalidationMessaging } from '../../infra/lib/messaging/invalidation-messaging.ts';
import {
  AUDITOR_QUEUE_SUFFIX,
  TOPICS,
  filterPolicyFor,
  type TopicName,
} from '../../infra/lib/messaging/messaging-topology.ts';

function synth(auditorQueue: boolean | undefined) {
  const app = new App();
  const stack = new Stack(app, 'AuditorQueueTest', { env: { account: '000000000000', region: 'us-east-1' } });
  const messaging = new InvalidationMessaging(stack, 'Messaging', {
    namePrefix: 'audit',
    ...(auditorQueue === undefined ? {} : { auditorQueue }),
  });
  return { stack, messaging, template: Template.fromStack(stack) };
}

describe('the auditor queue of InvalidationMessaging', () => {
  it('is not created unless asked for', () => {
    // Prepare / Act
    const { messaging, template } = synth(undefined);

    // Assess
    expect(messaging.auditorQueue).toBeUndefined();
    const names = Object.values(template.findResources('AWS::SQS::Queue')).map(
      (r) => (r.Properties as { QueueName: string }).QueueName,
    );
    expect(names.some((n) => n.includes(AUDITOR_QUEUE_SUFFIX))).toBe(false);
  });

  it('is subscribed to every topic with raw delivery and the same filter as the workers', () => {
    const { stack, messaging, template } = synth(true);

    expect(messaging.auditorQueue).toBeDefined();
    const queueId = stack.getLogicalId(messaging.auditorQueue!.queue.node.defaultChild as never);
    const subs = Object.values(resourcesOf(template, 'AWS::SNS::Subscription')).filter((s) =>
      JSON.stringify(s.Properties.Endpoint).includes(queueId),
    );
    expect(subs).toHaveLength(Object.keys(TOPICS).length);
    for (const name of Object.keys(TOPICS) as TopicName[]) {
      const topicId = stack.getLogicalId(messaging.topics[name].node.defaultChild as never);
      const sub = subs.find((s) => JSON.stringify(s.Properties.TopicArn).includes(topicId));
      expect(sub, name).toBeDefined();
      expect(sub?.Properties.RawMessageDelivery).toBe(true);
      expect(sub?.Properties.FilterPolicy).toEqual(filterPolicyFor(name));
    }
  });

  it('is encrypted with the messaging key, keeps a sample an hour, redrives to its own DLQ', () => {
    const { stack, messaging, template } = synth(true);

    const queue = template.findResources('AWS::SQS::Queue')[
      stack.getLogicalId(messaging.auditorQueue!.queue.node.defaultChild as never)
    ]?.Properties as Record<string, unknown>;
    expect(queue.QueueName).toBe(`audit-${AUDITOR_QUEUE_SUFFIX}`);
    expect(queue.MessageRetentionPeriod).toBe(3600);
    expect(JSON.stringify(queue.KmsMasterKeyId)).toContain(
      stack.getLogicalId(messaging.key.node.defaultChild as never),
    );
    expect(JSON.stringify(queue.RedrivePolicy)).toContain(
      stack.getLogicalId(messaging.auditorQueue!.deadLetterQueue.node.defaultChild as never),
    );
  });

  it('has no cdk-nag AwsSolutions finding', () => {
    const { stack } = synth(true);

    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);

    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('the audit alarm of the fleet stack', () => {
  it('alarms on any AuditInconsistencies in a period, quiet without data', () => {
    const fleet = synthFleet('dev');

    const alarms = Object.values(resourcesOf(fleet.template, 'AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.MetricName === METRICS.auditInconsistencies,
    );

    expect(alarms).toHaveLength(1);
    const p = alarms[0]!.Properties;
    expect(p.Threshold).toBe(0);
    expect(p.ComparisonOperator).toBe('GreaterThanThreshold');
    expect(p.Statistic).toBe('Sum');
    expect(p.TreatMissingData).toBe('notBreaching');
    expect(String(p.AlarmName)).toContain('audit-inconsistencies');
  });
});
