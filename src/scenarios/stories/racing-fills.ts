/**
 * racing fills: readers and writers race on the same 20 products. The origin changes them
 * 40 times a second (each change published, the worker deletes and bumps the fence) while 3
 * reader processes fill the misses from an origin that takes 120 ms: a fill that fetched the
 * old version before a delete and writes it after resurrects it. The L1 is off for the
 * designs that have an L2 (the race is on the shared fill). Every 200 ms, and once after the
 * writers stop and the queues drain, the scenario reads the 20 L2 values and judges each
 * (key, version) against the origin's history: one older than the truth by more than the lag
 * window is a stale value resurrected (or, with no deletes to race, never invalidated).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeStored } from '../../client/cached-value.ts';
import { checkReadStaleness } from '../../consistency/read-staleness.ts';
import type { ReadRecord } from '../../consistency/read-staleness.ts';
import { createKeyBuilder } from '../../core/key-builder.ts';
import { asinOf } from '../../orchestrator-sim/workload.ts';
import { analyzeReads, fetchHistory, share, startChangeStream } from '../read-analysis.ts';
import type { HistorySnapshot } from '../../origin-sim/version-history.ts';
import type { DesignEnv } from '../scenario-world.ts';
import { startDesignEnv } from '../scenario-world.ts';
import { designRows, sizeOf } from '../story.ts';
import type { Story, StoryOptions, StoryResult, Verdict } from '../story.ts';

const PRODUCTS = 20;
const PROCESSES = 3;
const SCAN_MS = 200;
const DEFAULTS = { processes: PROCESSES, rate: 200, reads: 6_000, minS: 4 };

/** A value seen in L2: when it was seen, its version and when it was written (storedAtMs). */
interface L2Sample extends ReadRecord {
  readonly storedAt: number;
}

/** One read of every raced L2 value: (t, id, version, storedAt) of those present. */
async function scanL2(env: DesignEnv): Promise<L2Sample[]> {
  const keys = createKeyBuilder({ namespace: env.namespace, locales: ['en-US'] });
  const ids = Array.from({ length: PRODUCTS }, (_, i) => asinOf(i));
  const names = ids.map((id) => keys.valueKey({ family: 'product', tenant: 'default', id, locale: 'en-US' }));
  const t = Date.now();
  const raws = await env.primary.client.mget(...names).catch(() => []);
  const out: L2Sample[] = [];
  raws.forEach((raw, i) => {
    const stored = raw === null ? undefined : decodeStored(raw);
    if (stored !== undefined)
      out.push({
        t,
        family: 'product',
        id: ids[i] ?? '',
        v: stored.version,
        ms: 0,
        storedAt: stored.storedAtMs ?? 0,
      });
  });
  return out;
}

/**
 * Each distinct L2 value (key, version, write time) seen more than `W` after a newer version
 * became true: written after that change, it was resurrected by a racing fill (its
 * invalidation was due before the scan); written before it, its invalidation had not landed
 * within the window.
 */
