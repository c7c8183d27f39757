/**
 * CDK feature flags the app relies on. cdk.json sets them for `cdk synth`; tests pass the
 * same object to `new App({ context })`, so what is asserted is what is deployed.
 */
export const FEATURE_FLAGS = {
  // An encrypted queue's EventBridge policy is scoped to this account instead of open to
  // every rule of every account (CDK cannot scope it by rule ARN when a KMS key is involved).
  '@aws-cdk/aws-events:eventsTargetQueueSameAccount': true,
} as const;
