import { describe, expect, it } from 'vitest';
import {
  ENVIRONMENT_DEFAULTS,
  EnvironmentConfigError,
  LAG_FAMILIES,
  resolveEnvironmentConfig,
  validateEnvironmentConfig,
} from '../../infra/lib/config/environment-config.ts';
import type { FamilyName } from '../../src/core/invalidation-plan.ts';

const from = (ctx: Record<string, unknown>) => (key: string) => ctx[key];

describe('environment configuration', () => {
  it.each(['dev', 'prod'] as const)('the %s defaults are valid', (env) => {
    expect(validateEnvironmentConfig(ENVIRONMENT_DEFAULTS[env])).toEqual([]);
  });

  it('defaults to dev and freezes the result, deeply', () => {
    const config = resolveEnvironmentConfig(from({}));
    expect(config.envName).toBe('dev');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.slo.lagP99Ms)).toBe(true);
  });

  it('applies context overrides, including strings from -c', () => {
    const config = resolveEnvironmentConfig(
      from({
        env: 'prod',
        minTasks: '3',
        maxTasks: 9,
        alarmEmail: 'ops@example.com',
        cacheNodeType: 'cache.r7g.xlarge',
      }),
    );
    expect(config).toMatchObject({
      envName: 'prod',
      minTasks: 3,
      maxTasks: 9,
      alarmEmail: 'ops@example.com',
      cacheNodeType: 'cache.r7g.xlarge',
    });
  });

  it('rejects an unknown environment', () => {
    expect(() => resolveEnvironmentConfig(from({ env: 'staging' }))).toThrow(/env must be one of dev, prod/);
  });

  it('reports every problem at once', () => {
    try {
      resolveEnvironmentConfig(
        from({ minTasks: '0', maxTasks: 'many', alarmEmail: 'nope', vpcId: 'my-vpc' }),
      );
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(EnvironmentConfigError);
      const problems = (err as EnvironmentConfigError).problems.join('\n');
      expect(problems).toMatch(/maxTasks must be an integer/);
      expect(problems).toMatch(/minTasks must be at least 1/);
      expect(problems).toMatch(/alarmEmail/);
      expect(problems).toMatch(/vpcId/);
    }
  });

  it('enforces the cross-field rules: stop timeout covers the drain, visibility outlives it', () => {
    const problems = validateEnvironmentConfig({
      ...ENVIRONMENT_DEFAULTS.dev,
      drainDeadlineSeconds: 115,
      visibilityTimeoutSeconds: 100,
      redisPort: 6379,
      minTasks: 5,
      maxTasks: 2,
      receiveVisibilityTimeoutSeconds: 2,
      heartbeatIntervalSeconds: 2,
    });
    expect(problems.join('\n')).toMatch(
      /receiveVisibilityTimeoutSeconds must be whole seconds, longer than heartbeatIntervalSeconds/,
    );
    expect(problems.join('\n')).toMatch(/stopTimeoutSeconds must exceed drainDeadlineSeconds/);
    expect(problems.join('\n')).toMatch(/visibilityTimeoutSeconds must exceed drainDeadlineSeconds/);
    expect(problems.join('\n')).toMatch(/6379/);
    expect(problems.join('\n')).toMatch(/maxTasks must be at least minTasks/);
  });

  it('has an SLO for every cached family of the cache contract', () => {
    const families: readonly FamilyName[] = LAG_FAMILIES;
    expect(families).toEqual(['product', 'reco', 'promo', 'review']);
    for (const env of ['dev', 'prod'] as const) {
      expect(Object.keys(ENVIRONMENT_DEFAULTS[env].slo.lagP99Ms).sort()).toEqual([...LAG_FAMILIES].sort());
    }
  });
});
