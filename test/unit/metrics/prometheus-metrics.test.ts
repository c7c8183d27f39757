import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_DEFAULTS } from '../../../infra/lib/config/environment-config.ts';
import { DEFAULT_LAG_SLO_MS, resolveDashboardOptions } from '../../../src/dashboard/dashboard-options.ts';
import { CompositeMetrics } from '../../../src/metrics/composite-metrics.ts';
import { PrometheusMetrics } from '../../../src/metrics/prometheus-metrics.ts';
import { MAX_TRACKABLE_LAG_MS } from '../../../src/metrics/lag-stats.ts';
import { PROM } from '../../../src/metrics/prometheus-names.ts';
import { parsePrometheusText, sumBy } from '../../../src/metrics/prometheus-text.ts';
import type { EventTimeline, WorkerMetrics } from '../../../src/metrics/worker-metrics.ts';

const NOW = Date.now();
const event = (lagMs: number, family: EventTimeline['family'] = 'product'): EventTimeline => ({
  family,
  tenant: 't1',
  queue: 'catalog',
  originAtMs: NOW - lagMs,
  receivedAtMs: NOW - 10,
  deleteConfirmedAtMs: NOW,
});

function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return parsePrometheusText(text).find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

describe('PrometheusMetrics', () => {
  it('keeps each family in its own series', async () => {
    // Prepare
    const m = new PrometheusMetrics();
    // Act
    for (let i = 0; i < 3; i++) m.eventApplied(event(100, 'product'));
    m.eventApplied(event(40, 'promo'));
    for (let i = 0; i < 2; i++) m.eventApplied(event(7, 'review'));
    const text = await m.text();
    // Assess
    expect(value(text, PROM.eventsProcessed, { family: 'product' })).toBe(3);
    expect(value(text, PROM.eventsProcessed, { family: 'promo' })).toBe(1);
    expect(value(text, PROM.eventsProcessed, { family: 'review' })).toBe(2);
    const count = (family: string, stage: string) =>
      value(text, `${PROM.lagHistogram}_count`, { family, stage });
    expect(count('product', 'origin_to_delete')).toBe(3);
    expect(count('promo', 'receive_to_delete')).toBe(1);
    expect(count('review', 'origin_to_delete')).toBe(2);
    expect(value(text, `${PROM.lagHistogram}_sum`, { family: 'promo', stage: 'origin_to_delete' })).toBe(40);
    expect(value(text, PROM.lagMax, { family: 'review', stage: 'origin_to_delete' })).toBe(7);
  });

  it('exposes counters, gauges, HDR quantiles and the bucketed histogram', async () => {
    // Prepare
    const m = new PrometheusMetrics();
    // Act
    for (let lag = 1; lag <= 1000; lag += 1) m.eventApplied(event(lag));
    m.keysDeleted('product', 12);
    m.rejected('catalog', 'SCHEMA');
    m.deadLettered('catalog', 'SCHEMA');
    m.retried('catalog', 'wait-shortfall', 2);
    m.redisError('timeout');
    m.waitShortfall();
    m.failoverReplayed(5);
    m.queueObserved('catalog', { depth: 17, oldestAgeMs: 2_500 });
    m.refreshProgress({ written: 40, failed: 2, total: 100 });
    m.refreshProgress({ written: 60, failed: 2, total: 100 });
    m.readSideHit('product');
    m.readSideHit('product');
    m.readSideMiss('product', 130);
    m.originCall('product');
    const text = await m.text();
    // Assess
    expect(value(text, PROM.eventsProcessed, { family: 'product' })).toBe(1000);
    expect(value(text, PROM.keysDeleted, { family: 'product' })).toBe(12);
    expect(value(text, PROM.rejected, { queue: 'catalog', reason: 'SCHEMA' })).toBe(1);
    expect(value(text, PROM.deadLettered, { queue: 'catalog', reason: 'SCHEMA' })).toBe(1);
    expect(value(text, PROM.retries, { queue: 'catalog', kind: 'wait-shortfall' })).toBe(2);
    expect(value(text, PROM.redisErrors, { kind: 'timeout' })).toBe(1);
    expect(value(text, PROM.waitShortfalls)).toBe(1);
    expect(value(text, PROM.failoverReplays)).toBe(1);
    expect(value(text, PROM.failoverReplayedEffects)).toBe(5);
    expect(value(text, PROM.queueDepth, { queue: 'catalog' })).toBe(17);
    expect(value(text, PROM.queueOldestAge, { queue: 'catalog' })).toBe(2_500);
    expect(value(text, PROM.refreshKeysWritten)).toBe(60);
    expect(value(text, PROM.refreshKeysFailed)).toBe(2);
    expect(value(text, PROM.refreshProgress)).toBeCloseTo(0.62);
    const q = { family: 'product', stage: 'origin_to_delete' };
    expect(value(text, PROM.lag, { ...q, quantile: '0.5' })).toBe(500);
    expect(value(text, PROM.lag, { ...q, quantile: '0.99' })).toBe(990);
    expect(value(text, PROM.lag, { ...q, quantile: '0.999' })).toBe(999);
    expect(value(text, PROM.lagMax, q)).toBe(1000);
    expect(value(text, PROM.lagCount, q)).toBe(1000);
    expect(value(text, `${PROM.lagHistogram}_bucket`, { ...q, le: '500' })).toBe(500);
    expect(value(text, `${PROM.lagHistogram}_count`, q)).toBe(1000);
    expect(value(text, PROM.readHits, { family: 'product' })).toBe(2);
    expect(value(text, PROM.readMisses, { family: 'product' })).toBe(1);
    expect(value(text, `${PROM.missPenalty}_sum`, { family: 'product' })).toBe(130);
    expect(value(text, PROM.originCalls, { family: 'product' })).toBe(1);
    expect(text).toContain(`# TYPE ${PROM.lagHistogram} histogram`);
  });

  it('counts clamped samples by stage and reason', async () => {
    const m = new PrometheusMetrics();
    m.eventApplied({ ...event(10), originAtMs: NOW + 5_000 });
    const text = await m.text();
    expect(value(text, PROM.lagClamped, { stage: 'origin_to_delete', reason: 'negative' })).toBe(1);
  });

  it('clamps the bucketed histogram like /lag.json and counts its clamped samples', async () => {
    // Prepare: a year-old event would add 3e10 ms to _sum and make every mean absurd.
    const m = new PrometheusMetrics();
    const q = { family: 'product', stage: 'origin_to_delete' };

    // Act
    m.eventApplied(event(365 * 24 * 3_600_000));
    m.eventApplied(event(100));
    m.eventApplied({ ...event(10), originAtMs: NOW + 5_000 });
    const text = await m.text();

    // Assess
    expect(value(text, `${PROM.lagHistogram}_count`, q)).toBe(3);
    expect(value(text, `${PROM.lagHistogram}_sum`, q)).toBe(MAX_TRACKABLE_LAG_MS + 100);
    const clamped = (reason: string) =>
      value(text, 'invalidation_lag_distribution_clamped_total', { ...q, reason });
    expect(clamped('too_large')).toBe(1);
    expect(clamped('negative')).toBe(1);
    expect(
      value(text, 'invalidation_lag_distribution_clamped_total', {
        family: 'product',
        stage: 'receive_to_delete',
        reason: 'too_large',
      }),
    ).toBeUndefined();
  });

  it('keeps registries apart', async () => {
    const a = new PrometheusMetrics();
    const b = new PrometheusMetrics();
    a.waitShortfall();
    expect(value(await b.text(), PROM.waitShortfalls)).toBe(0);
  });
});

