/** The auditor's judgement, case by case (staleness-rule.ts). */
import { describe, expect, it } from 'vitest';
import { judge, type Expectation, type Observation } from '../../../src/auditor/staleness-rule.ts';

const T0 = 1_700_000_000_000;
const byVersion: Expectation = { originTimeMs: T0, minVersion: 5, skewMs: 0 };
const byTime: Expectation = { originTimeMs: T0, skewMs: 0 };

describe('judge', () => {
  it.each<[string, Observation, Expectation, false | string]>([
    ['absent is consistent with any event', { kind: 'absent' }, byVersion, false],
    ['an unreadable value is not judged', { kind: 'unreadable' }, byVersion, false],
    [
      'the event version is fresh',
      { kind: 'value', found: true, version: 5, storedAtMs: T0 - 9 },
      byVersion,
      false,
    ],
    ['a newer version is fresh', { kind: 'value', found: true, version: 6 }, byVersion, false],
    [
      'an older version is stale even when written after the change (behind the fleet)',
      { kind: 'value', found: true, version: 4, storedAtMs: T0 + 5_000 },
      byVersion,
      'older-version',
    ],
    [
      'without a version to compare, stored before the change is stale',
      { kind: 'value', found: true, version: 3, storedAtMs: T0 - 1 },
      byTime,
      'stored-before-change',
    ],
    [
      'without a version to compare, stored after the change is fresh',
      { kind: 'value', found: true, version: 3, storedAtMs: T0 + 1 },
      byTime,
      false,
    ],
    [
      'a cached not-found from before the change is stale',
      { kind: 'value', found: false, version: 0, storedAtMs: T0 - 1 },
      byVersion,
      'stored-before-change',
    ],
    [
      'a cached not-found from after the change is fresh (a delete followed)',
      { kind: 'value', found: false, version: 0, storedAtMs: T0 + 1 },
      byVersion,
      false,
    ],
    [
      'a value of unknown age and no comparable version is not judged',
      { kind: 'value', found: true, version: 1 },
      byTime,
      false,
    ],
    [
      'a generation bumped after the change is fresh',
      { kind: 'generation', value: (T0 + 3) * 1000 },
      byTime,
      false,
    ],
    [
      'a generation older than the change is stale',
      { kind: 'generation', value: (T0 - 3) * 1000 },
      byTime,
      'generation-not-bumped',
    ],
  ])('%s', (_name, observed, expected, rule) => {
    const verdict = judge(observed, expected);

    if (rule === false) expect(verdict.stale).toBe(false);
    else expect(verdict).toMatchObject({ stale: true, rule });
  });

  it('allows the configured clock skew', () => {
    const observed: Observation = { kind: 'value', found: true, version: 1, storedAtMs: T0 - 40 };

    expect(judge(observed, { ...byTime, skewMs: 0 }).stale).toBe(true);
    expect(judge(observed, { ...byTime, skewMs: 50 }).stale).toBe(false);
  });
});
