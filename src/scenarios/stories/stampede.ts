/**
 * flash-sale stampede: the top 100 product keys expire under load. Every tier holding them
 * is empty at the same instant (the moment their TTLs run out together; the TTL itself is
 * not waited for) and 4 reader processes read them at full rate from that instant, started
 * together. Counted at the origin (its own per-key counters, `GET /_sim/stats?keys=1`):
 * origin calls per expired key, the most for one key, and the origin's peak calls in any
 * one-second window against its budget.
 */
import { analyzeReads, redisBreakerOpenings, share } from '../read-analysis.ts';
import { startDesignEnv } from '../scenario-world.ts';
import { designRows, sizeOf } from '../story.ts';
import type { Story, StoryOptions, StoryResult, Verdict } from '../story.ts';
import type { StatsSnapshot } from '../../origin-sim/call-stats.ts';
import { asinOf } from '../../orchestrator-sim/workload.ts';

const KEYS = 100;
const PROCESSES = 4;
const DEFAULTS = { processes: PROCESSES, rate: 250, reads: 4_000, minS: 3 };

export const stampede: Story = {
  name: 'stampede',
  title: 'flash-sale stampede: the top 100 keys expire under load (4 processes at full rate)',
  async run(o: StoryOptions): Promise<StoryResult> {
    const size = sizeOf(o, DEFAULTS);
    const figures: Record<string, Record<string, number | string | null>> = {};
    for (const design of o.designs) {
      o.log(`stampede: ${design.name} (${size.reads} reads over ${size.durationS.toFixed(1)} s)`);
      const env = await startDesignEnv({
        lagWindowMs: o.lagWindowMs,
        world: o.world,
        design,
        story: 'stampede',
        pollIntervalMs: o.pollIntervalMs,
        seed: o.seed,
        locales: ['en-US'],
        readers: {
          count: PROCESSES,
          settings: {
            rate: size.rate,
            durationS: size.durationS,
            catalogSize: KEYS,
            mix: { product: 1, promo: 0, reco: 0, review: 0 },
          },
        },
      });
      try {
        const readers = env.group;
        // The readers' warm-up reads (outside the 100 keys) are not the story's load.
        await fetch(`${env.originUrl}/_sim/reset`, { method: 'POST' });
        readers.start();
        await readers.finished();
        const stats = (await (await fetch(`${env.originUrl}/_sim/stats?keys=1`)).json()) as StatsSnapshot;
        const story = new Set(Array.from({ length: KEYS }, (_, i) => `products:${asinOf(i)}`));
        const perKey = Object.entries(stats.perKey ?? {}).filter(([k]) => story.has(k));
        const calls = perKey.reduce((n, [, c]) => n + c, 0);
        const analysis = await analyzeReads(env, o.lagWindowMs);
        figures[design.name] = {
          reads: analysis.reads.length,
          errors: analysis.reads.filter((r) => r.err !== undefined).length,
          keysExpired: perKey.length,
          originCalls: calls,
          callsPerExpiry: perKey.length === 0 ? 0 : calls / perKey.length,
          maxCallsForOneKey: perKey.reduce((m, [, c]) => Math.max(m, c), 0),
          originPeakPerS: stats.maxPerSecond.products,
          budgetPerS: o.originBudgetPerS,
          staleBeyondWindow: analysis.staleness.total.staleBeyondWindow,
          judged: analysis.staleness.total.judged,
          redisBreakerOpenings: redisBreakerOpenings(env),
        };
      } finally {
        await env.close();
      }
    }
    const columns = [
      'reads',
      'keys expired',
      'origin calls',
      'calls per expiry',
      'max for one key',
      'origin peak /s',
      'budget /s',
      'read errors',
      'Redis breaker opened',
    ];
    const rows = designRows(o.designs, figures, (n, _f, d) => ({
      reads: String(n('reads')),
      'keys expired': String(n('keysExpired')),
      'origin calls': String(n('originCalls')),
      'calls per expiry': n('callsPerExpiry').toFixed(2),
      'max for one key': String(n('maxCallsForOneKey')),
      'origin peak /s': `${n('originPeakPerS')}${n('originPeakPerS') > o.originBudgetPerS ? ' (over)' : ''}`,
      'budget /s': String(o.originBudgetPerS),
      'read errors': `${n('errors')} (${share(n('errors'), n('reads'))})`,
      'Redis breaker opened': d.reader === 'client' ? String(n('redisBreakerOpenings')) : 'n/a',
    }));
    const verdicts: Verdict[] = [];
    const ours = figures.ours;
    if (ours !== undefined)
      verdicts.push({
        what: 'stampede, ours: 1 origin call per expiry',
        ok: ours.maxCallsForOneKey === 1 && ours.keysExpired === KEYS,
        detail: `${ours.originCalls} calls for ${ours.keysExpired} keys, at most ${ours.maxCallsForOneKey} for one; peak ${ours.originPeakPerS}/s (budget ${o.originBudgetPerS}/s); Redis breaker opened ${ours.redisBreakerOpenings} times`,
      });
    return {
      story: 'stampede',
      title: this.title,
      columns,
      rows,
      verdicts,
      notes: [
        `every tier empty at the start, ${PROCESSES} processes x ${size.rate} reads/s over the ${KEYS} keys (Zipf), one locale; origin latency 120 ms`,
      ],
      figures,
    };
  },
};
