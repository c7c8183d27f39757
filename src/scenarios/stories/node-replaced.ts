/**
 * node replaced: the primary is lost (SIGKILL) while 3 reader processes read a warm mix
 * (products, promotions and reviews of a 100-ASIN catalog: about 400 keys, filled by the
 * first 45 % of the run).
 * After `--failover-ms` (2 s by default, the local twin's fast profile; ElastiCache takes tens
 * of seconds to detect and promote) the endpoint switches either to the promoted replica
 * (REPLICAOF NO ONE: it holds what the primary had) or to an empty node (the Memcached story:
 * no replication, the new node starts cold). The worker and the readers follow the endpoint.
 * From the origin's own load series (all endpoints, 100 ms buckets): the baseline before the
 * loss, the origin calls and the peak in the 5 s after the switch (cold-start load), and the
 * time from the loss until a one-second window is back under max(1.5 x baseline, baseline + 5).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadSeries } from '../../origin-sim/call-stats.ts';
import { ORIGIN_ENDPOINTS } from '../../origin-sim/origin-endpoints.ts';
import type { Design } from '../designs.ts';
import { analyzeReads, share, startChangeStream } from '../read-analysis.ts';
import { startRedisNode } from '../redis-nodes.ts';
import { startDesignEnv } from '../scenario-world.ts';
import { sizeOf } from '../story.ts';
import type { Story, StoryOptions, StoryResult } from '../story.ts';

const PROCESSES = 3;
const DEFAULTS = { processes: PROCESSES, rate: 150, reads: 6_300, minS: 10 };
const COLD_WINDOW_MS = 5_000;

interface Run {
  readonly design: Design;
  readonly node: 'replica' | 'empty';
  readonly row: string;
}

/** Calls per 100 ms bucket, all endpoints, keyed by bucket start. */
function bucketsOf(load: LoadSeries): Map<number, number> {
  return new Map(load.buckets.map((b) => [b.t, ORIGIN_ENDPOINTS.reduce((n, e) => n + b.calls[e], 0)]));
}

/** Calls in [from, to). */
function callsIn(b: Map<number, number>, from: number, to: number, bucketMs: number): number {
  let n = 0;
  for (let t = Math.floor(from / bucketMs) * bucketMs; t < to; t += bucketMs) n += b.get(t) ?? 0;
  return n;
}

