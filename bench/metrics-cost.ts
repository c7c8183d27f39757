/**
 * What the worker's metrics cost per applied event: `WorkerMetrics.eventApplied` in a tight
 * loop, as the batch handler calls it once per event, for the two set-ups the worker runs:
 * Prometheus only (`npm run local`) and Prometheus + CloudWatch EMF (the deployed stack;
 * the EMF lines go to a sink here). Then one lag histogram's `recordValue`, packed against
 * plain, which is why the few busy histograms are plain. Method and figures:
 * docs/benchmarks.md.
 *
 *   node bench/metrics-cost.ts [--events 200000] [--rounds 5]
 */
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createFleetMetrics } from '../src/metrics/composite-metrics.ts';
import { newLagHistogram } from '../src/metrics/lag-stats.ts';
import type { WorkerMetrics } from '../src/metrics/worker-metrics.ts';
import { median } from './worker/stats.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '5' },
  },
});
const events = Number(args.events);
const rounds = Number(args.rounds);
if (!Number.isSafeInteger(events) || events < 1 || !Number.isSafeInteger(rounds) || rounds < 1) {
  throw new RangeError('--events and --rounds must be positive integers');
}

const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
const setups: Record<string, { metrics: WorkerMetrics; close: () => void }> = {
  'Prometheus (npm run local)': createFleetMetrics({ service: 'bench' }),
  'Prometheus + EMF (deployed stack)': createFleetMetrics({ service: 'bench', emfOut: sink }),
};

const now = Date.now();
for (const [name, { metrics, close }] of Object.entries(setups)) {
  const perEventUs: number[] = [];
  // One round more than measured: the first one is the JIT's warm-up.
  for (let r = 0; r <= rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < events; i++) {
      metrics.eventApplied({
        family: 'product',
        tenant: 'default',
        queue: 'catalog',
        originAtMs: now - 50 - (i % 40),
        snsPublishedAtMs: now - 40,
        sqsSentAtMs: now - 30,
        receivedAtMs: now - 10,
        deleteConfirmedAtMs: now,
        broadcastAtMs: now,
      });
    }
    if (r > 0) perEventUs.push(((performance.now() - started) * 1000) / events);
  }
  close();
  console.log(
    `${name}: ${median(perEventUs).toFixed(2)} µs per event (median of ${rounds} rounds of ${events})`,
  );
}

for (const packed of [true, false]) {
  const histogram = newLagHistogram(packed);
  const perRecordNs: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < events; i++) histogram.recordValue((i * 7919) % 5000);
    if (r > 0) perRecordNs.push(((performance.now() - started) * 1e6) / events);
  }
  console.log(
    `one ${packed ? 'packed' : 'plain'} lag histogram: ${median(perRecordNs).toFixed(0)} ns per recordValue (values 0-5 000 ms)`,
  );
}
