import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { synthFleet } from './support/synth-fleet-stack.ts';

/** Every acknowledgement in a construct tree: rule id, where, and why. */
function acknowledgements(root: IConstruct): { id: string; path: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          id,
          path: c.node.path,
          reason,
        })),
      ),
  );
}

// The acknowledged findings, each with the construct it is scoped to. A new one must be
// added here on purpose, with the review that goes with it.
const EXPECTED_ACKNOWLEDGEMENTS = [
  { id: 'AwsSolutions-SMG4', path: 'Cache/AuthToken' },
  { id: 'AwsSolutions-SMG4', path: 'Fleet/AdminToken' },
  { id: 'AwsSolutions-ECS2', path: 'Fleet/TaskDefinition' },
  { id: 'AwsSolutions-IAM5[Resource::*]', path: 'Fleet/TaskDefinition/ExecutionRole' },
  { id: 'AwsSolutions-SQS3', path: 'Schedule/TargetDlq' },
];

describe.each(['dev', 'prod'] as const)('cdk-nag AwsSolutions on the %s stack', (env) => {
  const fleet = synthFleet(env);

  it.each(['Network', 'Messaging', 'Cache', 'Fleet', 'Schedule', 'Observability'])(
    '%s has no unacknowledged finding (errors or warnings)',
    (area) => {
      const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(
        fleet.stack.node.findChild(area),
      );
      expect(
        report.violations.map(
          (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
        ),
      ).toEqual([]);
    },
  );

  it('the whole app has no unacknowledged finding and no AwsSolutions annotation', () => {
    expect(new AwsSolutionsChecks().validateScope(fleet.app).violations).toEqual([]);
    const annotations = Annotations.fromStack(fleet.stack);
    expect(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  it('acknowledges only the expected findings, each on its own resource with a specific reason', () => {
    // CDK records its own acknowledgements (CloudFormation-Validate::...) in the same place.
    const acks = acknowledgements(fleet.stack).filter((a) => a.id.includes('AwsSolutions-'));
    const stackPath = `${fleet.stack.node.path}/`;
    expect(
      acks.map((a) => ({ id: a.id.replace(/^[A-Za-z]+::/, ''), path: a.path.replace(stackPath, '') })),
    ).toEqual(expect.arrayContaining(EXPECTED_ACKNOWLEDGEMENTS));
    expect(acks).toHaveLength(EXPECTED_ACKNOWLEDGEMENTS.length);
    for (const a of acks) expect(a.reason.length, a.id).toBeGreaterThan(60);
  });
});

describe('the cdk-nag check itself', () => {
  it('reports an unacknowledged finding (so a green run means something)', () => {
    const app = new App();
    const stack = new Stack(app, 'Bad');
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    const rules = new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });
});
