/** The one table of Prometheus series (prometheus-series.ts) against its registry and its doc. */
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PrometheusMetrics } from '../../../src/metrics/prometheus-metrics.ts';
import { PROM } from '../../../src/metrics/prometheus-names.ts';
import { SERIES, buildSeries } from '../../../src/metrics/prometheus-series.ts';

const doc = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');

describe('the Prometheus series table', () => {
  it('builds one series per row, under the row name', async () => {
    const registry = new Registry();
    buildSeries(registry);

    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();

    expect(names).toEqual(
      Object.values(SERIES)
        .map((s) => s.name)
        .sort(),
    );
  });

  it('the exporter registers every row and the three HDR window gauges, nothing else', async () => {
    const metrics = new PrometheusMetrics();

    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name).sort();

    expect(names).toEqual(
      [...Object.values(SERIES).map((s) => s.name), PROM.lag, PROM.lagCount, PROM.lagMax].sort(),
    );
  });

  it.each(Object.values(SERIES).map((s) => s.name))('docs/metrics.md documents %s', (name) => {
    expect(doc).toContain(`\`${name}\``);
  });
});
