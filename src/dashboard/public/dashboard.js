/* global document, fetch, EventSource -- runs in the browser */
// The live dashboard page: loads the history from /api/series, then follows /api/stream
// (Server-Sent Events, one point per poll) and redraws every chart.
import { LineChart } from './line-chart.js';

const FAMILY_COLORS = {
  product: '#2563eb',
  reco: '#16a34a',
  promo: '#db2777',
  review: '#ea580c',
  price: '#7c3aed',
};
const EXTRA_COLORS = ['#0891b2', '#65a30d', '#9333ea', '#b45309', '#475569'];
const colorOf = (() => {
  const assigned = new Map();
  return (name) => {
    if (FAMILY_COLORS[name]) return FAMILY_COLORS[name];
    if (!assigned.has(name)) assigned.set(name, EXTRA_COLORS[assigned.size % EXTRA_COLORS.length]);
    return assigned.get(name);
  };
})();

const ms = (v) =>
  v >= 10_000
    ? `${(v / 1000).toFixed(0)} s`
    : v >= 1000
      ? `${(v / 1000).toFixed(1)} s`
      : `${Math.round(v)} ms`;
const perS = (v) =>
  v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2).replace(/\.?0+$/, '') || '0';
const count = (v) => (v >= 1000 ? `${(v / 1000).toFixed(1)}k` : String(Math.round(v)));
const secs = (v) => `${v >= 10 ? Math.round(v) : v.toFixed(1)} s`;
const pct = (v) => `${Math.round(v)}%`;

let config;
let points = [];
const charts = new Map(); // id -> { chart, legend, series: () => [...], values: (p) => {...} }

function card(container, id, title, unit) {
  const el = document.createElement('article');
  el.className = 'card';
  el.id = `card-${id}`;
  el.innerHTML = `<h3>${title} <span class="unit">${unit}</span></h3><div class="legend"></div><canvas data-chart="${id}" data-points="0"></canvas>`;
  container.append(el);
  return { legend: el.querySelector('.legend'), canvas: el.querySelector('canvas') };
}

/** A chart whose series follow the keys present in the data (families, queues). */
function addChart(
  container,
  id,
  title,
  unit,
  { keys, value, format, threshold, fixedSeries, yMaxFloor, yMaxFixed, integer },
) {
  const { legend, canvas } = card(container, id, title, unit);
  const entry = { id, legend, canvas, keys, value, format, fixedSeries, chart: undefined, seriesKey: '' };
  entry.build = (series) => {
    entry.chart = new LineChart(canvas, { series, format, threshold, yMaxFloor, yMaxFixed, integer });
  };
  charts.set(id, entry);
  return entry;
}

function render() {
  for (const entry of charts.values()) {
    const series =
      entry.fixedSeries ?? entry.keys(points).map((k) => ({ key: k, label: k, color: colorOf(k) }));
    const seriesKey = series.map((s) => s.key).join(',');
    if (entry.chart === undefined || seriesKey !== entry.seriesKey) {
      entry.build(series);
      entry.seriesKey = seriesKey;
    }
    const data = points.map((p) => ({ t: p.t, values: entry.value(p) }));
    entry.chart.setData(data);
    const last = data.length > 0 ? data[data.length - 1].values : {};
    if (series.length === 0) {
      entry.legend.innerHTML = '<span class="empty">no data reported yet</span>';
    } else {
      entry.legend.innerHTML = series
        .map((s) => {
          const v = last[s.key];
          const shown = v === undefined || v === null ? '–' : entry.format(v);
          return `<span data-series="${s.key}"><i class="swatch" style="background:${s.color}"></i>${s.label} <b>${shown}</b></span>`;
        })
        .join('');
    }
    entry.canvas.dataset.last = JSON.stringify(last);
  }
  renderTiles();
  renderStatus();
}

function keysOf(field) {
  return (ps) => {
    const keys = new Set();
    for (const p of ps) for (const k of Object.keys(p[field] ?? {})) keys.add(k);
    return [...keys].sort();
  };
}

function lagFamilies() {
  const seen = new Set(Object.keys(config.sloMs));
  for (const p of points) for (const f of Object.keys(p.lag)) seen.add(f);
  return [...seen];
}

