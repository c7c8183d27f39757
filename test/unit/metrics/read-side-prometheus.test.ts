import { describe, expect, it } from 'vitest';
import { PrometheusMetrics } from '../../../src/metrics/prometheus-metrics.ts';
import { PROM } from '../../../src/metrics/prometheus-names.ts';
import { parsePrometheusText } from '../../../src/metrics/prometheus-text.ts';

function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return parsePrometheusText(text).find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

describe('the read-side series of PrometheusMetrics', () => {
  it('exports hits per tier, stale and fail-safe, lease waits, coalescing, breaker state and L1', async () => {
    // Prepare
    const m = new PrometheusMetrics();

    // Act
    m.readSideHit('product', 'l1');
    m.readSideHit('product', 'l1');
    m.readSideHit('product', 'l2');
    m.staleServed('review', 12_000, 'revalidate');
    m.failSafeServed('product', 40_000);
    m.leaseWait('product', 'notified');
    m.coalescedRead('product');
    m.coalescedRead('product');
    m.breakerState('promo', 'open');
    m.l1Flush('gap');
    m.l1Size(42, 4_096);
    const text = await m.text();

    // Assess
    expect(value(text, PROM.readHits, { family: 'product', tier: 'l1' })).toBe(2);
    expect(value(text, PROM.readHits, { family: 'product', tier: 'l2' })).toBe(1);
    expect(value(text, PROM.staleServed, { family: 'review', reason: 'revalidate' })).toBe(1);
    expect(value(text, `${PROM.staleAge}_sum`, { family: 'product' })).toBe(40_000);
    expect(value(text, PROM.failSafeServed, { family: 'product' })).toBe(1);
    expect(value(text, PROM.leaseWaits, { family: 'product', outcome: 'notified' })).toBe(1);
    expect(value(text, PROM.coalescedReads, { family: 'product' })).toBe(2);
    expect(value(text, PROM.breakerState, { family: 'promo', state: 'open' })).toBe(1);
    expect(value(text, PROM.breakerState, { family: 'promo', state: 'closed' })).toBe(0);
    expect(value(text, PROM.l1Flushes, { reason: 'gap' })).toBe(1);
    expect(value(text, PROM.l1Entries)).toBe(42);
    expect(value(text, PROM.l1Bytes)).toBe(4_096);
  });
});
