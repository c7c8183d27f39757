/**
 * The drills read each event's SQS enqueue time and its apply from the workers' debug log
 * (run-drills.ts): the second witness of "applied" beside the broadcast tap, which is blind
 * while Sentinel's promotion kills its subscriptions (CLIENT KILL TYPE pubsub on the
 * promoted replica). A CI run counted 5 events of a primary kill "lost" that way: the
 * worker had kept their batches in hand and applied them as the tap reconnected.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { summarise } from '../../../src/drills/drill-summary.ts';
import { appliedFromWorkerLogs, witnessedApplied } from '../../../src/drills/run-drills.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const logDir = (files: Record<string, string[]>) => {
  const dir = mkdtempSync(join(tmpdir(), 'drill-logs-'));
  dirs.push(dir);
  for (const [name, lines] of Object.entries(files)) writeFileSync(join(dir, name), lines.join('\n'));
  return dir;
};
const applied = (
  eventId: string,
  sqsSentAtMs: number,
  deleteConfirmedAtMs = sqsSentAtMs + 50,
  broadcastAtMs?: number,
) =>
  JSON.stringify({
    level: 20,
    msg: 'invalidation applied',
    eventId,
    sqsSentAtMs,
    receivedAtMs: sqsSentAtMs + 10,
    deleteConfirmedAtMs,
    ...(broadcastAtMs === undefined ? {} : { broadcastAtMs }),
  });

describe('appliedFromWorkerLogs', () => {
  it('takes the first line logged per event, over every worker, skipping other and cut lines', () => {
    const dir = logDir({
      'worker-1.log': [
        applied('a', 100, 160, 161),
        '{"msg":"redis connection lost"}',
        'ioredis:redis status ...',
      ],
      'worker-2.log': [applied('b', 200), applied('a', 999), '{"msg":"invalidation applied","eventId":"c"'],
      'reader-0.jsonl': [applied('z', 1)],
    });

    const logged = appliedFromWorkerLogs(dir);

    expect(logged && Object.fromEntries(logged.deliveredAt)).toEqual({ a: 100, b: 200 });
    // Applied at the broadcast when the line has one, else when the deletes were confirmed.
    expect(logged && Object.fromEntries(logged.appliedAt)).toEqual({ a: 161, b: 250 });
  });

  it('is undefined at info level (no applied lines) and for a missing folder', () => {
    expect(appliedFromWorkerLogs(logDir({ 'worker-1.log': ['{"msg":"worker started"}'] }))).toBeUndefined();
    expect(appliedFromWorkerLogs('/nonexistent/drill-logs')).toBeUndefined();
  });
});

describe('witnessedApplied', () => {
  it("keeps the tap's time and adds the events only a worker's log saw, counting them", () => {
    const tap = new Map([['a', 1_000]]);
    const logged = new Map([
      ['a', 990],
      ['b', 2_000],
    ]);

    const w = witnessedApplied(tap, logged);

    expect(Object.fromEntries(w.appliedAt)).toEqual({ a: 1_000, b: 2_000 });
    expect(w.onlyInWorkerLogs).toBe(1);
    expect(witnessedApplied(tap, undefined)).toEqual({ appliedAt: tap, onlyInWorkerLogs: 0 });
  });

  it('an event the tap missed but a worker logged applied is not lost; one neither saw still is', () => {
    const events = ['a', 'b', 'c'].map((eventId, i) => ({
      eventId,
      family: 'product' as const,
      id: `sku-${i}`,
      version: 1,
      occurredAtMs: 1_000 + i,
    }));
    const tapOnly = new Map([['a', 1_100]]);
    const input = {
      events,
      fault: { injectedAt: 900, healedAt: 900 },
      fleet: [],
      expectedWorkers: 0,
      stale: [],
      readsChecked: 0,
    };

    const before = summarise({ ...input, appliedAt: tapOnly });
    const after = summarise({
      ...input,
      appliedAt: witnessedApplied(tapOnly, new Map([['b', 1_200]])).appliedAt,
    });

    expect(before.lostIds).toEqual(['b', 'c']);
    expect(after.lostIds).toEqual(['c']);
    expect(after.lost).toBe(1);
  });
});
