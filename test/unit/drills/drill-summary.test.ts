import { describe, expect, it } from 'vitest';
import {
  auditOwnWindow,
  fleetReadyAt,
  percentile,
  slope,
  summarise,
  writtenBackAfterApply,
  type SummaryInput,
} from '../../../src/drills/drill-summary.ts';
import type { PublishedEvent } from '../../../src/drills/event-load.ts';
import type { StaleRead } from '../../../src/drills/stale-reads.ts';

const T0 = 1_800_000_000_000;
const ev = (id: string, at: number, family: PublishedEvent['family'] = 'product'): PublishedEvent => ({
  eventId: id,
  family,
  id: `B${id}`,
  version: 2,
  occurredAtMs: T0 + at,
});
const ready = (points: [number, number][]) => points.map(([t, n]) => ({ t: T0 + t, readyWorkers: n }));
const stale = (t: number): StaleRead => ({
  t: T0 + t,
  family: 'product',
  id: 'B1',
  served: 1,
  truth: 2,
  staleByMs: 3_000,
  src: 'l2',
});

function input(over: Partial<SummaryInput> = {}): SummaryInput {
  return {
    events: [ev('a', 0), ev('b', 1_000), ev('c', 2_000)],
    appliedAt: new Map([
      ['a', T0 + 50],
      ['b', T0 + 1_050],
      ['c', T0 + 2_050],
    ]),
    fault: { injectedAt: T0 + 500, healedAt: T0 + 500 },
    fleet: ready([
      [0, 2],
      [1_000, 2],
      [2_000, 2],
    ]),
    expectedWorkers: 2,
    stale: [],
    readsChecked: 100,
    ...over,
  };
}

describe('summarise', () => {
  it('counts an event no broadcast named as lost, and a run with a lost event never recovers', () => {
    // Prepare
    const appliedAt = new Map([['a', T0 + 50]]);
    // Act
    const s = summarise(input({ appliedAt }));
    // Assess
    expect(s).toMatchObject({
      published: 3,
      applied: 1,
      lost: 2,
      stuck: 0,
      recovered: false,
      recoveryMs: null,
    });
    expect(s.lostIds).toEqual(['b', 'c']);
  });

  it('counts events not applied but still in SQS as stuck, not lost', () => {
    const s = summarise(input({ appliedAt: new Map([['a', T0 + 50]]), stillQueued: 1 }));
    expect(s).toMatchObject({ notApplied: 2, lost: 1, stuck: 1, recovered: false });
  });

  it('recovers at the last apply over its family SLO, even when the fleet was ready earlier', () => {
    const appliedAt = new Map([
      ['a', T0 + 50],
      ['b', T0 + 11_000], // 10 s late: the visibility timeout of a killed worker
      ['c', T0 + 2_100],
    ]);
    const s = summarise(input({ appliedAt }));
    expect(s.recovered).toBe(true);
    expect(s.recoveryMs).toBe(11_000 - 500);
    expect(s.lagMaxMs).toBe(10_000);
    // b and c have origin times inside [injected, recovered]; p99 of two values is the larger.
    expect(s.lagP99DuringFaultMs).toBe(10_000);
  });

  it('uses the family SLO: a promo 1.5 s late is over its 1 s, a review 1.5 s late is not over its 5 s', () => {
    const events = [ev('p', 1_000, 'promo'), ev('r', 2_000, 'review')];
    const promoLate = summarise(
      input({
        events,
        appliedAt: new Map([
          ['p', T0 + 2_500],
          ['r', T0 + 2_100],
        ]),
      }),
    );
    const reviewLate = summarise(
      input({
        events,
        appliedAt: new Map([
          ['p', T0 + 1_100],
          ['r', T0 + 3_500],
        ]),
      }),
    );
    expect(promoLate.recoveryMs).toBe(2_000);
    expect(reviewLate.recoveryMs).toBe(0);
  });

  it('waits for the fleet to be fully ready again', () => {
    const fleet = ready([
      [0, 2],
      [1_000, 1],
      [2_000, 1],
      [3_000, 2],
      [4_000, 2],
    ]);
    const s = summarise(input({ fleet }));
    expect(s.fleetReadyAt).toBe(T0 + 3_000);
    expect(s.recoveryMs).toBe(2_500);
  });

  it('reports the time from the new primary being reachable to recovery', () => {
    const appliedAt = new Map([
      ['a', T0 + 50],
      ['b', T0 + 6_000],
      ['c', T0 + 6_000],
    ]);
    const s = summarise(
      input({ appliedAt, fault: { injectedAt: T0 + 500, healedAt: T0 + 3_000, reachableAt: T0 + 3_000 } }),
    );
    expect(s.recoveryAfterReachableMs).toBe(3_000);
  });

  it("splits the emulator's delivery from the fleet's own recovery when SQS enqueue times are known", () => {
    // Prepare: b and c reached SQS 5 s after their origin time (a loaded LocalStack), and the
    // fleet applied each 100 ms after it could receive it.
    const appliedAt = new Map([
      ['a', T0 + 50],
      ['b', T0 + 6_100],
      ['c', T0 + 7_100],
    ]);
    const deliveredAt = new Map([
      ['a', T0 + 10],
      ['b', T0 + 6_000],
      ['c', T0 + 7_000],
    ]);
    const fault = { injectedAt: T0 + 500, healedAt: T0 + 1_000, reachableAt: T0 + 1_000 };

    // Act
    const s = summarise(input({ appliedAt, deliveredAt, fault }));

    // Assess: the drill's figure holds the delivery; the fleet's excludes it.
    expect(s.recoveryAfterReachableMs).toBe(6_100);
    expect(s.recoveryAfterReachableFleetMs).toBe(0);
    expect(s.deliveryLagP99InFaultMs).toBe(5_000);
  });

  it("counts the fleet's own lag from the origin time when SQS had the message at once", () => {
    const appliedAt = new Map([
      ['a', T0 + 50],
      ['b', T0 + 6_000],
      ['c', T0 + 6_000],
    ]);
    const deliveredAt = new Map([
      ['a', T0 + 10],
      ['b', T0 + 1_010],
      ['c', T0 + 2_010],
    ]);
    const s = summarise(
      input({
        appliedAt,
        deliveredAt,
        fault: { injectedAt: T0 + 500, healedAt: T0 + 3_000, reachableAt: T0 + 3_000 },
      }),
    );
    expect(s.recoveryAfterReachableFleetMs).toBe(3_000);
    expect(s.deliveryLagP99InFaultMs).toBe(10);
  });

  it('leaves the split out without enqueue times', () => {
    const s = summarise(
      input({ fault: { injectedAt: T0 + 500, healedAt: T0 + 500, reachableAt: T0 + 500 } }),
    );
    expect(s.recoveryAfterReachableFleetMs).toBeNull();
    expect(s.deliveryLagP99InFaultMs).toBeNull();
  });

  it("counts stale reads inside the drill's own window apart from the others", () => {
    const s = summarise(
      input({
        stale: [stale(100), stale(5_000), stale(9_000), stale(20_000)],
        fault: {
          injectedAt: T0 + 500,
          healedAt: T0 + 500,
          allowStale: { from: T0 + 4_000, to: T0 + 10_000 },
        },
      }),
    );
    expect(s.staleReads).toBe(4);
    expect(s.staleOutsideWindow).toBe(2);
  });
});

