/**
 * Synthesizes the full stack once per test file (memoized per environment) with the same
 * feature flags as cdk.json, and offers small readers over the template.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  resolveEnvironmentConfig,
  type EnvironmentConfig,
} from '../../../infra/lib/config/environment-config.ts';
import { FEATURE_FLAGS } from '../../../infra/lib/config/feature-flags.ts';
import { InvalidationFleetStack } from '../../../infra/lib/invalidation-fleet-stack.ts';

export interface SynthesizedFleet {
  readonly app: App;
  readonly stack: InvalidationFleetStack;
  readonly config: EnvironmentConfig;
  readonly template: Template;
}

const cache = new Map<string, SynthesizedFleet>();

/** The stack of `env` with optional extra context (`-c key=value`), synthesized once. */
export function synthFleet(
  env: 'dev' | 'prod' = 'dev',
  context: Record<string, string> = {},
): SynthesizedFleet {
  const key = JSON.stringify([env, context]);
  const hit = cache.get(key);
  if (hit) return hit;
  const app = new App({ context: { ...FEATURE_FLAGS, env, ...context } });
  const config = resolveEnvironmentConfig((k) => app.node.tryGetContext(k));
  const stack = new InvalidationFleetStack(app, `CacheInvalidationFleet-${env}`, { config });
  const synthesized = { app, stack, config, template: Template.fromStack(stack) };
  cache.set(key, synthesized);
  return synthesized;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

/** Resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/** The logical id of the construct at `path` (its default child, `Resource`, when a L2). */
export function logicalIdOf(fleet: SynthesizedFleet, path: string): string {
  const node = fleet.stack.node.findChild(path.split('/')[0] ?? '');
  const target = path
    .split('/')
    .slice(1)
    .reduce((n, id) => n.node.findChild(id), node);
  const cfn = (target.node.defaultChild ?? target) as unknown as { logicalId: string };
  return fleet.stack.resolve(cfn.logicalId) as string;
}

/** `{ "Fn::GetAtt": [id, "Arn"] }` or `{ Ref: id }` → the logical id it points at. */
export function referencedId(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::GetAtt'])) return String(v['Fn::GetAtt'][0]);
    if (typeof v.Ref === 'string') return v.Ref;
  }
  return undefined;
}
