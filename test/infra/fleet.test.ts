import { describe, expect, it } from 'vitest';
import { QUEUE_URL_ENV, TOPIC_ARN_ENV, WORKER_ENV } from '../../infra/lib/fleet/worker-environment.ts';
import { loadWorkerConfig } from '../../src/config/load-config.ts';
import { CONFIG_VARIABLES } from '../../src/config/variables.ts';
import {
  CONSUMER_QUEUE_ACTIONS,
  DEAD_LETTER_QUEUE_ACTIONS,
  MESSAGING_KEY_ACTIONS,
  CANARY_TOPIC_ACTIONS,
} from '../../infra/lib/fleet/worker-fleet.ts';
import { CONSUMER_QUEUES, type ConsumerName } from '../../infra/lib/messaging/messaging-topology.ts';
import { logicalIdOf, referencedId, resourcesOf, synthFleet } from './support/synth-fleet-stack.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe('WorkerFleet in the stack', () => {
  const fleet = synthFleet('dev');
  const consumers = Object.keys(CONSUMER_QUEUES) as ConsumerName[];
  const taskRoleId = logicalIdOf(fleet, 'Fleet/TaskRole');
  const taskDef = Object.values(resourcesOf(fleet.template, 'AWS::ECS::TaskDefinition'))[0]?.Properties ?? {};
  const container = (taskDef.ContainerDefinitions as Record<string, unknown>[])[0] ?? {};

  describe('task role', () => {
    const role = resourcesOf(fleet.template, 'AWS::IAM::Role')[taskRoleId]?.Properties ?? {};
    const statements = Object.values(resourcesOf(fleet.template, 'AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as unknown[]).some((r) => referencedId(r) === taskRoleId))
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const resourceIds = (s: Statement): (string | undefined)[] => list(s.Resource).map(referencedId);

    it('has no managed or inline policies besides its own statements', () => {
      expect(role.ManagedPolicyArns).toBeUndefined();
      expect(role.Policies).toBeUndefined();
      expect(JSON.stringify(role.AssumeRolePolicyDocument)).toContain('ecs-tasks.amazonaws.com');
    });

    it('allows exactly receive, delete, change visibility and get attributes on its own queues', () => {
      const onQueues = statements.filter((s) => list(s.Action).includes('sqs:ReceiveMessage'));
      expect(onQueues).toHaveLength(1);
      expect(new Set(list(onQueues[0]!.Action))).toEqual(new Set(CONSUMER_QUEUE_ACTIONS));
      expect(new Set(resourceIds(onQueues[0]!))).toEqual(
        new Set(consumers.map((c) => logicalIdOf(fleet, `Messaging/${c}Queue`))),
      );
    });

    it('allows only SendMessage on the DLQs of its own queues', () => {
      const onDlqs = statements.filter((s) => list(s.Action).includes('sqs:SendMessage'));
      expect(onDlqs).toHaveLength(1);
      expect(list(onDlqs[0]!.Action)).toEqual([...DEAD_LETTER_QUEUE_ACTIONS]);
      expect(new Set(resourceIds(onDlqs[0]!))).toEqual(
        new Set(consumers.map((c) => logicalIdOf(fleet, `Messaging/${c}Dlq`))),
      );
    });

    it('uses the messaging key and nothing else', () => {
      const actions = statements.flatMap((s) => list(s.Action));
      expect(new Set(actions)).toEqual(
        new Set([
          ...CONSUMER_QUEUE_ACTIONS,
          ...DEAD_LETTER_QUEUE_ACTIONS,
          ...MESSAGING_KEY_ACTIONS,
          ...CANARY_TOPIC_ACTIONS,
        ]),
      );
      // The pipeline canary (decision 0022): sns:Publish on the fleet's three topics, nothing else.
      const publish = statements.filter((s) => list(s.Action).includes('sns:Publish'));
      expect(publish.flatMap(resourceIds).sort()).toEqual(
        ['catalog', 'promotions', 'sessions'].map((t) => logicalIdOf(fleet, `Messaging/${t}Topic`)).sort(),
      );
      const kms = statements.filter((s) => list(s.Action).some((a) => a.startsWith('kms:')));
      expect(kms.flatMap(resourceIds)).toEqual([logicalIdOf(fleet, 'Messaging/Key')]);
    });

    it('has no wildcard action, no wildcard resource, no Deny-less escape hatch', () => {
      for (const s of statements) {
        expect(s.Effect).toBe('Allow');
        for (const a of list(s.Action)) expect(a).not.toMatch(/\*/);
        for (const r of list(s.Resource)) {
          expect(r).not.toBe('*');
          expect(referencedId(r), JSON.stringify(r)).toBeDefined();
        }
      }
    });
  });

  it('injects the Redis AUTH token as a secret and sets only variables the worker reads', () => {
    const env = Object.fromEntries(
      (container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    const queueVars = Object.values(QUEUE_URL_ENV).flatMap((q) => [q.url, q.dlqUrl]);
    const expected = [
      ...Object.values(WORKER_ENV).filter(
        (n) => n !== WORKER_ENV.redisPassword && n !== WORKER_ENV.adminToken,
      ),
      ...queueVars,
      ...Object.values(TOPIC_ARN_ENV),
    ];
    expect(Object.keys(env).sort()).toEqual([...expected].sort());
    // Every name is one the worker's config schema reads, so none is silently ignored.
    for (const name of [...Object.keys(env), WORKER_ENV.redisPassword, WORKER_ENV.adminToken])
      expect(CONFIG_VARIABLES).toContain(name);
    expect(env[WORKER_ENV.redisMode]).toBe('standalone');
    expect(env[WORKER_ENV.redisTls]).toBe('true');
    expect(env[WORKER_ENV.adminPort]).toBe('9464');
    const addresses = JSON.stringify(env[WORKER_ENV.redisAddresses]);
    expect(addresses).toContain('PrimaryEndPoint.Address');
    expect(addresses).toContain(`:${fleet.config.redisPort}`);
    expect(Number(env[WORKER_ENV.drainDeadlineMs])).toBeLessThan(Number(env[WORKER_ENV.stopTimeoutMs]));
    // A crashed task's in-flight events come back within seconds, not the queue's 90 s (decision 0021).
    expect(env[WORKER_ENV.visibilityTimeoutS]).toBe(String(fleet.config.receiveVisibilityTimeoutSeconds));
    expect(env[WORKER_ENV.heartbeatIntervalS]).toBe(String(fleet.config.heartbeatIntervalSeconds));
    expect(fleet.config.receiveVisibilityTimeoutSeconds).toBeLessThanOrEqual(5);
    const secrets = container.Secrets as { Name: string; ValueFrom: unknown }[];
    expect(secrets.map((s) => s.Name)).toEqual([WORKER_ENV.redisPassword, WORKER_ENV.adminToken]);
    expect(JSON.stringify(secrets[0]?.ValueFrom)).toContain(':token::');
    // The admin token: its own generated secret, the whole value (no JSON field).
    expect(JSON.stringify(secrets[1]?.ValueFrom)).toContain(logicalIdOf(fleet, 'Fleet/AdminToken'));
    // The admin port listens on every interface of the task, which no security group rule admits.
    expect(env[WORKER_ENV.adminHost]).toBe('0.0.0.0');
  });

  it('sets a configuration the worker accepts at start-up (every cross-field rule holds)', () => {
    // Prepare: CloudFormation references become plausible deploy-time values.
    const deployTime: Record<string, string> = {
      REDIS_ADDRESSES: 'master.cif-dev-cache.abc123.use1.cache.amazonaws.com:6380',
      AWS_REGION: 'us-east-1',
      WORKER_CATALOG_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:cif-dev-catalog-events',
      WORKER_PROMOTIONS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:cif-dev-promo-events',
      WORKER_SESSIONS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:cif-dev-session-events',
    };
    const env = Object.fromEntries(
      (container.Environment as { Name: string; Value: unknown }[]).map((e) => [
        e.Name,
        typeof e.Value === 'string'
          ? e.Value
          : (deployTime[e.Name] ??
            `https://sqs.us-east-1.amazonaws.com/123456789012/${e.Name.toLowerCase()}`),
      ]),
    );

    // Act
    const config = loadWorkerConfig({ ...env, REDIS_PASSWORD: 'token-from-secrets-manager' });

    // Assess
    expect(config.redis.tls).toBe(true);
    expect(config.emfEnabled).toBe(true);
    expect(Object.keys(config.queues).sort()).toEqual(['catalog', 'promotions', 'reviewRefresh', 'sessions']);
    expect(Object.keys(config.canary.topics).sort()).toEqual(['catalog', 'promotions', 'sessions']);
    expect(config.canary.intervalMs).toBeGreaterThan(0);
  });

  it('stops later than the worker drains, and is health-checked on /healthz of the admin port', () => {
    expect(container.StopTimeout).toBe(fleet.config.stopTimeoutSeconds);
    expect(container.StopTimeout as number).toBeGreaterThan(fleet.config.drainDeadlineSeconds);
    const command = (container.HealthCheck as { Command: string[] }).Command.join(' ');
    expect(command).toContain('http://127.0.0.1:9464/healthz');
    expect(container.ReadonlyRootFilesystem).toBe(true);
    expect((container.LogConfiguration as { LogDriver: string }).LogDriver).toBe('awslogs');
  });

  it('keeps the worker logs for the configured retention', () => {
    const logs =
      resourcesOf(fleet.template, 'AWS::Logs::LogGroup')[logicalIdOf(fleet, 'Fleet/Logs')]?.Properties ?? {};
    expect(logs.RetentionInDays).toBe(fleet.config.logRetentionDays);
  });

  it('runs in private subnets without public IPs, with a rolling-back circuit breaker', () => {
    const service = Object.values(resourcesOf(fleet.template, 'AWS::ECS::Service'))[0]?.Properties ?? {};
    const net = (
      service.NetworkConfiguration as { AwsvpcConfiguration: { AssignPublicIp: string; Subnets: unknown[] } }
    ).AwsvpcConfiguration;
    expect(net.AssignPublicIp).toBe('DISABLED');
    for (const s of net.Subnets) expect(referencedId(s)).toMatch(/workloadSubnet/);
    expect(service.LaunchType).toBe('FARGATE');
    expect((service.DeploymentConfiguration as Record<string, unknown>).DeploymentCircuitBreaker).toEqual({
      Enable: true,
      Rollback: true,
    });
  });

  it('turns Container Insights on (it also feeds the scaling metric)', () => {
    const cluster = Object.values(resourcesOf(fleet.template, 'AWS::ECS::Cluster'))[0]?.Properties ?? {};
    expect(cluster.ClusterSettings).toEqual([{ Name: 'containerInsights', Value: 'enabled' }]);
  });

  it('scales between the configured bounds on visible messages per running task', () => {
    const target =
      Object.values(resourcesOf(fleet.template, 'AWS::ApplicationAutoScaling::ScalableTarget'))[0]
        ?.Properties ?? {};
    expect(target).toMatchObject({ MinCapacity: fleet.config.minTasks, MaxCapacity: fleet.config.maxTasks });
    const policy =
      Object.values(resourcesOf(fleet.template, 'AWS::ApplicationAutoScaling::ScalingPolicy'))[0]
        ?.Properties ?? {};
    expect(policy.PolicyType).toBe('TargetTrackingScaling');
    const cfg = policy.TargetTrackingScalingPolicyConfiguration as {
      TargetValue: number;
      CustomizedMetricSpecification: {
        Metrics: {
          Id: string;
          Expression?: string;
          ReturnData: boolean;
          MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: unknown }[] } };
        }[];
      };
    };
    expect(cfg.TargetValue).toBe(fleet.config.backlogPerTaskTarget);
    const metrics = cfg.CustomizedMetricSpecification.Metrics;
    const visible = metrics.filter(
      (m) => m.MetricStat?.Metric.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    expect(new Set(visible.map((m) => referencedId(m.MetricStat?.Metric.Dimensions[0]?.Value)))).toEqual(
      new Set(consumers.map((c) => logicalIdOf(fleet, `Messaging/${c}Queue`))),
    );
    expect(metrics.some((m) => m.MetricStat?.Metric.MetricName === 'RunningTaskCount')).toBe(true);
    const returned = metrics.filter((m) => m.ReturnData);
    expect(returned).toHaveLength(1);
    expect(returned[0]?.Expression).toBe('(q0 + q1 + q2 + q3) / tasks');
  });

  it('takes task bounds from context overrides', () => {
    const custom = synthFleet('dev', { minTasks: '3', maxTasks: '7' });
    const target = Object.values(
      resourcesOf(custom.template, 'AWS::ApplicationAutoScaling::ScalableTarget'),
    )[0]?.Properties;
    expect(target).toMatchObject({ MinCapacity: 3, MaxCapacity: 7 });
  });
});
