/**
 * The drill command's designs (drill-designs.ts, src/cli/drill.ts): which designs a run takes,
 * how many repetitions each gets, what a design changes in the world, and the exit status.
 */
import { CommanderError, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseDrillArgs } from '../../../src/cli/drill.ts';
import { DRILLS, drillByName } from '../../../src/drills/drill-catalogue.ts';
import { designRuns, exitStatus, parseDrillDesigns, readersOf } from '../../../src/drills/drill-designs.ts';
import { plan } from '../../../src/drills/run-drills.ts';
import { DESIGNS } from '../../../src/scenarios/designs.ts';

const quiet = (c: Command) =>
  c.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
const args = (...a: string[]) => parseDrillArgs(['node', 'drill', ...a], quiet);
const refused = (...a: string[]) => {
  try {
    args(...a);
  } catch (err) {
    if (err instanceof CommanderError) return err.message;
    throw err;
  }
  throw new Error(`accepted: ${a.join(' ')}`);
};
const drill = (name: string) => {
  const d = drillByName(name);
  if (!d) throw new Error(name);
  return d;
};

describe('drill designs: the flags', () => {
  it('runs ours alone by default: existing commands are unchanged', () => {
    const o = args('all');

    expect(o.designs.map((d) => d.name)).toEqual(['ours']);
    expect(o.naiveRepeat).toBe(1);
    expect(o.repeat).toBeUndefined();
    expect(o.eventsPerSGiven).toBe(false);
  });

  it("takes --designs ours,naive as the scenarios' rows, not a second definition", () => {
    const o = args(
      'bus-drop,mass-expiry',
      '--designs',
      'ours, naive',
      '--naive-repeat',
      '2',
      '--size',
      'short',
    );

    expect(o.designs).toEqual([DESIGNS.ours, DESIGNS.naive]);
    expect(o.naiveRepeat).toBe(2);
    expect(o.size).toBe('short');
  });

  it('refuses unknown designs, designs that do not fit a drill world, a design twice, and a bad count', () => {
    expect(refused('all', '--designs', 'ours,memcached')).toMatch(/designs must be "all" or a list of/);
    expect(refused('all', '--designs', 'ours,polling')).toMatch(
      /event-driven worker and a promoted replica .*not polling \(invalidator poll, lost node empty\)/,
    );
    expect(refused('all', '--designs', 'ttl-l1')).toMatch(/not ttl-l1/);
    expect(refused('all', '--designs', 'naive,naive')).toMatch(/listed twice: naive/);
    expect(refused('all', '--designs', 'ours,naive', '--naive-repeat', '0')).toMatch(/whole number >= 1/);
    expect(refused('all', '--designs', 'ours,naive', '--naive-repeat', '1.5')).toMatch(/whole number >= 1/);
    expect(refused('all', '--naive-repeat', '3')).toMatch(/add one with --designs/);
    expect(refused('no-such-drill')).toMatch(/unknown drill "no-such-drill"/);
  });

  it("takes the soak's length and the canary interval, and refuses an interval the worker would refuse", () => {
    const defaults = args('soak');
    expect(defaults.soakMinutes).toBeUndefined();
    expect(defaults.canaryIntervalMs).toBe(250);

    const o = args('soak', '--soak-minutes', '6', '--canary-interval-ms', '1000');
    expect(o.soakMinutes).toBe(6);
    expect(o.canaryIntervalMs).toBe(1000);
    expect(args('soak', '--canary-interval-ms', '0').canaryIntervalMs).toBe(0);

    expect(refused('soak', '--canary-interval-ms', '20')).toMatch(
      /0 \(off\) or a whole number of ms from 50 to 10000/,
    );
    expect(refused('soak', '--canary-interval-ms', '20000')).toMatch(/from 50 to 10000/);
    expect(refused('soak', '--soak-minutes', '0')).toMatch(/number >= 0.1/);
  });

  it('accepts every design whose row has the event-driven worker and a promoted replica', () => {
    expect(() => parseDrillDesigns('all')).toThrow(/not polling.*ttl-l1/);
    expect(parseDrillDesigns('ours,naive,local-flight').map((d) => d.name)).toEqual([
      'ours',
      'naive',
      'local-flight',
    ]);
  });
});

describe('drill designs: repetitions', () => {
  const designs = [DESIGNS.ours, DESIGNS.naive];

  it('a full-count run gives ours its full count and naive one repetition per drill and profile', () => {
    const runs = plan(DRILLS, undefined).map(({ drill: d, profile }) => ({
      drill: d.name,
      profile,
      runs: designRuns(d, { size: 'full', designs }).map((r) => [r.design.name, r.repeat]),
    }));

    expect(runs.find((r) => r.drill === 'worker-sigkill')?.runs).toEqual([
      ['ours', 20],
      ['naive', 1],
    ]);
    expect(runs.filter((r) => r.drill === 'primary-kill')).toEqual([
      {
        drill: 'primary-kill',
        profile: 'fast',
        runs: [
          ['ours', 10],
          ['naive', 1],
        ],
      },
      {
        drill: 'primary-kill',
        profile: 'elasticache',
        runs: [
          ['ours', 10],
          ['naive', 1],
        ],
      },
    ]);
    const ours = runs.reduce((a, r) => a + (r.runs[0]?.[1] as number), 0);
    const naive = runs.reduce((a, r) => a + (r.runs[1]?.[1] as number), 0);
    // The naive rows add one per drill x profile, not a second copy of the table.
    expect(naive).toBe(runs.length);
    expect(ours).toBeGreaterThan(naive * 3);
  });

  it('--repeat counts ours only, --naive-repeat the others; the short size runs each once', () => {
    const d = drill('worker-sigkill');

    expect(designRuns(d, { size: 'full', repeat: 3, otherRepeat: 2, designs })).toMatchObject([
      { design: { name: 'ours' }, repeat: 3 },
      { design: { name: 'naive' }, repeat: 2 },
    ]);
    expect(designRuns(d, { size: 'short', designs }).map((r) => r.repeat)).toEqual([1, 1]);
    expect(designRuns(d, { size: 'full' })).toEqual([{ design: DESIGNS.ours, repeat: 20 }]);
  });

  it('a design changes only the readers: their mode, and an L1 where both the design and the drill keep one', () => {
    expect(readersOf(DESIGNS.ours, drill('bus-drop'))).toEqual({ mode: 'client', l1: true });
    expect(readersOf(DESIGNS.naive, drill('bus-drop'))).toEqual({ mode: 'naive', l1: true });
    expect(readersOf(DESIGNS.naive, drill('mass-expiry'))).toEqual({ mode: 'naive', l1: false });
    expect(readersOf(DESIGNS['local-flight'], drill('bus-drop'))).toEqual({
      mode: 'local-flight',
      l1: false,
    });
  });
});

describe('drill designs: the exit status', () => {
  const r = (design: 'ours' | 'naive', pass: boolean) => ({ design, verdict: { pass } });

  it('is 0 when every repetition of ours passed, whatever the naive ones did', () => {
    expect(exitStatus([r('ours', true), r('naive', false), r('ours', true), r('naive', false)])).toBe(0);
  });

  it('is 1 when one repetition of ours failed, even if every naive one passed', () => {
    expect(exitStatus([r('ours', true), r('naive', true), r('ours', false)])).toBe(1);
  });

  it('counts a repetition without a design as ours (the e2e runner passes none)', () => {
    expect(exitStatus([{ verdict: { pass: false } }])).toBe(1);
    expect(exitStatus([])).toBe(0);
  });
});
