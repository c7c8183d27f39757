import { defineConfig } from 'vitest/config';

// The test levels, one run (`npm test`). The services are started by scripts/test.sh before
// vitest runs; tests read them from .local/env.json (test/support/stack.ts) and fail loudly,
// never skip, when they are missing.
//  1. unit + infra: pure core and CDK assertions, in parallel, milliseconds to seconds.
//  2. integration: adapters against real Redis and LocalStack, in parallel (each test owns
//     its keys and queues).
//  3. e2e: scenarios through SNS, SQS and Redis with real worker processes, one file at a
//     time, after everything else: some stop Redis or fail the primary over. The two longest
//     files (e2e-long), which touch only private Redis and queues, run with the integration group.
/** Long e2e files on private infrastructure only (their own Sentinel groups and queues). */
const E2E_LONG = ['test/e2e/drill-all.test.ts', 'test/e2e/worker-replica-degraded.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/setup/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: E2E_LONG,
          fileParallelism: false,
          testTimeout: 180_000,
          sequence: { groupOrder: 2 },
        },
      },
      {
        // The two longest e2e files run in the integration group, beside its files (vitest
        // gives a group one worker count, so they cannot run beside the serial e2e files):
        // each runs on its own Sentinel group and messaging topology, and nothing in the
        // integration group stops or fails over the shared stack.
        extends: true,
        test: {
          name: 'e2e-long',
          include: E2E_LONG,
          testTimeout: 180_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