function ensureLagCharts() {
  const container = document.getElementById('lag-charts');
  for (const family of lagFamilies()) {
    if (charts.has(`lag-${family}`)) continue;
    const slo = config.sloMs[family];
    addChart(container, `lag-${family}`, `Lag · ${family}`, 'origin → delete, ms', {
      fixedSeries: [
        { key: 'p50', label: 'p50', color: '#93c5fd', width: 1.5 },
        { key: 'p90', label: 'p90', color: '#3b82f6', width: 1.5 },
        { key: 'p99', label: 'p99', color: '#1e3a8a', width: 2.5 },
      ],
      value: (p) => {
        const l = p.lag[family];
        return l ? { p50: l.p50, p90: l.p90, p99: l.p99 } : {};
      },
      format: ms,
      yMaxFloor: 10,
      threshold:
        slo === undefined ? undefined : { value: slo, label: `SLO p99 ${ms(slo)}`, color: '#dc2626' },
    });
  }
}

function buildFleetCharts() {
  const c = document.getElementById('fleet-charts');
  addChart(c, 'throughput', 'Throughput', 'events/s', {
    keys: keysOf('throughput'),
    value: (p) => p.throughput,
    format: perS,
  });
  addChart(c, 'errors', 'Errors and retries', 'messages/s', {
    fixedSeries: [
      { key: 'redis', label: 'Redis errors', color: '#dc2626' },
      { key: 'rejected', label: 'rejected', color: '#ea580c' },
      { key: 'deadLettered', label: 'dead-lettered', color: '#7c3aed' },
      { key: 'retries', label: 'retried', color: '#64748b' },
    ],
    value: (p) => p.errors,
    format: perS,
  });
  addChart(c, 'dlq', 'Dead-letter queues', 'messages', {
    keys: keysOf('dlqDepth'),
    value: (p) => p.dlqDepth,
    format: count,
    integer: true,
  });
  addChart(c, 'queue-depth', 'Queue backlog', 'visible messages', {
    keys: keysOf('queueDepth'),
    value: (p) => p.queueDepth,
    format: count,
    integer: true,
  });
  addChart(c, 'queue-age', 'Oldest message age', 'seconds', {
    keys: keysOf('queueAgeS'),
    value: (p) => p.queueAgeS,
    format: secs,
  });
  addChart(
    c,
    'durability',
    'Durability of promotion deletes',
    'held acks · degraded acks/s · degraded workers',
    {
      fixedSeries: [
        { key: 'heldAcks', label: 'acks held for a replica', color: '#2563eb' },
        { key: 'degradedAcks', label: 'degraded acks/s', color: '#dc2626' },
        { key: 'degradedWorkers', label: 'workers degraded', color: '#ea580c' },
      ],
      value: (p) => p.durability ?? {},
      format: count,
      integer: true,
    },
  );
  addChart(c, 'hit-ratio', 'Read-side hit ratio', '% of reads (when clients report)', {
    keys: keysOf('hitRatio'),
    value: (p) => Object.fromEntries(Object.entries(p.hitRatio).map(([k, v]) => [k, v * 100])),
    format: pct,
    yMaxFixed: 100,
  });
  addChart(c, 'origin-load', 'Origin load', 'origin calls/s from the read side', {
    keys: keysOf('originLoad'),
    value: (p) => p.originLoad ?? {},
    format: perS,
  });
  // The consistency auditor (docs/auditor.md): nines per family and window since it started;
  // with no inconsistency the figure is the bound the sample supports, log10(checks).
  addChart(c, 'consistency', 'Consistency (auditor)', 'nines per family · window', {
    keys: keysOf('consistency'),
    value: (p) => Object.fromEntries(Object.entries(p.consistency ?? {}).map(([k, v]) => [k, v.nines])),
    format: (v) => v.toFixed(1),
  });
}

