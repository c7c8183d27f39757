/**
 * Read side (src/client/): the frame of a value the client stores. Pure.
 *
 * On Redis: `<version>|<json>` (fenced-populate.ts encodeVersioned, so populate-2.lua's
 * older-version refusal works), where the JSON is an envelope `{"mc":1,"at":<ms>,"d":<data>}`
 * for a value and `{"mc":1,"at":<ms>,"nf":1}` for a cached "not found" (version 0, so any
 * found value replaces it). `at` is the store time, from which the read policy derives the
 * soft expiry (read-policy.ts). A value written by another writer (the hourly refresh, the
 * warm-up) has no envelope: its JSON is the data itself, of unknown age (treated as fresh).
 */
import { decodeVersioned, encodeVersioned } from './fenced-populate.ts';

/** Version of a cached "not found". */
export const NOT_FOUND_VERSION = 0;

export type StoredValue =
  | { readonly found: true; readonly data: unknown; readonly version: number; readonly storedAtMs?: number }
  | { readonly found: false; readonly version: number; readonly storedAtMs?: number };

/** The envelope JSON for `populate` (which adds the `<version>|` frame). */
export function encodeEnvelope(value: { found: boolean; data?: unknown }, storedAtMs: number): string {
  return JSON.stringify(
    value.found ? { mc: 1, at: storedAtMs, d: value.data ?? null } : { mc: 1, at: storedAtMs, nf: 1 },
  );
}

/** The full stored string (as GET returns it). */
export function encodeStored(value: StoredValue & { storedAtMs: number }): string {
  return encodeVersioned(value.version, encodeEnvelope(value, value.storedAtMs));
}

/** Reads a stored string; undefined when it is not a versioned JSON value (treated as a miss). */
export function decodeStored(raw: string): StoredValue | undefined {
  const framed = decodeVersioned(raw);
  if (framed === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(framed.data);
  } catch {
    return undefined;
  }
  if (isEnvelope(parsed)) {
    return parsed.nf === 1
      ? { found: false, version: framed.version, storedAtMs: parsed.at }
      : { found: true, data: parsed.d ?? null, version: framed.version, storedAtMs: parsed.at };
  }
  return { found: true, data: parsed, version: framed.version };
}

function isEnvelope(v: unknown): v is { mc: 1; at: number; d?: unknown; nf?: 1 } {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    (v as { mc?: unknown }).mc === 1 &&
    typeof (v as { at?: unknown }).at === 'number'
  );
}
