import { describe, expect, it } from 'vitest';
import { parsePauseState, pausedOnly, queuePaused } from '../../../src/admin/pause-switch.ts';

const entry = (paused: boolean) =>
  JSON.stringify({ paused, by: 'op', at: '2026-12-01T00:00:00.000Z', reason: 'r' });

describe('the kill switch state', () => {
  it('pauses a queue by `all` or by its own field', () => {
    const s = parsePauseState({ all: entry(false), sessions: entry(true) });
    expect(queuePaused(s, 'sessions')).toBe(true);
    expect(queuePaused(s, 'catalog')).toBe(false);
    const all = parsePauseState({ all: entry(true), sessions: entry(false) });
    expect(queuePaused(all, 'sessions')).toBe(true);
    expect(Object.keys(pausedOnly(all))).toEqual(['all']);
  });

  it('skips fields that do not parse, instead of pausing or resuming on them', () => {
    const s = parsePauseState({ all: 'not json', catalog: '{"paused":"yes"}', sessions: entry(true) });
    expect(Object.keys(s)).toEqual(['sessions']);
    expect(queuePaused(s, 'catalog')).toBe(false);
  });
});
