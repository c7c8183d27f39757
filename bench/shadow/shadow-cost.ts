/**
 * What shadow mode costs the worker (decision 0016): the CPU of planning each batch a second
 * time with the candidate and counting the difference, against the live plan alone.
 *   node bench/shadow/shadow-cost.ts [--rounds 5] [--batches 5000]
 * Pure CPU, no Redis or SQS. Batches of 10 raw `catalog.product.updated` bodies (distinct
 * ASINs, 2 live locales; the candidate adds fr-FR, so every batch differs: the worst case for
 * the sampling). Rounds interleave (live, then live + shadow), and the ratio is taken inside
 * each round; the verdict is the median.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { planBatch, type IncomingMessage } from '../../src/core/invalidation-planner.ts';
import { createKeyBuilder } from '../../src/core/key-builder.ts';
import { createShadowPlanner, shadowContractSchema } from '../../src/worker/shadow-contract.ts';
import { ShadowEvaluator } from '../../src/worker/shadow-evaluator.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, batches: { type: 'string', default: '5000' } },
});
const rounds = Number(values.rounds);
const batchCount = Number(values.batches);

const live = { namespace: 'mc', locales: ['en-US', 'ja-JP'] };
const keys = createKeyBuilder(live);
const candidate = shadowContractSchema.parse('{"name":"add-fr-FR","locales":["en-US","ja-JP","fr-FR"]}');
const evaluator = new ShadowEvaluator({ planner: createShadowPlanner(candidate, live), instance: 'bench' });

let n = 0;
const batches: IncomingMessage[][] = Array.from({ length: 1_000 }, () =>
  Array.from({ length: 10 }, () => {
    n += 1;
    return {
      messageId: `m${n}`,
      body: JSON.stringify({
        type: 'catalog.product.updated',
        schemaVersion: 1,
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        version: 1,
        asin: `B0${String(n).padStart(8, '0')}`,
      }),
    };
  }),
);

/** µs per batch of `fn` over `count` batches. */
function time(fn: (batch: IncomingMessage[]) => void, count: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) fn(batches[i % batches.length] ?? []);
  return Number(process.hrtime.bigint() - t0) / 1_000 / count;
}

const liveOnly = (batch: IncomingMessage[]) => void planBatch(batch, keys);
const withShadow = (batch: IncomingMessage[]) => evaluator.observe('catalog', batch, planBatch(batch, keys));

// Warm-up, so the JIT has compiled both paths before the first round.
time(liveOnly, batchCount);
time(withShadow, batchCount);
// Within a round the two alternate in slices of 250 batches, so a burst of load elsewhere on
// the machine weighs on both.
const SLICE = 250;
const rows: { live: number; shadow: number; ratio: number }[] = [];
for (let r = 0; r < rounds; r++) {
  let a = 0;
  let b = 0;
  const slices = Math.max(1, Math.round(batchCount / SLICE));
  for (let s = 0; s < slices; s++) {
    a += time(liveOnly, SLICE);
    b += time(withShadow, SLICE);
  }
  rows.push({ live: a / slices, shadow: b / slices, ratio: b / a });
}
const median = [...rows.map((r) => r.ratio)].sort((x, y) => x - y)[Math.floor(rows.length / 2)] ?? 0;
console.log(`shadow cost, ${batchCount} batches of 10 per round, Node ${process.version}`);
console.log('round  live plan µs/batch  live + shadow µs/batch  ratio');
rows.forEach((r, i) =>
  console.log(
    `${String(i + 1).padStart(5)}  ${r.live.toFixed(1).padStart(18)}  ${r.shadow.toFixed(1).padStart(22)}  ${r.ratio.toFixed(2)}x`,
  ),
);
console.log(`median ratio ${median.toFixed(2)}x; report: ${JSON.stringify(evaluator.report().deletes)}`);