describe('fleetReadyAt', () => {
  it('is the fault time when the fleet never dipped, and Infinity when it never came back', () => {
    const steady = ready([
      [0, 2],
      [1_000, 2],
    ]);
    expect(fleetReadyAt(steady, 2, T0 + 500)).toBe(T0 + 500);
    expect(
      fleetReadyAt(
        ready([
          [0, 2],
          [1_000, 1],
        ]),
        2,
        T0,
      ),
    ).toBe(Number.POSITIVE_INFINITY);
  });

  it('ignores dips before the fault', () => {
    expect(
      fleetReadyAt(
        ready([
          [0, 0],
          [1_000, 2],
          [2_000, 2],
        ]),
        2,
        T0 + 1_500,
      ),
    ).toBe(T0 + 1_500);
  });
});

describe('percentile and slope', () => {
  it('percentile is nearest-rank, null for no values', () => {
    expect(percentile([], 99)).toBeNull();
    expect(percentile([5, 1, 3], 50)).toBe(3);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(99);
  });

  it('slope is the least-squares trend', () => {
    expect(slope([{ x: 0, y: 1 }])).toBe(0);
    expect(slope([0, 1, 2, 3].map((x) => ({ x, y: 2 * x + 5 })))).toBeCloseTo(2);
    expect(slope([0, 1, 2, 3].map((x) => ({ x, y: 7 })))).toBe(0);
  });
});

describe('writtenBackAfterApply', () => {
  const applied = new Map([
    ['e1', 1_000],
    ['e2', 2_000],
  ]);
  const f = (tier: string, key: string, eventId: string, storedAtMs?: number) => ({
    tier,
    key,
    eventId,
    ...(storedAtMs === undefined ? {} : { storedAtMs }),
  });

  it('counts an L2 value stored after its event was applied, once per key and event, on either node', () => {
    const n = writtenBackAfterApply(
      [f('primary', 'k1', 'e1', 1_001), f('replica', 'k1', 'e1', 1_001), f('primary', 'k2', 'e2', 2_500)],
      applied,
    );

    expect(n).toBe(2);
  });

  it('leaves out a value stored before the delete (lag: the delete was still to come), L1, unknown times and unapplied events', () => {
    const n = writtenBackAfterApply(
      [
        f('primary', 'k1', 'e1', 999),
        f('primary', 'k1', 'e1', 1_000),
        f('l1', 'k1', 'e1', 5_000),
        f('primary', 'k3', 'e1'),
        f('primary', 'k4', 'e9', 9_000),
      ],
      applied,
    );

    expect(n).toBe(0);
  });
});

describe('auditOwnWindow', () => {
  const fault = { injectedAt: 100_000, healedAt: 130_000 };

  it("keeps a drill's own window as it is", () => {
    const own = { from: 98_000, to: 200_000 };
    expect(auditOwnWindow({ ...fault, allowStale: own }, 40_000, 2_000, true)).toBe(own);
    expect(auditOwnWindow({ ...fault, allowStale: own }, 40_000, 2_000, false)).toBe(own);
  });

  it('has none for a fault that does not delay invalidation (bus drop, mass expiry, the soak)', () => {
    expect(auditOwnWindow(fault, 40_000, 2_000, false)).toBeUndefined();
  });

  it('spans one lag window before the injection to one after the recovery', () => {
    expect(auditOwnWindow(fault, 40_000, 2_000, true)).toEqual({ from: 98_000, to: 142_000 });
  });

  it('ends one lag window after the heal when recovery came first or never came', () => {
    expect(auditOwnWindow(fault, 5_000, 2_000, true)).toEqual({ from: 98_000, to: 132_000 });
    expect(auditOwnWindow(fault, null, 2_000, true)).toEqual({ from: 98_000, to: 132_000 });
  });
});
