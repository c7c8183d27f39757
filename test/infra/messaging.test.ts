import { describe, expect, it } from 'vitest';
import {
  CONSUMER_QUEUES,
  TOPICS,
  filterPolicyFor,
  type ConsumerName,
} from '../../infra/lib/messaging/messaging-topology.ts';
import { logicalIdOf, referencedId, resourcesOf, synthFleet } from './support/synth-fleet-stack.ts';

describe('InvalidationMessaging in the stack', () => {
  const fleet = synthFleet('dev');
  const queues = resourcesOf(fleet.template, 'AWS::SQS::Queue');
  const keyId = logicalIdOf(fleet, 'Messaging/Key');
  const consumers = Object.keys(CONSUMER_QUEUES) as ConsumerName[];

  it.each(consumers)(
    '%s queue redrives to its own DLQ with a max receive count, encrypted with the key',
    (name) => {
      const queue = queues[logicalIdOf(fleet, `Messaging/${name}Queue`)]?.Properties ?? {};
      const dlqId = logicalIdOf(fleet, `Messaging/${name}Dlq`);
      const redrive = queue.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number };
      expect(redrive.maxReceiveCount).toBe(fleet.config.maxReceiveCount);
      expect(referencedId(redrive.deadLetterTargetArn)).toBe(dlqId);
      expect(referencedId(queue.KmsMasterKeyId)).toBe(keyId);
      expect(queue.QueueName).toBe(`${fleet.config.namePrefix}-${CONSUMER_QUEUES[name].suffix}`);
      expect(queue.VisibilityTimeout).toBe(fleet.config.visibilityTimeoutSeconds);
      expect(referencedId(queues[dlqId]?.Properties.KmsMasterKeyId)).toBe(keyId);
    },
  );

  it('encrypts every topic with the key and denies publishing without TLS', () => {
    const topics = resourcesOf(fleet.template, 'AWS::SNS::Topic');
    for (const name of Object.keys(TOPICS)) {
      expect(
        referencedId(topics[logicalIdOf(fleet, `Messaging/${name}Topic`)]?.Properties.KmsMasterKeyId),
      ).toBe(keyId);
    }
    const policies = Object.values(resourcesOf(fleet.template, 'AWS::SNS::TopicPolicy'));
    const tlsDenied = policies.filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('"aws:SecureTransport":"false"'),
    );
    expect(tlsDenied.length).toBeGreaterThanOrEqual(Object.keys(TOPICS).length);
  });

  it('subscribes each topic-fed queue with raw delivery and its filter policy', () => {
    const subs = Object.values(resourcesOf(fleet.template, 'AWS::SNS::Subscription')).filter(
      (s) => s.Properties.Protocol === 'sqs',
    );
    const fed = consumers.filter((c) => CONSUMER_QUEUES[c].topic !== null);
    expect(subs).toHaveLength(fed.length);
    for (const name of fed) {
      const topic = CONSUMER_QUEUES[name].topic as keyof typeof TOPICS;
      const sub = subs.find(
        (s) => referencedId(s.Properties.Endpoint) === logicalIdOf(fleet, `Messaging/${name}Queue`),
      );
      expect(sub, name).toBeDefined();
      expect(referencedId(sub?.Properties.TopicArn)).toBe(logicalIdOf(fleet, `Messaging/${topic}Topic`));
      expect(sub?.Properties.RawMessageDelivery).toBe(true);
      const policy = filterPolicyFor(topic);
      if (policy) {
        expect(sub?.Properties.FilterPolicy).toEqual(policy);
        expect(sub?.Properties.FilterPolicyScope).toBe('MessageAttributes');
      } else {
        expect(sub?.Properties.FilterPolicy).toBeUndefined();
      }
    }
  });

  it('lets SNS use the key to deliver into the encrypted queues', () => {
    const key = resourcesOf(fleet.template, 'AWS::KMS::Key')[keyId]?.Properties ?? {};
    expect(JSON.stringify(key.KeyPolicy)).toContain('sns.amazonaws.com');
    expect(key.EnableKeyRotation).toBe(true);
  });
});
