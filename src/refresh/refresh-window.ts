/**
 * Naming of a refresh window: the hourly slot a `refresh.tick` stands for. Pure. The Redis
 * keys that coordinate the one run of a window (lock, checkpoint, outcome) are built by the
 * key builder (KeyBuilder.refreshWindowKeys), like every other key.
 */
import { InvalidIdentifierError } from '../core/errors.ts';

/** Length of a refresh window: the schedule is hourly. */
export const WINDOW_MS = 60 * 60 * 1000;

/** A window id such as `2026-11-22T10Z` (UTC hour of the tick's schedule; no `:`). */
export type WindowId = string & { readonly __windowId: true };

/** The window of a tick scheduled at `scheduledAt` (ISO-8601 with offset). */
export function windowOf(scheduledAt: string | number): WindowId {
  const ms = typeof scheduledAt === 'number' ? scheduledAt : Date.parse(scheduledAt);
  if (!Number.isFinite(ms)) throw new InvalidIdentifierError('scheduledAt', 'must be an ISO-8601 date-time');
  const hour = new Date(Math.floor(ms / WINDOW_MS) * WINDOW_MS).toISOString(); // 2026-11-22T10:00:00.000Z
  return `${hour.slice(0, 13)}Z` as WindowId;
}

/** Start of `window`, ms since epoch. */
export function windowStartMs(window: WindowId): number {
  return Date.parse(`${window.slice(0, 13)}:00:00.000Z`);
}
