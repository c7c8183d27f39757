/**
 * The CDK app: `npx cdk synth -c env=prod`. Env-agnostic unless an account and region are
 * given (context `account`/`region`, or the CLI's defaults when deploying an existing VPC),
 * so synth needs no AWS credentials.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resolveEnvironmentConfig } from '../lib/config/environment-config.ts';
import { InvalidationFleetStack } from '../lib/invalidation-fleet-stack.ts';

const app = new App();
const config = resolveEnvironmentConfig((key) => app.node.tryGetContext(key));
const account = (app.node.tryGetContext('account') as string | undefined) ?? process.env.CDK_DEFAULT_ACCOUNT;
const region = (app.node.tryGetContext('region') as string | undefined) ?? process.env.CDK_DEFAULT_REGION;
// A VPC lookup needs a concrete environment; everything else stays env-agnostic.
const env = config.vpcId ? { account, region } : undefined;

new InvalidationFleetStack(app, `CacheInvalidationFleet-${config.envName}`, {
  config,
  ...(env && { env }),
  description: `Cache invalidation worker fleet (${config.envName}): SNS/SQS → ECS Fargate → ElastiCache Redis`,
});
// cdk-nag v3 is a policy-validation plugin: any unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