export const nodeReplaced: Story = {
  name: 'node-replaced',
  title: 'node replaced: the primary is lost under load; the promoted replica against an empty node',
  async run(o: StoryOptions): Promise<StoryResult> {
    const size = sizeOf(o, DEFAULTS);
    const killAfterMs = size.durationS * 1000 * 0.45;
    const runs: Run[] = [];
    for (const d of o.designs) {
      if (d.lostNode === 'none') continue;
      runs.push({ design: d, node: d.lostNode, row: d.name });
      if (d.name === 'ours') runs.push({ design: d, node: 'empty', row: 'ours (empty node)' });
    }
    const figures: Record<string, Record<string, number | string | null>> = {};
    for (const run of runs) {
      o.log(`node-replaced: ${run.row} (${size.reads} reads over ${size.durationS.toFixed(1)} s)`);
      const env = await startDesignEnv({
        lagWindowMs: o.lagWindowMs,
        world: o.world,
        design: run.design,
        story: `node-replaced-${run.node}`,
        pollIntervalMs: o.pollIntervalMs,
        seed: o.seed,
        viaEndpoint: true,
        readers: {
          count: PROCESSES,
          settings: {
            rate: size.rate,
            durationS: size.durationS,
            // A key set the warm-up fills (about 400 keys): the baseline is a warm cache's.
            catalogSize: 100,
            mix: { product: 0.7, promo: 0.1, review: 0.2, reco: 0 },
          },
        },
      });
      try {
        const readers = env.group;
        const stream = startChangeStream(env, {
          perSecond: 5,
          hotProducts: 100,
          users: 200,
          seed: o.seed,
          productShare: 1,
        });
        readers.start();
        await sleep(killAfterMs);
        const killedAt = Date.now();
        env.primary.kill();
        await sleep(o.failoverMs);
        if (run.node === 'replica' && env.replica !== undefined) {
          await env.replica.client.replicaof('NO', 'ONE');
          env.primary = env.replica;
          env.replica = undefined;
        } else {
          env.primary = await startRedisNode();
        }
        env.endpoint.retarget(env.primary.port);
        const switchedAt = Date.now();
        await readers.finished();
        await stream.stop();
        const load = (await (await fetch(`${env.originUrl}/_sim/load`)).json()) as LoadSeries;
        const analysis = await analyzeReads(env, o.lagWindowMs);
        const end = analysis.reads.reduce((m, r) => Math.max(m, r.t), 0);
        const b = bucketsOf(load);
        const ms = load.bucketMs;
        const baselinePerS = callsIn(b, killedAt - 3_000, killedAt, ms) / 3;
        const normal = Math.max(1.5 * baselinePerS, baselinePerS + 5);
        let peakPerS = 0;
        let backAt: number | undefined;
        for (let t = Math.floor(killedAt / ms) * ms; t + 1_000 <= end; t += ms) {
          const rate = callsIn(b, t, t + 1_000, ms);
          peakPerS = Math.max(peakPerS, rate);
          if (backAt === undefined && t >= switchedAt && rate <= normal) backAt = t + 1_000;
        }
        const outageErrors = analysis.reads.filter((r) => r.err !== undefined && r.t >= killedAt).length;
        figures[run.row] = {
          node: run.node,
          reads: analysis.reads.length,
          baselinePerS,
          coldStartCalls: callsIn(b, switchedAt, switchedAt + COLD_WINDOW_MS, ms),
          baselineCallsIn5s: baselinePerS * 5,
          peakPerS,
          backToNormalMs: backAt === undefined ? null : backAt - killedAt,
          observedAfterKillMs: end - killedAt,
          failoverMs: switchedAt - killedAt,
          readErrors: outageErrors,
          judged: analysis.staleness.total.judged,
          staleBeyondWindow: analysis.staleness.total.staleBeyondWindow,
        };
      } finally {
        await env.close();
      }
    }
    const W = o.lagWindowMs;
    const columns = [
      'node after the loss',
      'origin baseline /s',
      'origin calls 5 s after switch',
      'origin peak /s',
      'back to normal after loss',
      'read errors',
      `reads stale > ${W} ms`,
    ];
    const rows = runs.map((run) => {
      const f = figures[run.row] ?? {};
      const n = (k: string) => (typeof f[k] === 'number' ? f[k] : 0);
      return {
        design: run.row,
        cells: {
          'node after the loss': run.node === 'replica' ? 'promoted replica' : 'empty node',
          'origin baseline /s': n('baselinePerS').toFixed(1),
          'origin calls 5 s after switch': `${n('coldStartCalls')} (baseline ${Math.round(n('baselineCallsIn5s'))})`,
          'origin peak /s': String(n('peakPerS')),
          'back to normal after loss':
            f.backToNormalMs === null
              ? `> ${(n('observedAfterKillMs') / 1000).toFixed(1)} s`
              : `${(n('backToNormalMs') / 1000).toFixed(1)} s`,
          'read errors': String(n('readErrors')),
          [`reads stale > ${W} ms`]: `${n('staleBeyondWindow')} (${share(n('staleBeyondWindow'), n('judged'))})`,
        },
      };
    });
    const skipped = o.designs.filter((d) => d.lostNode === 'none').map((d) => d.name);
    return {
      story: 'node-replaced',
      title: this.title,
      columns,
      rows,
      verdicts: [],
      notes: [
        `the primary is killed ${(killAfterMs / 1000).toFixed(1)} s into the reads; the endpoint switches ${o.failoverMs} ms later (the fast profile; ElastiCache: tens of seconds)`,
        ...(skipped.length > 0 ? [`${skipped.join(', ')}: no shared cache, nothing to lose (not run)`] : []),
      ],
      figures,
    };
  },
};