describe('CompositeMetrics', () => {
  it('fans out to every sink and survives a failing one', () => {
    const calls: string[] = [];
    const failing = new Proxy({} as WorkerMetrics, {
      get: () => () => {
        throw new Error('boom');
      },
    });
    const recording = new Proxy({} as WorkerMetrics, {
      get: (_t, method) => () => calls.push(String(method)),
    });
    const errors: string[] = [];
    const c = new CompositeMetrics([failing, recording], (_e, method) => errors.push(method));
    c.eventApplied(event(5));
    c.waitShortfall();
    c.readSideHit('reco');
    expect(calls).toEqual(['eventApplied', 'waitShortfall', 'readSideHit']);
    expect(errors).toEqual(['eventApplied', 'waitShortfall', 'readSideHit']);
  });
});

describe('prometheus text reader', () => {
  it('reads labels with escapes and sums by label', () => {
    const samples = parsePrometheusText(
      [
        '# HELP x y',
        'a_total{q="x\\"y",f="p"} 3',
        'a_total{q="z",f="p"} 4 1700000000',
        'b +Inf',
        'garbage line',
      ].join('\n'),
    );
    expect(samples[0]?.labels).toEqual({ q: 'x"y', f: 'p' });
    expect(sumBy(samples, 'a_total', 'f').get('p')).toBe(7);
    expect(samples.find((s) => s.name === 'b')?.value).toBe(Infinity);
  });
});

describe('dashboard options', () => {
  it('default SLOs mirror the dev alarm thresholds', () => {
    expect(DEFAULT_LAG_SLO_MS).toEqual(ENVIRONMENT_DEFAULTS.dev.slo.lagP99Ms);
  });

  it('reports every problem at once', () => {
    const r = resolveDashboardOptions({ port: 'x', targets: 'ftp://a', slo: 'promo' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toHaveLength(3);
    const ok = resolveDashboardOptions({ targets: 'http://a:1/, http://b:2', slo: 'promo=500' });
    expect(ok.ok && ok.options.targets).toEqual(['http://a:1', 'http://b:2']);
    expect(ok.ok && ok.options.sloMs.promo).toBe(500);
  });
});
