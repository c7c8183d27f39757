/**
 * The L1 broadcast wire format (documented in docs/l1-broadcast.md): one JSON message per
 * applied batch, plus periodic heartbeats, both carrying the channel's sequence number.
 */
import { parseJsonRecord } from './json-record.ts';
import type { BroadcastDraft } from '../../core/invalidation-plan.ts';

// Where broadcasts go; a namespace's channel is built by the key builder (`keys.l1Channel()`).
export type { L1Channel } from '../../core/key-builder.ts';

/** Format version carried in every message as `v`. */
export const BROADCAST_FORMAT_VERSION = 1;

/** An invalidation: drop these keys and every entry guarded by these fences. */
export interface InvalidateMessage {
  readonly v: 1;
  readonly type: 'invalidate';
  readonly seq: number;
  readonly publishedAtMs: number;
  readonly keys: readonly string[];
  readonly fences: readonly string[];
  readonly eventIds: readonly string[];
  readonly originTimeMs: number;
}

/** A heartbeat: the sequence number of the last broadcast published on this channel. */
export interface HeartbeatMessage {
  readonly v: 1;
  readonly type: 'heartbeat';
  readonly seq: number;
  readonly publishedAtMs: number;
}

export type BroadcastMessage = InvalidateMessage | HeartbeatMessage;

/**
 * The one writer of an `invalidate` message: the whole message but `seq` and
 * `publishedAtMs`, which only Redis can assign (atomically with the PUBLISH). Both paths send
 * this body: apply-batch-n.lua (standalone/Sentinel) and broadcast-1.lua (cluster) splice
 * those two fields in front and write nothing else, so the format lives here alone.
 */
export function encodeInvalidateBody(draft: BroadcastDraft): string {
  return JSON.stringify({
    v: BROADCAST_FORMAT_VERSION,
    type: 'invalidate',
    keys: draft.keys,
    fences: draft.fences,
    eventIds: draft.eventIds,
    originTimeMs: draft.originTimeMs,
  });
}

const isStringArray = (x: unknown): x is string[] =>
  Array.isArray(x) && x.every((s) => typeof s === 'string');
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Parses a message; undefined when it is not a valid broadcast (the subscriber then flushes). */
export function parseBroadcast(raw: string): BroadcastMessage | undefined {
  const o = parseJsonRecord(raw);
  if (o === undefined) return undefined;
  if (o.v !== BROADCAST_FORMAT_VERSION || !isCount(o.seq) || typeof o.publishedAtMs !== 'number')
    return undefined;
  if (o.type === 'heartbeat') return { v: 1, type: 'heartbeat', seq: o.seq, publishedAtMs: o.publishedAtMs };
  if (o.type !== 'invalidate') return undefined;
  if (!isStringArray(o.keys) || !isStringArray(o.fences) || !isStringArray(o.eventIds)) return undefined;
  if (typeof o.originTimeMs !== 'number') return undefined;
  return {
    v: 1,
    type: 'invalidate',
    seq: o.seq,
    publishedAtMs: o.publishedAtMs,
    keys: o.keys,
    fences: o.fences,
    eventIds: o.eventIds,
    originTimeMs: o.originTimeMs,
  };
}
