import { describe, expect, it } from 'vitest';
import {
  formatTable,
  renderHtml,
  repetitionRow,
  totalRow,
  totals,
} from '../../../src/drills/drill-report.ts';
import type { RepetitionResult } from '../../../src/drills/run-drills.ts';

const rep = (
  n: number,
  over: Partial<RepetitionResult['summary'] & object> = {},
  pass = true,
  design: RepetitionResult['design'] = 'ours',
): RepetitionResult => ({
  drill: 'worker-sigkill',
  profile: 'fast',
  design,
  repetition: n,
  startedAt: 0,
  durationMs: 1,
  summary: {
    published: 100,
    applied: 100,
    notApplied: 0,
    lost: 0,
    stuck: 0,
    lostIds: [],
    lagP99DuringFaultMs: 900 + n,
    lagMaxMs: 1_000,
    recovered: true,
    recoveryMs: 10_000 + n * 1_000,
    recoveryAfterReachableMs: null,
    fleetReadyAt: 0,
    readsChecked: 1_000,
    staleReads: n,
    staleOutsideWindow: n,
    ...over,
  },
  dlq: { total: 1, valid: 0 },
  resurrected: 0,
  resurrectedSample: [],
  originPeakPerS: 40 + n,
  originPeakByEndpoint: {},
  originBudgetPerS: 200,
  drained: true,
  rss: { maxMiB: 150, slopeMiBPerMin: null },
  fault: { injectedAt: 0, healedAt: 0 },
  faultS: { from: 5, to: 15 },
  timeline: [
    {
      s: 0,
      published: 1,
      applied: 1,
      lagP99Ms: 20,
      originCalls: 3,
      staleReads: 0,
      readyWorkers: 2,
      rssMaxMiB: 150,
    },
  ],
  verdict: { pass, failures: pass ? [] : ['3 stale reads beyond the lag window'] },
});

describe('drill report', () => {
  it('sums a drill over its repetitions and keeps the worst figures', () => {
    const [t] = totals([rep(1), rep(2, { lost: 1, stuck: 2 }, false), rep(3)]);
    expect(t).toMatchObject({
      drill: 'worker-sigkill',
      repetitions: 3,
      passed: 2,
      published: 300,
      lost: 1,
      stuck: 2,
      staleReads: 6,
      readsChecked: 3_000,
      originPeakPerS: 43,
      lagP99DuringFaultMaxMs: 903,
      recoveryP50Ms: 12_000,
      recoveryMaxMs: 13_000,
    });
  });

  it('totals the recovery after reachable: p50, max, how many within 5 s, and the fleet share beside', () => {
    const reps = [
      rep(1, {
        recoveryAfterReachableMs: 3_000,
        recoveryAfterReachableFleetMs: 1_000,
        deliveryLagP99InFaultMs: 50,
      }),
      rep(2, {
        recoveryAfterReachableMs: 9_000,
        recoveryAfterReachableFleetMs: 2_000,
        deliveryLagP99InFaultMs: 7_000,
      }),
      rep(3, {
        recoveryAfterReachableMs: 4_000,
        recoveryAfterReachableFleetMs: 6_000,
        deliveryLagP99InFaultMs: 60,
      }),
    ];

    const [t] = totals(reps);
    const cells = totalRow(t!);

    expect(t).toMatchObject({
      recoveryAfterReachableP50Ms: 4_000,
      recoveryAfterReachableMaxMs: 9_000,
      recoveryAfterReachableWithinTarget: 2,
      recoveryAfterReachableFleetP50Ms: 2_000,
      recoveryAfterReachableFleetMaxMs: 6_000,
      recoveryAfterReachableFleetWithinTarget: 2,
    });
    expect(cells.at(-1)).toBe('p50 4.0 s, max 9.0 s, 2/3 <= 5 s; fleet p50 2.0 s, max 6.0 s, 2/3 <= 5 s');
    expect(repetitionRow(reps[1]!).at(-1)).toBe('9.0 s (fleet 2.0 s; delivery p99 7.0 s)');
  });

  it('totals per drill x profile x design, in the order the repetitions came, and names the design in each row', () => {
    const naive = (n: number, pass: boolean) => rep(n, { staleReads: 100 * n }, pass, 'naive');
    const elastic = { ...rep(1), profile: 'elasticache' as const };

    const ts = totals([rep(1), rep(2), naive(1, false), elastic, rep(3), naive(2, true)]);

    expect(ts.map((t) => [t.drill, t.profile, t.design, t.repetitions, t.passed])).toEqual([
      ['worker-sigkill', 'fast', 'ours', 3, 3],
      ['worker-sigkill', 'fast', 'naive', 2, 1],
      ['worker-sigkill', 'elasticache', 'ours', 1, 1],
    ]);
    // Ours' figures are not mixed with the naive ones.
    expect(ts[0]).toMatchObject({ staleReads: 6, published: 300 });
    expect(ts[1]).toMatchObject({ staleReads: 300, published: 200 });
    expect(totalRow(ts[1]!).slice(0, 5)).toEqual(['worker-sigkill', 'fast', 'naive', 'x2', '1/2 pass']);
    expect(repetitionRow(naive(1, false)).slice(0, 4)).toEqual(['worker-sigkill', 'fast', 'naive', '1']);
    const text = formatTable(ts.map(totalRow)).split('\n');
    expect(totalRow(ts[0]!)[9]).toBe('0');
    expect(text[0]).toMatch(/^drill\s+profile\s+design\s+rep\s+verdict/);
  });

  it('shows the values written back during the run beside the at-rest resurrections, only when there are any', () => {
    const withAudit = (n: number, writtenBack: number): RepetitionResult => ({
      ...rep(n, {}, false, 'naive'),
      audit: {
        checked: 10,
        inconsistent: writtenBack,
        outsideWindow: writtenBack,
        missed: 0,
        byFamilyWindow: {},
        findingsSample: [],
        writtenBackAfterApply: writtenBack,
      },
    });

    const [t] = totals([withAudit(1, 3), withAudit(2, 4)]);

    expect(t?.writtenBackInRun).toBe(7);
    expect(totalRow(t!)[9]).toBe('0 (in run: 7)');
    expect(repetitionRow(withAudit(1, 3))[9]).toBe('0 (in run: 3)');
    expect(repetitionRow(withAudit(1, 0))[9]).toBe('0');
  });

  it('prints a row per repetition with its failures, and the same table as Markdown', () => {
    const row = repetitionRow(rep(1, {}, false));
    expect(row).toContain('FAIL: 3 stale reads beyond the lag window');
    expect(row).toContain('1 / 1000 (1)');
    const md = formatTable([row], true).split('\n');
    expect(md[1]).toMatch(/^\| --- \|/);
    expect(md).toHaveLength(3);
  });

  it('marks the fault window and the budget on the chart', () => {
    const html = renderHtml({
      command: 'npm run drill -- worker-sigkill',
      machine: 'm',
      startedAt: 'a',
      finishedAt: 'b',
      options: {},
      totals: totals([rep(1)]),
      repetitions: [rep(1)],
    });
    expect(html).toContain('fill="#f4c7c3"');
    expect(html).toContain('stroke-dasharray="4 3"');
    expect(html).toContain('worker-sigkill (fast, ours) #1: pass');
    expect(html).toContain('<th>design</th>');
  });
});
