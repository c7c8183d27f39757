import { describe, expect, it } from 'vitest';
import { windowOf, windowStartMs } from '../../../src/refresh/refresh-window.ts';
import { isAckable } from '../../../src/refresh/refresh-result.ts';
import type { RefreshResult } from '../../../src/refresh/refresh-result.ts';
import { retryDelayMs } from '../../../src/refresh/retry-policy.ts';

describe('refresh window naming', () => {
  it.each([
    ['2026-11-22T10:00:00Z', '2026-11-22T10Z'],
    ['2026-11-22T10:59:59.999Z', '2026-11-22T10Z'],
    ['2026-11-22T11:00:00.000Z', '2026-11-22T11Z'],
    // Offsets are normalised to UTC: two schedulers in different zones name the same window.
    ['2026-11-22T19:00:00+09:00', '2026-11-22T10Z'],
    ['2026-11-22T05:30:00-05:00', '2026-11-22T10Z'],
  ])('names the window of %s as %s', (scheduledAt, window) => {
    expect(windowOf(scheduledAt)).toBe(window);
  });

  it('gives a tick delivered late the window it was scheduled for', () => {
    expect(windowOf('2026-11-22T10:00:00Z')).toBe(windowOf(Date.parse('2026-11-22T10:00:00Z') + 59 * 60_000));
    expect(windowStartMs(windowOf('2026-11-22T10:42:00Z'))).toBe(Date.parse('2026-11-22T10:00:00Z'));
  });

  it('refuses a date that does not parse', () => {
    expect(() => windowOf('yesterday')).toThrow();
  });
});

describe('refresh result and retry policy', () => {
  it('does not ack an aborted run (its tick must come back to resume)', () => {
    const base = { window: 'w', total: 0, written: 0, failed: 0, refused: 0, missing: 0 };
    const result = (status: RefreshResult['status']): RefreshResult => ({
      ...base,
      status,
      skippedAlreadyDone: 0,
      originCalls: 0,
      durationMs: 0,
      failures: [],
    });
    expect(isAckable(result('aborted'))).toBe(false);
    for (const s of ['completed', 'skipped-duplicate', 'skipped-done', 'skipped-stale'] as const)
      expect(isAckable(result(s))).toBe(true);
  });

  it('backs off exponentially with full jitter, capped', () => {
    const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 300 };
    expect(retryDelayMs(1, policy, () => 0.999)).toBe(99);
    expect(retryDelayMs(2, policy, () => 0.5)).toBe(100);
    expect(retryDelayMs(3, policy, () => 0.999)).toBe(299);
    expect(retryDelayMs(9, policy, () => 0)).toBe(0);
  });
});
