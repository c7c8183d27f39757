/**
 * The live dashboard in headless Chromium (Debian's /usr/bin/chromium, no download): the
 * dashboard polls a fake worker admin endpoint (real metrics routes) that the test feeds
 * events to, and the charts must move. Saves test-results/dashboard.png.
 */
import { mkdirSync } from 'node:fs';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FamilyName } from '../../src/core/invalidation-plan.ts';
import { resolveDashboardOptions } from '../../src/dashboard/dashboard-options.ts';
import { createDashboardServer } from '../../src/dashboard/dashboard-server.ts';
import type { DashboardServer } from '../../src/dashboard/dashboard-server.ts';
import { registerMetricsRoutes } from '../../src/metrics/metrics-routes.ts';
import { PrometheusMetrics } from '../../src/metrics/prometheus-metrics.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('live dashboard', () => {
  let worker: FastifyInstance;
  let metrics: PrometheusMetrics;
  // A read-side process (the demo Orchestrator's admin port): hits, misses, origin calls.
  let reader: FastifyInstance;
  let readerMetrics: PrometheusMetrics;
  let dashboard: DashboardServer;
  let browser: Browser;
  let page: Page;
  let url: string;

  /** Feeds one burst of events: `count` per family with lags around `baseMs`. */
  function feed(baseMs: number, count = 20): void {
    const families: [FamilyName, number][] = [
      ['product', 1],
      ['reco', 2.2],
      ['promo', 0.6],
      ['review', 3],
    ];
    const now = Date.now();
    for (const [family, scale] of families) {
      for (let i = 0; i < count; i += 1) {
        const lag = Math.round(baseMs * scale * (0.5 + (i / count) ** 3 * 2));
        metrics.eventApplied({
          family,
          tenant: 'acme',
          queue: 'catalog',
          originAtMs: now - lag,
          receivedAtMs: now - 5,
          deleteConfirmedAtMs: now,
        });
      }
      metrics.keysDeleted(family, count * 3);
      metrics.readSideHit(family);
      metrics.readSideHit(family);
      metrics.readSideHit(family);
      metrics.readSideMiss(family, 120);
      for (let i = 0; i < 5; i += 1) readerMetrics.readSideHit(family, 'l1');
      readerMetrics.readSideMiss(family, 120);
      readerMetrics.originCall(family);
    }
    metrics.queueObserved('catalog', { depth: 40, oldestAgeMs: 1_500 + baseMs });
    metrics.retried('catalog', 'redis-error', 1);
  }

  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    worker = Fastify();
    metrics = new PrometheusMetrics();
    registerMetricsRoutes(worker, metrics, { instance: 'fake-worker' });
    const workerUrl = await worker.listen({ port: 0, host: '127.0.0.1' });
    reader = Fastify();
    readerMetrics = new PrometheusMetrics();
    registerMetricsRoutes(reader, readerMetrics, { instance: 'fake-reader' });
    const readerUrl = await reader.listen({ port: 0, host: '127.0.0.1' });
    const resolved = resolveDashboardOptions({
      port: '0',
      targets: workerUrl,
      readers: readerUrl,
      pollMs: '250',
      lagWindow: '5',
    });
    if (!resolved.ok) throw new Error(resolved.errors.join('; '));
    dashboard = createDashboardServer(resolved.options);
    url = await dashboard.listen();
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1440, height: 1250 } });
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await worker?.close();
    await reader?.close();
  });

  it('draws charts that move when events are recorded, and saves a screenshot', async () => {
    // Prepare: the page is up and streaming, with no events yet
    await page.goto(url);
    await page.waitForSelector('#status[data-state="live"]', { timeout: 10_000 });
    const productPoints = () => page.getAttribute('canvas[data-chart="lag-product"]', 'data-points');
    expect(await productPoints()).toBe('0');
    expect(await page.textContent('[data-tile="p99-product"] .value')).toBe('–');

    // Act: a first burst of events
    feed(120);
    await expect.poll(async () => Number(await productPoints()), { timeout: 5_000 }).toBeGreaterThan(0);
    const firstP99 = await page.textContent('[data-tile="p99-product"] .value');
    const firstPoints = Number(await productPoints());

    // Act: more, slower events over a few polls
    for (const base of [200, 320, 450, 600]) {
      feed(base);
      await pause(450);
    }
    await expect
      .poll(async () => Number(await productPoints()), { timeout: 5_000 })
      .toBeGreaterThan(firstPoints);

    // Assess: the lag chart gained points, the p99 label changed, other charts drew too
    expect(Number(await productPoints())).toBeGreaterThan(firstPoints);
    expect(await page.textContent('[data-tile="p99-product"] .value')).not.toBe(firstP99);
    expect(Number(await page.getAttribute('canvas[data-chart="throughput"]', 'data-points'))).toBeGreaterThan(
      0,
    );
    expect(Number(await page.getAttribute('canvas[data-chart="hit-ratio"]', 'data-points'))).toBeGreaterThan(
      0,
    );
    // The read side: origin load from the reader's counters, beside the lag; the reader is up.
    expect(
      Number(await page.getAttribute('canvas[data-chart="origin-load"]', 'data-points')),
    ).toBeGreaterThan(0);
    expect(await page.textContent('#card-origin-load .legend')).toMatch(/product\s+[\d.]+/);
    expect(await page.textContent('#status')).toContain('1/1 readers up');
    const legend = await page.textContent('#card-lag-product .legend');
    expect(legend).toMatch(/p99\s+[\d.]+ m?s/);

    // The kill switch: the tile says which queues `admin pause` holds, on how many workers.
    expect(await page.textContent('[data-tile="paused"] .value')).toBe('consuming');
    metrics.consumptionPaused('catalog', true);
    await expect
      .poll(() => page.textContent('[data-tile="paused"] .value'), { timeout: 5_000 })
      .toBe('paused: catalog (1)');
    metrics.consumptionPaused('catalog', false);

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true });
  });
});
