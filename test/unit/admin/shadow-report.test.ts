/**
 * `admin shadow report`'s merge (shadow-report.ts): workers running the same candidate are
 * summed, others listed apart; the verdict turns UNSAFE on any live-only key or on valid
 * events the candidate would dead-letter.
 */
import { describe, expect, it } from 'vitest';
import { formatShadowReport, mergeShadowReports } from '../../../src/admin/shadow-report.ts';
import type { ShadowReport } from '../../../src/worker/shadow-evaluator.ts';

const report = (instance: string, over: Partial<ShadowReport> = {}): ShadowReport => ({
  enabled: true,
  instance,
  candidate: { name: 'fr', locales: ['en-US', 'ja-JP', 'fr-FR'] },
  since: '2026-12-01T10:00:00.000Z',
  batches: 10,
  batchesDiffering: 4,
  messages: 30,
  errors: 0,
  deletes: { live: 60, candidate: 70, candidateOnly: 10, liveOnly: 0 },
  fences: { live: 30, candidate: 30, candidateOnly: 0, liveOnly: 0 },
  byFamily: { product: { candidateOnly: 10, liveOnly: 0 } },
  decisions: {},
  samples: [],
  ...over,
});

describe('mergeShadowReports', () => {
  it('sums the workers of one candidate and lists the others apart', () => {
    const merged = mergeShadowReports(
      [
        { url: 'http://a', body: report('a') },
        { url: 'http://b', body: report('b', { since: '2026-12-01T09:00:00.000Z' }) },
        { url: 'http://c', body: report('c', { candidate: { name: 'other' } }) },
        { url: 'http://d', body: { enabled: false } },
      ],
      [{ url: 'http://e', error: 'HTTP 401' }],
    );
    expect(merged.workers).toEqual(['http://a', 'http://b']);
    expect(merged.otherWorkers.map((o) => o.url)).toEqual(['http://d', 'http://c']);
    expect(merged.deletes).toEqual({ live: 120, candidate: 140, candidateOnly: 20, liveOnly: 0 });
    expect(merged.byFamily).toEqual({ product: { candidateOnly: 20, liveOnly: 0 } });
    expect([merged.batches, merged.messages, merged.since]).toEqual([20, 60, '2026-12-01T09:00:00.000Z']);
    const text = formatShadowReport(merged);
    expect(text).toContain('it adds 20 deletes');
    expect(text).toContain('! http://e: HTTP 401');
  });

  it.each([
    [
      'a live-only key',
      { deletes: { live: 6, candidate: 5, candidateOnly: 0, liveOnly: 1 } },
      /UNSAFE.*NOT delete 1 keys/,
    ],
    ['valid events dead-lettered', { decisions: { 'apply->poison': 2 } }, /UNSAFE.*dead-letter 2 messages/],
  ])('says UNSAFE on %s', (_what, over, verdict) => {
    expect(formatShadowReport(mergeShadowReports([{ url: 'http://a', body: report('a', over) }]))).toMatch(
      verdict,
    );
  });

  it('says shadow mode is off when no worker runs a candidate', () => {
    const merged = mergeShadowReports([{ url: 'http://a', body: { enabled: false } }]);
    expect(merged.candidate).toBeNull();
    expect(formatShadowReport(merged)).toMatch(/^shadow mode is off/);
  });
});
