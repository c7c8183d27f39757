/**
 * The heap limits a worker is launched with (src/config/worker-heap.ts) keep its memory
 * bounded. The defect they fix: V8 sized the heap for the host (a 128 MiB young generation, a
 * ~4 GiB ceiling on this 24 GB machine), so a worker's RSS climbed for minutes while its live
 * set stayed small. The child below plays a worker's heap: a ring of recent batches as the
 * live set and steady garbage. Without the options its young generation reached 128 MiB and
 * its RSS 236 MiB in 3 s on this machine; with them 32 MiB and 112 MiB.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TASK_MEMORY_MIB,
  WORKER_SEMI_SPACE_MIB,
  workerHeapOptions,
} from '../../../src/config/worker-heap.ts';

const CHURN = `
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
const ring = new Array(4000);
let peakNew = 0;
const started = Date.now();
for (let i = 0; Date.now() - started < 3000; i++) {
  ring[i % ring.length] = {
    id: 'event-' + i,
    keys: Array.from({ length: 8 }, (_, k) => 'k:' + i + ':' + k + ':' + 'x'.repeat(40)),
    body: JSON.stringify({ i, pad: 'y'.repeat(600) }),
  };
  if (i % 1000 === 0) {
    const s = getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
    peakNew = Math.max(peakNew, s.space_size);
    await new Promise((r) => setImmediate(r));
  }
}
console.log(JSON.stringify({
  peakNewMiB: peakNew / 1048576,
  limitMiB: getHeapStatistics().heap_size_limit / 1048576,
  rssMiB: process.memoryUsage().rss / 1048576,
}));
`;

function churn(options: readonly string[]): { peakNewMiB: number; limitMiB: number; rssMiB: number } {
  const out = execFileSync(process.execPath, [...options, '--input-type=module', '-e', CHURN], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return JSON.parse(out) as { peakNewMiB: number; limitMiB: number; rssMiB: number };
}

describe('worker heap options', () => {
  it('give a 512 MiB task a 192 MiB old generation and 16 MiB semi-spaces', () => {
    expect(workerHeapOptions()).toEqual(['--max-semi-space-size=16', '--max-old-space-size=192']);
    expect(workerHeapOptions(1024)).toContain('--max-old-space-size=384');
    expect(() => workerHeapOptions(128)).toThrow(/at least 256 MiB/);
  });

  it('keep a churning heap inside 60 % of the task memory, young generation capped', () => {
    // Prepare / Act: a worker-like allocation pattern under the worker's options.
    const r = churn(workerHeapOptions());
    // Assess: the ceiling V8 works against, the young generation it grew, the RSS it reached.
    expect(r.limitMiB).toBeLessThan(DEFAULT_TASK_MEMORY_MIB * 0.6);
    expect(r.peakNewMiB).toBeLessThanOrEqual(3 * WORKER_SEMI_SPACE_MIB);
    expect(r.rssMiB).toBeLessThan(160);
  });
});
