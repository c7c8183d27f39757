/**
 * The designs the scenarios compare (the first seed's alternatives), each a mode of the same
 * demo Orchestrator (src/orchestrator-sim/reader-settings.ts `mode`) and of the same
 * invalidator (the worker fleet, run on events, on a 60 s poll, or not at all). Nothing
 * here is hand-tuned per design: a design is only this row.
 */
import type { ReaderMode } from '../orchestrator-sim/reader-settings.ts';

export const DESIGN_NAMES = ['ours', 'naive', 'polling', 'ttl-l1', 'local-flight'] as const;
export type DesignName = (typeof DESIGN_NAMES)[number];

export interface Design {
  readonly name: DesignName;
  /** What the row stands for, in the seed's words. */
  readonly label: string;
  /** The demo Orchestrator's mode. */
  readonly reader: ReaderMode;
  /** Whether the readers keep a per-process L1. */
  readonly l1: boolean;
  /** How invalidations reach the cache: the worker on every event, a poll of the queues, none. */
  readonly invalidator: 'events' | 'poll' | 'none';
  /** What replaces a lost primary: the promoted replica, an empty node, or nothing (no shared cache). */
  readonly lostNode: 'replica' | 'empty' | 'none';
}

export const DESIGNS: Readonly<Record<DesignName, Design>> = Object.freeze({
  ours: {
    name: 'ours',
    label: 'cache client: fleet lease + fence, L1 flushed by broadcast, event-driven worker',
    reader: 'client',
    l1: true,
    invalidator: 'events',
    lostNode: 'replica',
  },
  naive: {
    name: 'naive',
    label: 'plain cache-aside: no fence, no lease, TTL-only L1 (worker deletes on events)',
    reader: 'naive',
    l1: true,
    invalidator: 'events',
    lostNode: 'replica',
  },
  polling: {
    name: 'polling',
    label: 'Memcached alternative: plain cache-aside, no pub/sub, the queues polled every 60 s',
    reader: 'naive',
    l1: false,
    invalidator: 'poll',
    lostNode: 'empty',
  },
  'ttl-l1': {
    name: 'ttl-l1',
    label: 'alternative 3: per-task TTL L1 only, no shared cache',
    reader: 'ttl-l1',
    l1: true,
    invalidator: 'none',
    lostNode: 'none',
  },
  'local-flight': {
    name: 'local-flight',
    label: "alternative 5's failure: single-flight inside each process only, no fence (worker deletes)",
    reader: 'local-flight',
    l1: false,
    invalidator: 'events',
    lostNode: 'replica',
  },
});

/** Parses a comma list of design names ("all" for every design). */
export function parseDesigns(list: string): Design[] {
  if (list === 'all') return DESIGN_NAMES.map((n) => DESIGNS[n]);
  const names = list
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const unknown = names.filter((n) => !(DESIGN_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0)
    throw new Error(`designs must be "all" or a list of ${DESIGN_NAMES.join(', ')}; got "${list}"`);
  return names.map((n) => DESIGNS[n as DesignName]);
}