/** Text for innerHTML: label values come from the workers' metrics. */
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function renderTiles() {
  const last = points[points.length - 1];
  const tiles = [];
  const total = last ? Object.values(last.throughput).reduce((a, b) => a + b, 0) : 0;
  tiles.push({ label: 'Events/s (fleet)', value: perS(total) });
  for (const family of lagFamilies()) {
    const l = last?.lag[family];
    const slo = config.sloMs[family];
    tiles.push({
      label: `p99 lag · ${family}${slo ? ` (SLO ${ms(slo)})` : ''}`,
      value: l ? ms(l.p99) : '–',
      bad: l !== undefined && slo !== undefined && l.p99 > slo,
      id: `p99-${family}`,
    });
  }
  const dlq = last ? Object.values(last.dlqDepth).reduce((a, b) => a + b, 0) : 0;
  tiles.push({ label: 'Dead letters', value: count(dlq), bad: dlq > 0 });
  const degraded = last?.durability?.degradedWorkers ?? 0;
  tiles.push({
    label: 'Promotion deletes',
    value: degraded > 0 ? `degraded (${degraded})` : 'durable',
    bad: degraded > 0,
    id: 'durability',
  });
  // The kill switch (admin pause): which queues it pauses, on how many workers.
  const paused = Object.entries(last?.paused ?? {});
  tiles.push({
    label: 'Consumption',
    value:
      paused.length === 0
        ? 'consuming'
        : `paused: ${paused.map(([q, n]) => `${escapeHtml(q)} (${n})`).join(', ')}`,
    bad: paused.length > 0,
    id: 'paused',
  });
  const audit = last?.consistency;
  if (audit !== undefined) {
    const cells = Object.values(audit);
    const checked = cells.reduce((a, v) => a + v.checked, 0);
    const inconsistent = cells.reduce((a, v) => a + v.inconsistent, 0);
    tiles.push({
      label: `Audit: inconsistent / checks`,
      value: `${count(inconsistent)} / ${count(checked)}`,
      bad: inconsistent > 0,
      id: 'consistency',
    });
  }
  document.getElementById('tiles').innerHTML = tiles
    .map(
      (t) =>
        `<div class="tile"${t.id ? ` data-tile="${t.id}"` : ''}><div class="label">${t.label}</div><div class="value${t.bad ? ' bad' : ''}">${t.value}</div></div>`,
    )
    .join('');
}

let connected = false;
function renderStatus() {
  const el = document.getElementById('status');
  const last = points[points.length - 1];
  const up = last ? last.targets.filter((t) => t.up).length : 0;
  const total = last ? last.targets.length : config.targets.length;
  el.dataset.state = !connected ? 'down' : up === total ? 'live' : up > 0 ? 'degraded' : 'down';
  const readers = last?.readers ?? [];
  const readersUp = readers.filter((r) => r.up).length;
  el.textContent =
    `${connected ? 'live' : 'disconnected'} · ${up}/${total} workers up` +
    (readers.length > 0 ? ` · ${readersUp}/${readers.length} readers up` : '');
  document.getElementById('footer').textContent =
    `Workers: ${config.targets.join(', ')}` +
    ((config.readers ?? []).length > 0 ? ` · readers: ${config.readers.join(', ')}` : '') +
    ((config.auditors ?? []).length > 0 ? ` · auditors: ${config.auditors.join(', ')}` : '') +
    ` · polled every ${config.pollMs} ms · lag points over the last ${config.lagWindowSeconds} s` +
    (config.queuesWatched.length > 0
      ? ` · queues: ${config.queuesWatched.join(', ')}`
      : ' · no env file: queue depths from the workers');
  document.getElementById('lag-hint').textContent =
    `(p50 / p90 / p99 over the last ${config.lagWindowSeconds} s, all workers merged)`;
}

async function start() {
  const res = await fetch('/api/series');
  ({ config, points } = await res.json());
  ensureLagCharts();
  buildFleetCharts();
  render();
  const stream = new EventSource('/api/stream');
  stream.onopen = () => {
    connected = true;
    renderStatus();
  };
  stream.onerror = () => {
    connected = false;
    renderStatus();
  };
  stream.addEventListener('point', (e) => {
    connected = true;
    points.push(JSON.parse(e.data));
    if (points.length > config.historyPoints) points.shift();
    ensureLagCharts();
    render();
  });
}

start().catch((err) => {
  document.getElementById('status').textContent = `failed: ${err.message}`;
});
