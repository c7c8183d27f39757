/**
 * Preloaded into a worker by the soak bench (`node --import bench/worker/memory-probe.ts`):
 * prints one JSON line of `process.memoryUsage()` every MEMORY_PROBE_MS (default 5 000) to
 * stdout, where test/support/worker-process.ts collects the worker's log lines. The timer
 * is unref'd, so it never keeps a stopping worker alive. Bench-only: the worker never loads it.
 */
import { getHeapSpaceStatistics } from 'node:v8';

const everyMs = Number(process.env.MEMORY_PROBE_MS ?? 5_000);

const sample = () => {
  const m = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({
      msg: 'memory-probe',
      atMs: Date.now(),
      rss: m.rss,
      heapTotal: m.heapTotal,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      // Committed size per V8 space (new, old, code, large objects...), bytes.
      spaces: Object.fromEntries(getHeapSpaceStatistics().map((x) => [x.space_name, x.space_size])),
    })}\n`,
  );
};
setInterval(sample, everyMs).unref();
