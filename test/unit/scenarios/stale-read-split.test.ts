import { describe, expect, it } from 'vitest';
import {
  formatSplit,
  hopDurations,
  lastL1DropMs,
  parseL1Heard,
  splitStaleReads,
} from '../../../src/scenarios/stale-read-split.ts';
import type { L1Heard, StaleRead } from '../../../src/scenarios/stale-read-split.ts';

// Product B1: v1 since forever, v2 true at 1000 (event e2). Its timeline: the origin answered
// at 1010, SNS 1005, in the queue at 3000, first handed out at 3500, the receive's answer
// back in the worker at 3580, its handler at 3600, broadcast at 3620; reader 0's L1 dropped
// it at 3625.
const history = {
  entities: [
    {
      family: 'product',
      id: 'B1',
      versions: [
        { v: 1, at: 0 },
        { v: 2, at: 1_000 },
      ],
    },
  ],
};
const changes = [
  {
    eventId: 'e2',
    family: 'product',
    id: 'B1',
    version: 2,
    originAtMs: 1_000,
    requestedAtMs: 999,
    answeredAtMs: 1_010,
  },
];
const applied = [
  {
    eventId: 'e2',
    snsPublishedAtMs: 1_005,
    sqsSentAtMs: 3_000,
    firstReceivedAtMs: 3_500,
    receiveAnsweredAtMs: 3_580,
    receiveCount: 1,
    receivedAtMs: 3_600,
    deleteConfirmedAtMs: 3_610,
    broadcastAtMs: 3_620,
  },
];
const broadcastAt = new Map([['e2', 3_620]]);
/** The lag window: the reads below began more than it after the change at 1000. */
const W = 1_000;
const heard = new Map<number, L1Heard[]>([[0, [{ t: 3_625, ids: ['e2'] }]]]);
const stale = (start: number, extra: Partial<StaleRead> = {}): StaleRead => ({
  family: 'product',
  id: 'B1',
  t: start + 1,
  ms: 1,
  v: 1,
  p: 0,
  src: 'l1',
  stalenessMs: start - 1_000,
  ...extra,
});
const split = (reads: StaleRead[], over: { heard?: Map<number, L1Heard[]> } = {}) =>
  splitStaleReads({
    stale: reads,
    history,
    changes,
    applied,
    broadcastAt,
    heard: over.heard ?? heard,
    lagWindowMs: W,
  });

