import { describe, expect, it } from 'vitest';
import { REDIS_MAXMEMORY_POLICY } from '../../infra/lib/cache/redis-replication-group.ts';
import { logicalIdOf, referencedId, resourcesOf, synthFleet } from './support/synth-fleet-stack.ts';

describe('RedisReplicationGroup in the stack', () => {
  const fleet = synthFleet('dev');
  const groups = Object.values(resourcesOf(fleet.template, 'AWS::ElastiCache::ReplicationGroup'));
  const group = groups[0];
  const p = group?.Properties ?? {};

  it('is one replication group of two nodes (a primary and one replica)', () => {
    expect(groups).toHaveLength(1);
    expect(p.NumCacheClusters).toBe(2);
    expect(p.Engine).toBe('redis');
    expect(p.EngineVersion).toMatch(/^7\./);
  });

  it('fails over automatically across AZs', () => {
    expect(p.AutomaticFailoverEnabled).toBe(true);
    expect(p.MultiAZEnabled).toBe(true);
  });

  it('is encrypted at rest with its KMS key and in transit (TLS required)', () => {
    expect(p.AtRestEncryptionEnabled).toBe(true);
    expect(referencedId(p.KmsKeyId)).toBe(logicalIdOf(fleet, 'Cache/Key'));
    expect(p.TransitEncryptionEnabled).toBe(true);
    expect(p.TransitEncryptionMode).toBe('required');
  });

  it('takes its AUTH token from Secrets Manager as a dynamic reference, never in clear', () => {
    const token = JSON.stringify(p.AuthToken);
    expect(token).toContain('{{resolve:secretsmanager:');
    expect(token).toContain(logicalIdOf(fleet, 'Cache/AuthToken'));
    expect(token).toContain(':SecretString:token::}}');
  });

  it('listens on the configured non-default port', () => {
    expect(p.Port).toBe(fleet.config.redisPort);
    expect(p.Port).not.toBe(6379);
  });

  it('evicts by LRU among keys with a TTL only (fences may go: safe; the broadcast sequence never)', () => {
    // Decision 0007: evicting a fence or generation only causes refusals and misses, since a
    // bump never reissues a value; the TTL-less broadcast sequence must stay.
    const params = resourcesOf(fleet.template, 'AWS::ElastiCache::ParameterGroup');
    const pg = params[referencedId(p.CacheParameterGroupName) ?? ''];
    expect(pg?.Properties.CacheParameterGroupFamily).toBe('redis7');
    expect((pg?.Properties.Properties as Record<string, string>)['maxmemory-policy']).toBe('volatile-lru');
    expect(REDIS_MAXMEMORY_POLICY).toBe('volatile-lru');
  });

  it('lives in the isolated subnets of two AZs', () => {
    const sg = resourcesOf(fleet.template, 'AWS::ElastiCache::SubnetGroup')[
      referencedId(p.CacheSubnetGroupName) ?? ''
    ];
    const subnetIds = (sg?.Properties.SubnetIds as unknown[]).map(referencedId);
    expect(subnetIds).toHaveLength(2);
    for (const id of subnetIds) expect(id).toMatch(/dataSubnet/);
  });

  it('admits only the fleet security group, only on the Redis port', () => {
    const cacheSg = logicalIdOf(fleet, 'Cache/SecurityGroup');
    const sgProps = resourcesOf(fleet.template, 'AWS::EC2::SecurityGroup')[cacheSg]?.Properties ?? {};
    expect(sgProps.SecurityGroupIngress).toBeUndefined();
    const ingress = Object.values(resourcesOf(fleet.template, 'AWS::EC2::SecurityGroupIngress')).filter(
      (r) => referencedId(r.Properties.GroupId) === cacheSg,
    );
    expect(ingress).toHaveLength(1);
    expect(ingress[0]?.Properties).toMatchObject({ IpProtocol: 'tcp', FromPort: p.Port, ToPort: p.Port });
    expect(referencedId(ingress[0]?.Properties.SourceSecurityGroupId)).toBe(
      logicalIdOf(fleet, 'Fleet/SecurityGroup'),
    );
  });

  it('keeps snapshots and ships the slow log and engine log to CloudWatch Logs', () => {
    expect(p.SnapshotRetentionLimit).toBeGreaterThanOrEqual(1);
    const logTypes = (p.LogDeliveryConfigurations as { LogType: string; DestinationType: string }[]).map(
      (c) => [c.LogType, c.DestinationType],
    );
    expect(logTypes).toEqual([
      ['slow-log', 'cloudwatch-logs'],
      ['engine-log', 'cloudwatch-logs'],
    ]);
  });

  it('is snapshotted, not deleted, when a prod stack removes it', () => {
    const prod = Object.values(
      synthFleet('prod').template.toJSON().Resources as Record<
        string,
        { Type: string; DeletionPolicy?: string }
      >,
    ).filter((r) => r.Type === 'AWS::ElastiCache::ReplicationGroup');
    expect(prod[0]?.DeletionPolicy).toBe('Snapshot');
  });
});
