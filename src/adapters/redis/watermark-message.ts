/**
 * The pipeline watermark wire format (decision 0022, docs/l1-broadcast.md): a worker that has
 * handled a `pipeline.canary` publishes, on the namespace's watermark channel
 * (`<ns>:l1:watermark`, a sibling of the L1 channel, so L1 subscribers of an older release
 * never see a message type they would flush on), the canary's topic and origin time. The read
 * side keeps the newest per topic (src/client/pipeline-watermark.ts).
 *
 *   {"v":1,"type":"watermark","topic":"catalog","originTimeMs":1764612345678,"queue":"catalog"}
 */
import { parseJsonRecord } from './json-record.ts';
import type { CanaryTopic } from '../../core/events/canary-events.ts';
import { CANARY_TOPICS } from '../../core/events/canary-events.ts';

export const WATERMARK_FORMAT_VERSION = 1;

export interface WatermarkMessage {
  readonly v: 1;
  readonly type: 'watermark';
  readonly topic: CanaryTopic;
  /** The canary's origin time (its `occurredAt`, the publisher's clock at publish). */
  readonly originTimeMs: number;
  /** The queue whose worker applied it. */
  readonly queue: string;
}

/** The watermark channel of a namespace. */
export function watermarkChannel(namespace: string): string {
  return `${namespace}:l1:watermark`;
}

export function encodeWatermark(m: Omit<WatermarkMessage, 'v' | 'type'>): string {
  return JSON.stringify({ v: WATERMARK_FORMAT_VERSION, type: 'watermark', ...m });
}

/** Parses a watermark message; undefined when it is not one (ignored, never trusted). */
export function parseWatermark(raw: string): WatermarkMessage | undefined {
  const o = parseJsonRecord(raw);
  if (o === undefined) return undefined;
  if (o.v !== WATERMARK_FORMAT_VERSION || o.type !== 'watermark') return undefined;
  if (typeof o.topic !== 'string' || !(CANARY_TOPICS as readonly string[]).includes(o.topic))
    return undefined;
  if (typeof o.originTimeMs !== 'number' || !Number.isFinite(o.originTimeMs)) return undefined;
  if (typeof o.queue !== 'string' || o.queue.length > 64) return undefined;
  return {
    v: 1,
    type: 'watermark',
    topic: o.topic as CanaryTopic,
    originTimeMs: o.originTimeMs,
    queue: o.queue,
  };
}
