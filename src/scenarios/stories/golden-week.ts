/**
 * golden-week: the first seed's story. Shoppers browse; at flash-sale start the
 * "golden-week" promotion is activated on the busiest store section (manga-home) at the
 * origin, which publishes promotion.activated. Counted from the read traces: reads of
 * manga-home that began after the change and returned the old promotion, those that began
 * after the fleet's promo lag (origin time -> the last reader's L1 drop of the event, from the
 * readers' l1 events; without them -> broadcast, the event-driven worker's /lag.json p99), and
 * the users who saw it. A background stream of product and session changes
 * runs throughout, so every family's reads are judged for staleness too. The reads last the
 * run's length and, for an event-driven design, until 3 s after its worker applied the
 * promotion's event (at most 60 s): LocalStack's SNS -> SQS delivery on a loaded machine
 * takes seconds, and a run that ends first would count nothing after the lag p99.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DesignEnv } from '../scenario-world.ts';
import { startDesignEnv } from '../scenario-world.ts';
import { analyzeReads, readL1Heard, share, staleReadSplit, startChangeStream } from '../read-analysis.ts';
import { formatSplit, hopDurations, lastL1DropMs } from '../stale-read-split.ts';
import { designRows, sizeOf } from '../story.ts';
import { checkReadStaleness } from '../../consistency/read-staleness.ts';
import type { Story, StoryOptions, StoryResult, Verdict } from '../story.ts';

const SECTION = 'manga-home';
const PROCESSES = 3;
const DEFAULTS = { processes: PROCESSES, rate: 150, reads: 5_400, minS: 6 };
/** How long the reads may go on waiting for the worker to apply the promotion's event. */
const LANDING_CAP_S = 60;
/** Staleness is also reported beyond these windows (the auditor's 10 s and 60 s). */
const WIDER_WINDOWS_MS = [10_000, 60_000] as const;
/** Reads after the event was applied, at least. */
const AFTER_LANDING_MS = 3_000;

/** The promo lag p99 (origin -> broadcast, else -> delete) the worker measured over its life, if any. */
async function promoLagP99(env: DesignEnv): Promise<number | undefined> {
  if (env.worker === undefined) return undefined;
  const report = await env.worker.lag();
  // Since the worker started, i.e. over this design's run (a window could have aged out).
  const promo = report.series.filter((s) => s.family === 'promo' && s.total.count > 0);
  const broadcast =
    promo.find((s) => s.stage === 'origin_to_broadcast') ?? promo.find((s) => s.stage === 'origin_to_delete');
  return broadcast?.total.p99;
}

