import { defineConfig } from 'vitest/config';

// Three levels, one run: unit (pure core), integration (adapters on real Redis and
// LocalStack), e2e (scenarios through SNS, SQS and Redis), infra (CDK assertions, cdk-nag).
// The services are started by scripts/test.sh before vitest runs; test/setup/global-setup.ts
// fails fast with a clear message if they are not up.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
