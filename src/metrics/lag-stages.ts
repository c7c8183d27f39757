/**
 * The stages of invalidation lag measured for every applied event. Each stage ends when the
 * delete is confirmed (or the broadcast published) and starts at a point further up the
 * pipeline, so comparing stages shows where time is spent.
 */
import type { EventTimeline } from './worker-metrics.ts';

export const LAG_STAGES = [
  'origin_to_delete',
  'origin_to_broadcast',
  'publish_to_delete',
  'sent_to_delete',
  'receive_to_delete',
] as const;
export type LagStage = (typeof LAG_STAGES)[number];

/** The stage alarmed on and shown first: origin time → delete confirmed. */
export const PRIMARY_STAGE: LagStage = 'origin_to_delete';

/** One lag sample of an event, in milliseconds (possibly negative under clock skew). */
export interface StageLag {
  readonly stage: LagStage;
  readonly lagMs: number;
}

/** The lag of each stage the timeline has both ends of. */
export function stageLags(t: EventTimeline): StageLag[] {
  const lags: StageLag[] = [{ stage: 'origin_to_delete', lagMs: t.deleteConfirmedAtMs - t.originAtMs }];
  if (t.broadcastAtMs !== undefined) {
    lags.push({ stage: 'origin_to_broadcast', lagMs: t.broadcastAtMs - t.originAtMs });
  }
  if (t.snsPublishedAtMs !== undefined) {
    lags.push({ stage: 'publish_to_delete', lagMs: t.deleteConfirmedAtMs - t.snsPublishedAtMs });
  }
  if (t.sqsSentAtMs !== undefined) {
    lags.push({ stage: 'sent_to_delete', lagMs: t.deleteConfirmedAtMs - t.sqsSentAtMs });
  }
  lags.push({ stage: 'receive_to_delete', lagMs: t.deleteConfirmedAtMs - t.receivedAtMs });
  return lags;
}

export function isLagStage(value: string): value is LagStage {
  return (LAG_STAGES as readonly string[]).includes(value);
}
