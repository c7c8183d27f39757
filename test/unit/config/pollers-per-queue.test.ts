/**
 * Receive concurrency per queue. A worker with 2 pollers per queue drained a LocalStack
 * backlog at 0.5-0.6x what a plain receive+delete consumer with 8 loops did, and at 1.2-2.3x
 * with 8 pollers (`node bench/queue-drain.ts`, docs/benchmarks.md "Pollers per queue"): a
 * poller's cycle is a receive and a delete round trip, the worker's own share is a few ms.
 * The deployed task and `npm run local` take the default; only the tests' harness pins 2.
 */
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig, type EnvRecord } from '../../../src/config/load-config.ts';
import { resourcesOf, synthFleet } from '../../infra/support/synth-fleet-stack.ts';

const minimal: EnvRecord = {
  AWS_REGION: 'us-east-1',
  WORKER_CATALOG_QUEUE_URL: 'http://localhost:4566/000000000000/catalog-events',
};

describe('pollers per queue', () => {
  it('defaults to 8 batches in flight per queue', () => {
    expect(loadWorkerConfig(minimal).consumer.pollersPerQueue).toBe(8);
  });

  it('is not overridden in the stack, so the deployed task gets the default', () => {
    const fleet = synthFleet('dev');
    const taskDef =
      Object.values(resourcesOf(fleet.template, 'AWS::ECS::TaskDefinition'))[0]?.Properties ?? {};
    const container = (taskDef.ContainerDefinitions as { Environment: { Name: string }[] }[])[0];
    expect(container?.Environment.map((e) => e.Name)).not.toContain('WORKER_POLLERS_PER_QUEUE');
  });
});
