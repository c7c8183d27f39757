import { describe, expect, it } from 'vitest';
import { LAG_FAMILIES } from '../../infra/lib/config/environment-config.ts';
import { CLOUDWATCH_NAMESPACE, DIMENSION_FAMILY, METRICS } from '../../src/core/metric-names.ts';
import { logicalIdOf, referencedId, resourcesOf, synthFleet } from './support/synth-fleet-stack.ts';

interface AlarmProps {
  AlarmName: string;
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  ExtendedStatistic?: string;
  Threshold: number;
  ComparisonOperator: string;
  Dimensions?: { Name: string; Value: unknown }[];
  AlarmActions?: unknown[];
  EvaluationPeriods?: number;
}

// prod: its SLOs differ from the defaults of dev, so thresholds prove they come from config.
describe('FleetObservability in the stack', () => {
  const fleet = synthFleet('prod', { alarmEmail: 'oncall@example.com' });
  const alarms = Object.values(resourcesOf(fleet.template, 'AWS::CloudWatch::Alarm')).map(
    (a) => a.Properties as unknown as AlarmProps,
  );
  const byName = (suffix: string): AlarmProps | undefined =>
    alarms.find((a) => a.AlarmName === `${fleet.config.namePrefix}-${suffix}`);
  const topicId = logicalIdOf(fleet, 'Observability/AlarmTopic');

  it.each(LAG_FAMILIES)('alarms on the p99 lag of %s over its configured SLO', (family) => {
    const alarm = byName(`lag-p99-${family}`);
    expect(alarm).toMatchObject({
      Namespace: CLOUDWATCH_NAMESPACE,
      MetricName: METRICS.lagDeleteMs,
      ExtendedStatistic: 'p99',
      Threshold: fleet.config.slo.lagP99Ms[family],
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarm?.Dimensions).toContainEqual({ Name: DIMENSION_FAMILY, Value: family });
  });

  it.each([
    { suffix: 'durability-degraded', metric: METRICS.durabilityDegraded, periods: 5 },
    { suffix: 'replay-escalations', metric: METRICS.replayEscalations, periods: 1 },
  ])('alarms on $metric (decision 0008)', ({ suffix, metric, periods }) => {
    const alarm = byName(suffix);
    expect(alarm).toMatchObject({
      Namespace: CLOUDWATCH_NAMESPACE,
      MetricName: metric,
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: periods,
    });
    expect(JSON.stringify(alarm?.AlarmActions)).toContain(topicId);
  });

  it('alarms as soon as any DLQ (consumer or schedule) is not empty', () => {
    const dlqAlarms = alarms.filter((a) => a.AlarmName.includes('-dlq-not-empty-'));
    expect(dlqAlarms.map((a) => a.AlarmName.split('-dlq-not-empty-')[1]).sort()).toEqual([
      'catalog',
      'promotions',
      'refresh-schedule',
      'review-refresh',
      'sessions',
    ]);
    for (const a of dlqAlarms) {
      expect(a).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('alarms on the oldest message age of every consumer queue at the configured threshold', () => {
    const ageAlarms = alarms.filter((a) => a.AlarmName.includes('-oldest-message-'));
    expect(ageAlarms).toHaveLength(4);
    for (const a of ageAlarms) {
      expect(a).toMatchObject({
        MetricName: 'ApproximateAgeOfOldestMessage',
        Threshold: fleet.config.slo.oldestMessageAgeSeconds,
      });
    }
  });

  it('alarms on worker Redis errors', () => {
    expect(byName('worker-redis-errors')).toMatchObject({
      Namespace: CLOUDWATCH_NAMESPACE,
      MetricName: METRICS.redisErrors,
      Threshold: fleet.config.slo.redisErrorsPerPeriod,
    });
  });

  it('sends every alarm to the alarm topic', () => {
    expect(alarms.length).toBeGreaterThanOrEqual(4 + 5 + 4 + 1);
    for (const a of alarms) expect(a.AlarmActions?.map(referencedId), a.AlarmName).toEqual([topicId]);
  });

  it('encrypts the alarm topic, lets CloudWatch use its key, denies non-TLS publishing', () => {
    const topic = resourcesOf(fleet.template, 'AWS::SNS::Topic')[topicId]?.Properties ?? {};
    const keyId = referencedId(topic.KmsMasterKeyId);
    expect(keyId).toBe(logicalIdOf(fleet, 'Observability/AlarmTopicKey'));
    expect(
      JSON.stringify(resourcesOf(fleet.template, 'AWS::KMS::Key')[keyId ?? '']?.Properties.KeyPolicy),
    ).toContain('cloudwatch.amazonaws.com');
    const policy = Object.values(resourcesOf(fleet.template, 'AWS::SNS::TopicPolicy')).find((p) =>
      (p.Properties.Topics as unknown[]).some((t) => referencedId(t) === topicId),
    );
    expect(JSON.stringify(policy?.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });

  it('subscribes the configured alarm address', () => {
    const subs = Object.values(resourcesOf(fleet.template, 'AWS::SNS::Subscription')).filter(
      (s) => s.Properties.Protocol === 'email',
    );
    expect(subs).toHaveLength(1);
    expect(subs[0]?.Properties.Endpoint).toBe('oncall@example.com');
  });

  it('has a dashboard with lag per family, throughput, DLQs, queue age, errors and the cache', () => {
    const dashboards = Object.values(resourcesOf(fleet.template, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const needle of [
      METRICS.lagDeleteMs,
      METRICS.eventsProcessed,
      METRICS.redisErrors,
      'ApproximateNumberOfMessagesVisible',
      'ApproximateAgeOfOldestMessage',
      'ReplicationLag',
      'EngineCPUUtilization',
      'p50',
      'p99',
      ...LAG_FAMILIES,
    ]) {
      expect(body, needle).toContain(needle);
    }
  });
});
