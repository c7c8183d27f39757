import { describe, expect, it } from 'vitest';
import { synthesizeMessagingTemplate } from '../../infra/lib/messaging/deploy-messaging-locally.ts';
import { synthFleet } from './support/synth-fleet-stack.ts';

interface Res {
  Type: string;
  Properties: Record<string, unknown>;
}

/**
 * The messaging topology of a template, with the name prefix removed: what LocalStack gets
 * from deploy-messaging-locally.ts must be what AWS gets from the full stack.
 */
function topology(resources: Record<string, Res>, prefix: string) {
  const strip = (name: unknown): string => String(name).replace(`${prefix}-`, '');
  const ref = (v: unknown): string => {
    const o = v as Record<string, unknown>;
    return String(Array.isArray(o['Fn::GetAtt']) ? o['Fn::GetAtt'][0] : o.Ref);
  };
  const of = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const queueName = (id: string): string => strip(resources[id]?.Properties.QueueName);
  const topics = of('AWS::SNS::Topic').map(([, r]) => strip(r.Properties.TopicName));
  const queues = of('AWS::SQS::Queue').map(([, r]) => ({
    name: strip(r.Properties.QueueName),
    encrypted: r.Properties.KmsMasterKeyId !== undefined,
    deadLetterQueue: r.Properties.RedrivePolicy
      ? queueName(ref((r.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn))
      : null,
  }));
  const subscriptions = of('AWS::SNS::Subscription').map(([, r]) => ({
    topic: strip(resources[ref(r.Properties.TopicArn)]?.Properties.TopicName),
    queue: queueName(ref(r.Properties.Endpoint)),
    raw: r.Properties.RawMessageDelivery,
    filterPolicy: r.Properties.FilterPolicy ?? null,
    filterPolicyScope: r.Properties.FilterPolicyScope ?? null,
  }));
  const byName = <T extends object>(xs: T[], key: (x: T) => string) =>
    [...xs].sort((a, b) => key(a).localeCompare(key(b)));
  return {
    topics: topics.sort(),
    queues: byName(queues, (q) => q.name),
    subscriptions: byName(subscriptions, (s) => s.queue),
  };
}

describe('the local messaging stack and the AWS stack share one topology', () => {
  const local = JSON.parse(
    synthesizeMessagingTemplate({
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      stackName: 'parity',
      namePrefix: 'loc',
    }),
  ) as { Resources: Record<string, Res> };
  const fleet = synthFleet('dev');
  const aws = fleet.template.toJSON() as { Resources: Record<string, Res> };
  const localTopology = topology(local.Resources, 'loc');
  // The full stack also has the alarm topic and the schedule's DLQ, which are not messaging.
  const awsAll = topology(aws.Resources, fleet.config.namePrefix);
  const awsTopology = {
    topics: awsAll.topics.filter((t) => t !== 'alarms'),
    queues: awsAll.queues.filter((q) => q.name !== 'refresh-schedule-dlq'),
    subscriptions: awsAll.subscriptions,
  };

  it('has the same topics, queues (with DLQs and encryption) and subscriptions', () => {
    expect(localTopology.topics).toEqual(['catalog-events', 'promo-events', 'session-events']);
    expect(localTopology.queues).toHaveLength(8);
    expect(awsTopology).toEqual(localTopology);
  });

  it('subscribes with raw delivery and the same filter policies', () => {
    expect(localTopology.subscriptions.length).toBe(3);
    for (const s of localTopology.subscriptions) expect(s.raw).toBe(true);
    expect(awsTopology.subscriptions.map((s) => s.filterPolicy)).toEqual(
      localTopology.subscriptions.map((s) => s.filterPolicy),
    );
  });
});
