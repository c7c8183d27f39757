/**
 * The consistency auditor's optional queue in the messaging construct: off by default (the
 * fleet stack is unchanged), and when asked for, one encrypted queue with its DLQ fed by every
 * topic with raw delivery and the topic's filter, and no cdk-nag finding. And the stack's
 * alarm on the auditor's confirmed inconsistencies.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AUDITOR_QUEUE_SUFFIX as SUFFIX } from '../../infra/lib/messaging/messaging-topology.ts';
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

describe('the auditor service of the fleet stack (-c auditor=true)', () => {
  const off = synthFleet('dev');
  const on = synthFleet('dev', { auditor: 'true' });

  it('is absent by default, and the template is otherwise the same resources plus its own', () => {
    expect(off.stack.auditor).toBeUndefined();
    expect(off.stack.messaging.auditorQueue).toBeUndefined();
    const types = (f: typeof off) =>
      Object.values(f.template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
    const added = [...types(on)];
    for (const t of types(off)) added.splice(added.indexOf(t), 1);
    expect(added.sort()).toEqual(
      [
        'AWS::ECS::Service',
        'AWS::ECS::TaskDefinition',
        'AWS::IAM::Policy',
        'AWS::IAM::Policy',
        'AWS::IAM::Role',
        'AWS::IAM::Role',
        'AWS::Logs::LogGroup',
        'AWS::SNS::Subscription',
        'AWS::SNS::Subscription',
        'AWS::SNS::Subscription',
        'AWS::SQS::Queue',
        'AWS::SQS::Queue',
        'AWS::SQS::QueuePolicy',
        'AWS::SQS::QueuePolicy',
      ].sort(),
    );
  });

  it('runs one auditor task on its own queue, with EMF, never calling the origin', () => {
    const tasks = Object.values(resourcesOf(on.template, 'AWS::ECS::TaskDefinition'));
    const auditor = tasks
      .flatMap(
        (t) =>
          t.Properties.ContainerDefinitions as {
            Name: string;
            Command: string[];
            Environment: { Name: string }[];
            Secrets: { Name: string }[];
          }[],
      )
      .find((c) => c.Name === 'auditor');

    expect(auditor?.Command.slice(0, 2)).toEqual(['node', 'src/cli/auditor.ts']);
    expect(auditor?.Command).toEqual(
      expect.arrayContaining(['--origin-rate', '0', '--emf-service', on.config.namePrefix]),
    );
    expect(auditor?.Environment.map((e) => e.Name).sort()).toEqual(
      ['AUDITOR_QUEUE_URL', 'AWS_REGION', 'REDIS_ADDRESSES', 'REDIS_MODE', 'REDIS_TLS'].sort(),
    );
    expect(auditor?.Secrets.map((e) => e.Name).sort()).toEqual(['ADMIN_TOKEN', 'REDIS_PASSWORD']);
    const services = Object.values(resourcesOf(on.template, 'AWS::ECS::Service'));
    expect(services.filter((s) => s.Properties.DesiredCount === 1)).toHaveLength(2);
  });

  it('grants the task only its own queue and the key to decrypt it', () => {
    const role = on.stack.auditor!.taskRole;
    const policy = Object.values(resourcesOf(on.template, 'AWS::IAM::Policy')).find((p) =>
      JSON.stringify(p.Properties.Roles).includes(on.stack.getLogicalId(role.node.defaultChild as never)),
    );
    const statements = (
      policy?.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }
    ).Statement;
    expect(statements.map((st) => st.Action)).toEqual([
      ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
      'kms:Decrypt',
    ]);
    expect(JSON.stringify(statements[0]?.Resource)).toContain(
      on.stack.getLogicalId(on.stack.messaging.auditorQueue!.queue.node.defaultChild as never),
    );
    expect(JSON.stringify(on.template.toJSON())).toContain(SUFFIX);
  });

  it('keeps the whole app free of unacknowledged cdk-nag findings', () => {
    expect(new AwsSolutionsChecks().validateScope(on.app).violations).toEqual([]);
  });
});
