/**
 * Lag is measured on the real path: events with known origin times go through SNS and SQS
 * to a worker process; within 2 s of their deletes (the worker's debug "invalidation applied"
 * lines) their lag is in the worker's Prometheus output and in `/lag.json` (what the live
 * dashboard and the `lag` command read). Publish to visible, which adds LocalStack's SNS
 * delivery, is printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LagReport } from '../../src/metrics/lag-report.ts';
import { eventually, snsClient } from '../support/aws.ts';
import { productUpdated, publishAll } from '../support/events.ts';
import { privateWorld, type PrivateWorld } from '../support/private-world.ts';
import type { WorkerProcess } from '../support/worker-process.ts';
import { adminHeaders } from '../../src/admin/admin-token.ts';

const INJECTED_LAG_MS = 5_000;
const EVENTS = 20;

describe('invalidation lag of real events', () => {
  const sns = snsClient();
  let world: PrivateWorld;
  let worker: WorkerProcess;

  beforeAll(async () => {
    world = await privateWorld();
    worker = await world.startWorker('lag', { WORKER_LOG_LEVEL: 'debug' });
  });

  afterAll(async () => {
    await world?.teardown();
    sns.destroy();
  });

  it('finds the lag of events with a known origin time in /metrics and /lag.json within 2 s of the deletes', async () => {
    // Prepare: changes that happened 5 s ago at the origin.
    const admin = `http://127.0.0.1:${worker.adminPort}`;
    const events = Array.from({ length: EVENTS }, (_, i) =>
      productUpdated(`B0LAG${String(i).padStart(5, '0')}`, {
        occurredAt: new Date(Date.now() - INJECTED_LAG_MS).toISOString(),
      }),
    );

    // Act
    const publishedAt = Date.now();
    await publishAll(sns, world.messaging.topics.catalog, events);

    // Assess: every event shows up, with origin→delete lag of at least the injected 5 s
    // plus what the trip took, and not more than that trip could have taken.
    const report = await eventually(
      async () => {
        const r = (await (
          await fetch(`${admin}/lag.json?window=60`, { headers: adminHeaders() })
        ).json()) as LagReport;
        const s = r.series.find((x) => x.family === 'product' && x.stage === 'origin_to_delete');
        return s && s.window.count >= EVENTS ? s : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'the lag of 20 events in /lag.json' },
    );
    const seenAt = Date.now();
    const tripMs = seenAt - publishedAt;
    expect(report.window.count).toBe(EVENTS);
    expect(report.window.p50).toBeGreaterThanOrEqual(INJECTED_LAG_MS);
    expect(report.window.max).toBeLessThanOrEqual(INJECTED_LAG_MS + tripMs + 50);
    const metrics = await (await fetch(`${admin}/metrics`, { headers: adminHeaders() })).text();
    expect(metrics).toMatch(
      new RegExp(`invalidation_events_processed_total\\{family="product"\\} ${EVENTS}`),
    );
    expect(metrics).toMatch(
      /invalidation_lag_ms\{family="product",stage="origin_to_delete",quantile="0.99"\} \d+/,
    );
    // Queue depth is sampled at start and every 15 s.
    expect(metrics).toMatch(/invalidation_queue_depth\{queue="catalog"\} \d+/);
    // From the last of the events' deletes to their lag being visible: within 2 s.
    const ids = new Set(events.map((e) => e.eventId));
    // (The log lines come through the worker's stdout: they may follow the /lag.json answer.)
    const deletedAt = await eventually(
      () => {
        const at = worker.applied.filter((l) => ids.has(l.eventId)).map((l) => l.deleteConfirmedAtMs);
        return at.length >= EVENTS ? at : undefined;
      },
      { timeoutMs: 5_000, what: "the events' invalidation applied lines" },
    );
    expect(deletedAt).toHaveLength(EVENTS);
    const lastDelete = Math.max(...deletedAt);
    console.log(
      `lag visible ${seenAt - lastDelete} ms after the last delete, ${tripMs} ms after the publish`,
    );
    expect(seenAt - lastDelete).toBeLessThan(2_000);
  });
});
