import { describe, expect, it } from 'vitest';
import { workerHeapOptions } from '../../src/config/worker-heap.ts';
import { resourcesOf, synthFleet } from './support/synth-fleet-stack.ts';

describe('the worker task', () => {
  const fleet = synthFleet('dev');
  const taskDef = Object.values(resourcesOf(fleet.template, 'AWS::ECS::TaskDefinition'))[0]?.Properties ?? {};
  const container = (taskDef.ContainerDefinitions as Record<string, unknown>[])[0] ?? {};

  it("starts the worker with heap limits taken from the task's memory", () => {
    const memory = Number(taskDef.Memory);
    expect(container.Command).toEqual(['node', ...workerHeapOptions(memory), 'src/cli/worker.ts']);
    // 512 MiB: old space 192, semi-spaces 16 (src/config/worker-heap.ts).
    expect(memory).toBe(512);
    expect(container.Command).toContain('--max-old-space-size=192');
  });
});
