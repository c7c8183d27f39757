/**
 * The worker presence wire format (decision 0024, docs/l1-broadcast.md): every
 * `WORKER_PRESENCE_INTERVAL_MS` each worker publishes its id on the namespace's watermark
 * channel (`<ns>:l1:watermark`, the pipeline guard's channel of decision 0022: every reader
 * running the guard already listens there, and L1 subscribers never see it), and, once its
 * drain has finished (nothing received is in hand any more), a last message with
 * `"leaving":true`. A reader of an older release ignores it (`parseWatermark` refuses any
 * other `type`). No timestamp: the reader times presence by its own monotonic clock.
 *
 *   {"v":1,"type":"presence","worker":"ip-10-0-1-7:1:3f9a2c1e","leaving":false}
 */
import { parseJsonRecord } from './json-record.ts';
export const PRESENCE_FORMAT_VERSION = 1;

/** Longest worker id accepted (a hostname, a pid and 8 hex digits fit). */
export const MAX_WORKER_ID_LENGTH = 128;

export interface PresenceMessage {
  readonly v: 1;
  readonly type: 'presence';
  /** Stable for the process's life, new on every start (src/worker/worker-presence.ts). */
  readonly worker: string;
  /** True on the last message, after a completed drain. */
  readonly leaving: boolean;
}

export function encodePresence(worker: string, leaving: boolean): string {
  return JSON.stringify({ v: PRESENCE_FORMAT_VERSION, type: 'presence', worker, leaving });
}

/** Parses a presence message; undefined when it is not one (ignored). */
export function parsePresence(raw: string): PresenceMessage | undefined {
  const o = parseJsonRecord(raw);
  if (o === undefined) return undefined;
  if (o.v !== PRESENCE_FORMAT_VERSION || o.type !== 'presence') return undefined;
  if (typeof o.worker !== 'string' || o.worker.length === 0 || o.worker.length > MAX_WORKER_ID_LENGTH)
    return undefined;
  if (typeof o.leaving !== 'boolean') return undefined;
  return { v: 1, type: 'presence', worker: o.worker, leaving: o.leaving };
}
