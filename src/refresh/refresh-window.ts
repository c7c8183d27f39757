/**
 * Naming of a refresh window: the hourly slot a `refresh.tick` stands for, and the Redis
 * keys that coordinate the one run of that slot (lock, checkpoint, outcome). Pure.
 *
 * Every key of a window shares one hash tag, `{refresh:<tenant>:<window>}`, so in cluster
 * mode they live in one slot (a future script may touch several of them at once), while
 * different windows and tenants spread over the slots.
 */
import { InvalidIdentifierError } from '../core/errors.ts';
import { NAMESPACE, TENANT, matchesRule } from '../core/identifier-rules.ts';

/** Length of a refresh window: the schedule is hourly. */
export const WINDOW_MS = 60 * 60 * 1000;

/** A window id such as `2026-11-22T10Z` (UTC hour of the tick's schedule; no `:`). */
export type WindowId = string & { readonly __windowId: true };

/** The Redis keys of one window. */
export interface WindowKeys {
  /** SET NX PX owner token: the run lock. */
  readonly lock: string;
  /** The run's key list (JSON array of ids), written once by the first run of the window. */
  readonly todo: string;
  /** Set of ids finished in this window (written, or refused by a newer fence/version). */
  readonly done: string;
  /** Hash id -> error code of the ids that failed every attempt (for the report). */
  readonly failed: string;
  /** The outcome of the completed run (JSON); its presence means "window completed". */
  readonly state: string;
}

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

/** The keys of `window` for `tenant` under `namespace`. */
export function windowKeys(namespace: string, tenant: string, window: WindowId): WindowKeys {
  if (!matchesRule(NAMESPACE, namespace))
    throw new InvalidIdentifierError('namespace', NAMESPACE.description);
  if (!matchesRule(TENANT, tenant)) throw new InvalidIdentifierError('tenant', TENANT.description);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}Z$/.test(window))
    throw new InvalidIdentifierError('window', 'must be YYYY-MM-DDTHHZ');
  const prefix = `${namespace}:{refresh:${tenant}:${window}}`;
  return {
    lock: `${prefix}:lock`,
    todo: `${prefix}:todo`,
    done: `${prefix}:done`,
    failed: `${prefix}:failed`,
    state: `${prefix}:state`,
  };
}