function classify(
  samples: readonly L2Sample[],
  history: HistorySnapshot,
  W: number,
): { resurrected: number; notInvalidated: number } {
  const supersededAt = new Map<string, (v: number) => number | undefined>();
  for (const e of history.entities) {
    if (e.family !== 'product') continue;
    const vs = [...e.versions].sort((a, b) => a.v - b.v);
    supersededAt.set(e.id, (v) => vs.find((p) => p.v > v)?.at);
  }
  const seen = new Set<string>();
  let resurrected = 0;
  let notInvalidated = 0;
  for (const s of samples) {
    const at = supersededAt.get(s.id)?.(s.v ?? 0);
    if (at === undefined || s.t - at <= W) continue;
    const key = `${s.id}:${s.v}:${s.storedAt}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (s.storedAt >= at) resurrected++;
    else notInvalidated++;
  }
  return { resurrected, notInvalidated };
}

export const racingFills: Story = {
  name: 'racing-fills',
  title: 'racing fills: readers and writers race on the same 20 products (40 changes/s)',
  async run(o: StoryOptions): Promise<StoryResult> {
    const size = sizeOf(o, DEFAULTS);
    const W = o.lagWindowMs;
    const figures: Record<string, Record<string, number | string | null>> = {};
    for (const design of o.designs) {
      o.log(`racing-fills: ${design.name} (${size.reads} reads over ${size.durationS.toFixed(1)} s)`);
      const env = await startDesignEnv({
        lagWindowMs: o.lagWindowMs,
        world: o.world,
        design,
        story: 'racing-fills',
        pollIntervalMs: o.pollIntervalMs,
        seed: o.seed,
        locales: ['en-US'],
        readers: {
          count: PROCESSES,
          settings: {
            rate: size.rate,
            durationS: size.durationS,
            catalogSize: PRODUCTS,
            skew: 0,
            mix: { product: 1, promo: 0, reco: 0, review: 0 },
            l1Entries: design.reader === 'ttl-l1' ? 10_000 : 0,
          },
        },
      });
      try {
        const readers = env.group;
        const samples: L2Sample[] = [];
        let scanning = true;
        const scanner = (async () => {
          while (scanning) {
            samples.push(...(await scanL2(env)));
            await sleep(SCAN_MS);
          }
        })();
        const stream = startChangeStream(env, {
          perSecond: 40,
          hotProducts: PRODUCTS,
          users: 1,
          seed: o.seed,
          productShare: 1,
        });
        readers.start();
        await readers.finished();
        await stream.stop();
        // Let the last invalidations land (the event-driven worker) before the final look.
        const deadline = Date.now() + 10_000;
        while (design.invalidator === 'events' && Date.now() < deadline && (await o.world.queueDepth()) > 0)
          await sleep(200);
        await sleep(W + 200);
        scanning = false;
        await scanner;
        const final = await scanL2(env);
        const history = await fetchHistory(env.originUrl);
        const l2 = classify([...samples, ...final], history, W);
        const left = checkReadStaleness(final, history, { lagWindowMs: W });
        const analysis = await analyzeReads(env, W);
        const lag = await env.worker?.lag().catch(() => undefined);
        const productLag = lag?.series.find(
          (x) => x.family === 'product' && x.stage === 'origin_to_delete',
        )?.window;
        figures[design.name] = {
          reads: analysis.reads.length,
          changes: stream.changes,
          l2Scans: samples.length === 0 ? 0 : Math.round(samples.length / PRODUCTS),
          resurrected: design.reader === 'ttl-l1' ? null : l2.resurrected,
          notInvalidatedWithinWindow: design.reader === 'ttl-l1' ? null : l2.notInvalidated,
          productLagP99Ms: productLag?.p99 ?? null,
          productLagMaxMs: productLag?.max ?? null,
          staleL2LeftAtEnd: design.reader === 'ttl-l1' ? null : left.total.staleBeyondWindow,
          judged: analysis.staleness.total.judged,
          staleBeyondWindow: analysis.staleness.total.staleBeyondWindow,
          stalenessP99Ms: analysis.staleness.families[0]?.stalenessMs.p99 ?? 0,
        };
      } finally {
        await env.close();
      }
    }
    const columns = [
      'reads',
      'changes',
      'stale values resurrected in L2',
      `not invalidated within ${W} ms`,
      'still stale at the end',
      'delete lag p99 / max (ms)',
      `reads stale > ${W} ms`,
      'staleness p99 (ms)',
    ];
    const rows = designRows(o.designs, figures, (n, f) => ({
      reads: String(n('reads')),
      changes: String(n('changes')),
      'stale values resurrected in L2': f.resurrected === null ? 'n/a (no L2)' : String(n('resurrected')),
      [`not invalidated within ${W} ms`]:
        f.notInvalidatedWithinWindow === null ? 'n/a' : String(n('notInvalidatedWithinWindow')),
      'delete lag p99 / max (ms)':
        f.productLagP99Ms === null
          ? '-'
          : `${Math.round(n('productLagP99Ms'))} / ${Math.round(n('productLagMaxMs'))}`,
      'still stale at the end': f.staleL2LeftAtEnd === null ? 'n/a' : String(n('staleL2LeftAtEnd')),
      [`reads stale > ${W} ms`]: `${n('staleBeyondWindow')} (${share(n('staleBeyondWindow'), n('judged'))})`,
      'staleness p99 (ms)': String(Math.round(n('stalenessP99Ms'))),
    }));
    const verdicts: Verdict[] = [];
    const ours = figures.ours;
    if (ours !== undefined)
      verdicts.push({
        what: 'racing fills, ours: no stale value resurrected',
        ok: ours.resurrected === 0 && ours.staleL2LeftAtEnd === 0 && (ours.changes as number) > 0,
        detail: `${ours.resurrected} resurrected values in L2 over ${ours.l2Scans} scans, ${ours.staleL2LeftAtEnd} stale at the end, ${ours.changes} changes (delete lag max ${ours.productLagMaxMs} ms)`,
      });
    return {
      story: 'racing-fills',
      title: this.title,
      columns,
      rows,
      verdicts,
      notes: [
        `L2 read every ${SCAN_MS} ms; a value (key, version, write time) counts when it was still in L2 more than ${W} ms after a newer version became true: "resurrected" when it was written after that change, "not invalidated" when before (its delete had not landed: the lag, or no deletes at all for polling). "still stale at the end": after the writers stopped and the queues drained`,
      ],
      figures,
    };
  },
};