export const goldenWeek: Story = {
  name: 'golden-week',
  title: 'golden-week: a promotion changes at flash-sale start while users browse the section',
  async run(o: StoryOptions): Promise<StoryResult> {
    const size = sizeOf(o, DEFAULTS);
    const warmS = Math.max(2, size.durationS * 0.25);
    const W = o.lagWindowMs;
    const figures: Record<string, Record<string, number | string | null>> = {};
    const notes: string[] = [];
    const details: Record<string, unknown> = {};
    let fleetLagP99: number | undefined;
    for (const design of o.designs) {
      o.log(`golden-week: ${design.name} (${size.reads} reads over ${size.durationS.toFixed(1)} s)`);
      const env = await startDesignEnv({
        lagWindowMs: o.lagWindowMs,
        world: o.world,
        design,
        story: 'golden-week',
        pollIntervalMs: o.pollIntervalMs,
        seed: o.seed,
        readers: {
          count: PROCESSES,
          settings: {
            rate: size.rate,
            // Stopped by the story: the run's length plus, for an event-driven design, until
            // its worker applied the promotion's event (the emulator's delivery can take seconds).
            durationS: size.durationS + LANDING_CAP_S,
            mix: { promo: 0.4, product: 0.4, reco: 0.1, review: 0.1 },
          },
        },
      });
      try {
        const readers = env.group;
        const stream = startChangeStream(env, { perSecond: 5, hotProducts: 200, users: 2_000, seed: o.seed });
        const startedAt = Date.now();
        readers.start();
        await sleep(warmS * 1000);
        const { event } = await env.change({
          family: 'promotion',
          id: 'golden-week',
          kind: 'activated',
          storeSections: [SECTION],
        });
        const landedAt = await (async () => {
          if (env.worker === undefined) return undefined;
          const worker = env.worker;
          const deadline = Date.now() + LANDING_CAP_S * 1000;
          while (Date.now() < deadline) {
            const report = await worker.lag().catch(() => undefined);
            if (report?.series.some((x) => x.family === 'promo' && x.total.count > 0)) return Date.now();
            await sleep(250);
          }
          return undefined;
        })();
        const endAt = Math.max(startedAt + size.durationS * 1000, (landedAt ?? 0) + AFTER_LANDING_MS);
        if (endAt > Date.now()) await sleep(endAt - Date.now());
        await readers.stop();
        await stream.stop();
        // Events not applied by now: in a queue, or still inside the emulator when this is 0.
        const depthAtEnd =
          env.tap === undefined ? undefined : await o.world.queueDepth().catch(() => undefined);
        // The promotion's lag ends where its invalidation takes effect: when the last reader's
        // L1 dropped it (pub/sub delivery to a busy reader took up to 0.9 s after the broadcast
        // on a loaded machine), known when the readers record it; else at the broadcast.
        const promotion = env.changes.find((c) => c.family === 'promotion');
        const lastDrop =
          promotion === undefined || env.tap === undefined
            ? undefined
            : lastL1DropMs(readL1Heard(env), promotion.eventId);
        const broadcastLag = await promoLagP99(env).catch(() => undefined);
        const ownLag =
          lastDrop === undefined || promotion === undefined
            ? broadcastLag
            : Math.max(broadcastLag ?? 0, lastDrop - promotion.originAtMs);
        if (design.name === 'ours') fleetLagP99 = ownLag;
        const analysis = await analyzeReads(env, W);
        const section = analysis.history.entities.find((e) => e.family === 'promo' && e.id === SECTION);
        const newest = section?.versions.at(-1);
        if (newest === undefined) throw new Error('the origin recorded no promotion change');
        const changeAt = newest.at;
        const lagP99 = fleetLagP99 ?? ownLag ?? W;
        const after = analysis.reads.filter(
          (r) =>
            r.family === 'promo' && r.id === SECTION && r.err === undefined && r.t - (r.ms ?? 0) >= changeAt,
        );
        const old = after.filter((r) => typeof r.v === 'number' && r.v < newest.v);
        const oldAfterLag = old.filter((r) => r.t - (r.ms ?? 0) > changeAt + lagP99);
        const users = new Set(old.map((r) => r.u).filter((u) => u !== undefined));
        const usersAfterLag = new Set(oldAfterLag.map((r) => r.u).filter((u) => u !== undefined));
        const lastOld = old.reduce((m, r) => Math.max(m, r.t - (r.ms ?? 0) - changeAt), -1);
        const st = analysis.staleness;
        const wider = WIDER_WINDOWS_MS.map((w) =>
          checkReadStaleness(analysis.reads, analysis.history, { lagWindowMs: w }),
        );
        const split = staleReadSplit(env, analysis, W);
        details[design.name] = {
          staleness: st,
          staleBeyond: Object.fromEntries(wider.map((r) => [r.lagWindowMs, r.total])),
          ...(split === undefined
            ? {}
            : {
                staleSplit: {
                  ...split,
                  events: split.events.slice(0, 50).map((e) => ({ ...e, hopsMs: hopDurations(e) })),
                },
              }),
        };
        const promo = st.families.find((f) => f.family === 'promo');
        const endOfReads = analysis.reads.reduce((m, r) => Math.max(m, r.t), 0);
        figures[design.name] = {
          reads: analysis.reads.length,
          eventVersion: event.version,
          changeAt,
          lagP99Ms: lagP99,
          ownLagP99Ms: ownLag ?? null,
          promoBroadcastLagP99Ms: broadcastLag ?? null,
          promoLastL1DropLagMs:
            lastDrop === undefined || promotion === undefined ? null : lastDrop - promotion.originAtMs,
          promoReadsAfterChange: after.length,
          oldPromoAfterChange: old.length,
          oldPromoAfterLagP99: oldAfterLag.length,
          usersSawOld: users.size,
          usersSawOldAfterLagP99: usersAfterLag.size,
          lastOldReadMsAfterChange: lastOld < 0 ? null : lastOld,
          readsAfterChangeMs: endOfReads - changeAt,
          judged: st.total.judged,
          staleBeyondWindow: st.total.staleBeyondWindow,
          staleBeyond10s: wider[0]?.total.staleBeyondWindow ?? 0,
          staleBeyond60s: wider[1]?.total.staleBeyondWindow ?? 0,
          promoStaleBeyondWindow: promo?.staleBeyondWindow ?? 0,
          staleSplit: split === undefined ? null : formatSplit(split),
          staleEmulator: split?.emulator ?? null,
          staleFleet: split?.fleet ?? null,
          staleReadSide: split?.readSide ?? null,
          staleUnmatched: split?.byHop.unmatched ?? null,
          staleNotApplied: split?.byHop['not-applied'] ?? null,
          queueDepthAtEnd: depthAtEnd ?? null,
          backgroundChanges: stream.changes,
          polls: env.poller?.ticks.length ?? null,
        };
        if (env.poller !== undefined && env.poller.ticks.length === 0)
          notes.push(
            `${design.name}: no poll came within the run (${Math.round((endOfReads - changeAt) / 1000)} s of reads after the change; the poller runs every ${o.pollIntervalMs / 1000} s from the run's start), so every read after the change kept the old promotion`,
          );
      } finally {
        await env.close();
      }
    }
    const lagShown =
      fleetLagP99 !== undefined
        ? `${Math.round(fleetLagP99)} ms`
        : o.designs.some((d) => d.name === 'ours')
          ? `unknown: ours' worker applied no promo event within the run, the lag window (${W} ms) is used`
          : `unknown: ours did not run, the lag window (${W} ms) is used`;
    const columns = [
      'reads',
      'promo reads after change',
      'old promo after change',
      `old promo after lag p99`,
      'users who saw it',
      'last old read (ms after change)',
      `reads stale > ${W} ms`,
      `stale > ${W} ms: where the event was`,
      'stale > 10 s',
      'stale > 60 s',
    ];
    const rows = designRows(o.designs, figures, (n, f) => ({
      reads: String(n('reads')),
      'promo reads after change': String(n('promoReadsAfterChange')),
      'old promo after change': String(n('oldPromoAfterChange')),
      'old promo after lag p99': String(n('oldPromoAfterLagP99')),
      'users who saw it': `${n('usersSawOld')} (${n('usersSawOldAfterLagP99')} after p99)`,
      'last old read (ms after change)':
        f.lastOldReadMsAfterChange === null ? '-' : String(Math.round(n('lastOldReadMsAfterChange'))),
      [`reads stale > ${W} ms`]: `${n('staleBeyondWindow')} (${share(n('staleBeyondWindow'), n('judged'))})`,
      [`stale > ${W} ms: where the event was`]: typeof f.staleSplit === 'string' ? f.staleSplit : '-',
      'stale > 10 s': `${n('staleBeyond10s')} (${share(n('staleBeyond10s'), n('judged'))})`,
      'stale > 60 s': `${n('staleBeyond60s')} (${share(n('staleBeyond60s'), n('judged'))})`,
    }));
    notes.unshift(
      `lag p99 = the promo lag of ours in this run, origin -> the last reader's L1 drop (else -> broadcast, the worker's p99): ${lagShown}`,
      `where the event was when each read stale beyond ${W} ms began (src/scenarios/stale-read-split.ts): emulator = not yet in the SQS queue (publish), in it but not handed to a receive (queue), or handed out with LocalStack's answer not yet back (answer); fleet = in the worker or broadcast but not yet dropped by that reader's L1; read side = that L1 had dropped it and the read was still stale`,
    );
    for (const d of o.designs) {
      const f = figures[d.name];
      if (typeof f?.staleNotApplied === 'number' && f.staleNotApplied > 0)
        notes.push(
          `${d.name}: ${f.staleNotApplied} stale reads were of events the worker had not applied by the end of the reads; the queues then held ${f.queueDepthAtEnd ?? 'unknown'} messages`,
        );
    }
    const verdicts: Verdict[] = [];
    const ours = figures.ours;
    if (ours !== undefined)
      verdicts.push({
        what: 'golden-week, ours: 0 reads of the old promotion after lag p99',
        ok: ours.oldPromoAfterLagP99 === 0 && (ours.promoReadsAfterChange as number) > 0,
        detail: `${ours.oldPromoAfterLagP99} of ${ours.promoReadsAfterChange} reads after the change (lag p99 ${lagShown})`,
      });
    return { story: 'golden-week', title: this.title, columns, rows, verdicts, notes, figures, details };
  },
};