describe('splitStaleReads: the hop the event was in when the stale read began', () => {
  it('charges each read to the hop at its start, at both edges of every hop', () => {
    const s = split([
      stale(2_999), // SNS -> SQS not done: emulator
      stale(3_000), // in the queue from 3000: emulator (queue)
      stale(3_499),
      stale(3_500), // handed out at 3500, LocalStack's answer not back yet: emulator (answer)
      stale(3_579),
      stale(3_580), // in the worker from 3580: the fleet's
      stale(3_619),
      stale(3_620), // broadcast, not yet dropped by this L1: the fleet's
      stale(3_624),
      stale(3_625), // dropped at 3625 and still served stale: the read side
      stale(9_000),
    ]);
    expect(s.byHop).toEqual({
      'emulator-publish': 1,
      'emulator-queue': 2,
      'emulator-answer': 2,
      'fleet-worker': 2,
      'fleet-broadcast': 2,
      'read-side': 2,
      'not-applied': 0,
      unmatched: 0,
    });
    expect([s.emulator, s.fleet, s.readSide, s.staleBeyondWindow]).toEqual([5, 4, 2, 11]);
    expect(s.events).toHaveLength(1);
    expect(s.events[0]?.droppedAtMs).toEqual({ 0: 3_625 });
    // In the fleet for less than W: none is the fleet's on its own.
    expect(s.fleetOwn).toBe(0);
    expect(formatSplit(s)).toBe(
      '11 (emulator 5: publish 1, queue 2, answer 2; fleet 4 (0 on its own); read side 2)',
    );
  });

  it("a read that began more than the window after the event reached the worker is the fleet's own", () => {
    const at = (start: number, w: number) =>
      splitStaleReads({
        stale: [stale(start, { p: 1 })],
        history,
        changes,
        applied,
        broadcastAt,
        heard,
        lagWindowMs: w,
      });
    // In the worker since 3580 (the answer): 4580 is exactly the window (not its own), 4581 is.
    expect(at(4_580, 1_000).fleetOwn).toBe(0);
    expect(at(4_581, 1_000).fleetOwn).toBe(1);
    expect(at(4_581, 1_000).fleet).toBe(1);
  });

  it("judges the read side by the read's own process: another L1's drop does not count", () => {
    const s = split([stale(5_000, { p: 1 })]);
    expect(s.byHop['fleet-broadcast']).toBe(1);
    expect(s.readSide).toBe(0);
  });

  it('a flush before the broadcast is not a drop (L2 may still hold the old value); one after it is', () => {
    const before = split([stale(3_200)], { heard: new Map([[0, [{ t: 3_100, flush: 'gap' }]]]) });
    expect(before.byHop['emulator-queue']).toBe(1);
    const after = split([stale(3_700)], { heard: new Map([[0, [{ t: 3_650, flush: 'gap' }]]]) });
    expect(after.byHop['read-side']).toBe(1);
  });

  it('without the first receive or the answer, the next known point ends the hop', () => {
    const run = (over: object, start: number) =>
      splitStaleReads({
        stale: [stale(start)],
        history,
        changes,
        applied: [{ ...applied[0]!, ...over }],
        broadcastAt,
        heard,
        lagWindowMs: W,
      }).byHop;
    // No first receive: in the queue until the answer came back.
    expect(run({ firstReceivedAtMs: undefined }, 3_550)['emulator-queue']).toBe(1);
    // Neither: until the handler began.
    expect(
      run({ firstReceivedAtMs: undefined, receiveAnsweredAtMs: undefined }, 3_590)['emulator-queue'],
    ).toBe(1);
    // No answer time: the fleet's from the first receive (never charged to the emulator unproven).
    expect(run({ receiveAnsweredAtMs: undefined }, 3_550)['fleet-worker']).toBe(1);
  });

  it('counts a read whose event was never applied, or is unknown, apart, never as anyone else', () => {
    const s = splitStaleReads({
      stale: [stale(5_000), stale(5_000, { id: 'B9' })],
      history,
      changes,
      applied: [],
      broadcastAt,
      heard,
      lagWindowMs: W,
    });
    expect(s.byHop['not-applied']).toBe(1);
    expect(s.byHop.unmatched).toBe(1);
    expect(s.emulator + s.fleet + s.readSide).toBe(0);
    expect(formatSplit(s)).toContain('not applied in the run 1; unmatched 1)');
  });

  it("matches a promo section's stale read to the promotion that changed it at the same instant", () => {
    const s = splitStaleReads({
      stale: [stale(3_200, { family: 'promo', id: 'manga-home', v: 4 })],
      history: {
        entities: [
          {
            family: 'promo',
            id: 'manga-home',
            versions: [
              { v: 4, at: 0 },
              { v: 5, at: 1_001 },
            ],
          },
        ],
      },
      changes: [
        {
          ...changes[0]!,
          eventId: 'e2',
          family: 'promotion',
          id: 'golden-week',
          version: 2,
          sections: ['manga-home'],
        },
      ],
      applied,
      broadcastAt,
      heard,
      lagWindowMs: W,
    });
    expect(s.events[0]?.eventId).toBe('e2');
    expect(s.byHop['emulator-queue']).toBe(1);
  });

  it('takes the event of the first version newer than the one served, not the latest', () => {
    const h = {
      entities: [
        {
          family: 'product',
          id: 'B1',
          versions: [
            { v: 1, at: 0 },
            { v: 2, at: 1_000 },
            { v: 3, at: 4_000 },
          ],
        },
      ],
    };
    const s = splitStaleReads({
      stale: [stale(5_000)],
      history: h,
      changes: [...changes, { ...changes[0]!, eventId: 'e3', version: 3, originAtMs: 4_000 }],
      applied,
      broadcastAt,
      heard,
      lagWindowMs: W,
    });
    expect(s.events[0]?.eventId).toBe('e2');
    expect(s.byHop['read-side']).toBe(1);
  });
});

describe('hopDurations and parseL1Heard', () => {
  it('gives each hop its duration from the timeline', () => {
    const s = split([stale(3_000)]);
    expect(hopDurations(s.events[0]!)).toEqual({
      changeToQueue: 2_000,
      originAnswered: 10,
      queueToFirstReceive: 500,
      firstReceiveToAnswer: 80,
      answerToHandler: 20,
      handlerToBroadcast: 20,
      broadcastToL1: 5,
    });
  });

  it('parses broadcasts and flushes, skips cut or foreign lines', () => {
    const text = '{"t":1,"seq":4,"ids":["a","b"]}\n{"t":2,"flush":"gap"}\n{"t":3,"seq"\nnot json\n{"x":1}\n';
    expect(parseL1Heard(text)).toEqual([
      { t: 1, ids: ['a', 'b'] },
      { t: 2, flush: 'gap' },
    ]);
  });
});

describe('lastL1DropMs', () => {
  it("is the last process's first drop of the event; unknown when one process never dropped it", () => {
    const two = new Map<number, L1Heard[]>([
      [
        0,
        [
          { t: 5, ids: ['x'] },
          { t: 9, ids: ['e'] },
          { t: 20, ids: ['e'] },
        ],
      ],
      [1, [{ t: 12, ids: ['y', 'e'] }]],
    ]);
    expect(lastL1DropMs(two, 'e')).toBe(12);
    expect(lastL1DropMs(new Map([...two, [2, [{ t: 10, flush: 'gap' }]]]), 'e')).toBeUndefined();
    expect(lastL1DropMs(new Map(), 'e')).toBeUndefined();
  });
});
