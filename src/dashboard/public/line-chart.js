/* global window, ResizeObserver -- runs in the browser */
// A dependency-free canvas line chart: time on x, one or more series on y, an optional
// threshold (the SLO) drawn dashed, nice ticks, crisp on high-DPI screens. Legend and
// current values live in HTML next to the canvas (see dashboard.js).

const AXIS = '#64748b';
const GRID = '#e2e8f0';
const FONT = '11px system-ui, -apple-system, "Segoe UI", sans-serif';

/** Rounds a span to 1, 2 or 5 × 10^n steps. */
function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

const two = (n) => String(n).padStart(2, '0');
const clock = (t) => {
  const d = new Date(t);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
};

export class LineChart {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{ series: {key: string, label: string, color: string, width?: number}[],
   *           format: (v: number) => string, yMin?: number, yMaxFloor?: number,
   *           yMaxFixed?: number, integer?: boolean,
   *           threshold?: {value: number, label: string, color: string} }} options
   */
  constructor(canvas, options) {
    this.canvas = canvas;
    this.options = options;
    this.points = [];
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  /** @param {{t: number, values: Record<string, number | undefined>}[]} points */
  setData(points) {
    this.points = points;
    this.draw();
  }

  draw() {
    const { canvas, options, points } = this;
    const dpr = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (width === 0 || height === 0) return;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = FONT;

    const pad = { left: 56, right: 14, top: 12, bottom: 24 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;

    // Y range: the data, and the threshold when it is close enough to be useful.
    let yMax = options.yMaxFloor ?? 1;
    for (const p of points) for (const s of options.series) yMax = Math.max(yMax, p.values[s.key] ?? 0);
    const th = options.threshold;
    const thresholdShown = th !== undefined && th.value <= yMax * 3;
    if (thresholdShown) yMax = Math.max(yMax, th.value);
    const yMin = options.yMin ?? 0;
    if (options.yMaxFixed !== undefined) yMax = options.yMaxFixed;
    let step = niceStep(yMax - yMin, 4);
    if (options.integer) step = Math.max(1, step);
    if (options.yMaxFixed === undefined) yMax = Math.ceil((yMax * 1.05) / step) * step;
    const y = (v) => pad.top + plotH - ((v - yMin) / (yMax - yMin)) * plotH;

    const now = points.length > 0 ? points[points.length - 1].t : Date.now();
    // At least 30 s of axis, so a fresh page does not stretch its first points.
    const t0 = points.length > 0 ? Math.min(points[0].t, now - 30_000) : now - 30_000;
    const x = (t) => pad.left + ((t - t0) / Math.max(1, now - t0)) * plotW;

    // Grid and y labels.
    ctx.strokeStyle = GRID;
    ctx.fillStyle = AXIS;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let i = 0, v = yMin; v <= yMax + step / 2; i += 1, v = yMin + i * step) {
      const yy = Math.round(y(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(pad.left, yy);
      ctx.lineTo(pad.left + plotW, yy);
      ctx.stroke();
      ctx.fillText(options.format(v), pad.left - 6, yy);
    }
    // X labels: about one per 100 px, on whole seconds.
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const tStep = niceStep((now - t0) / 1000, Math.max(2, Math.floor(plotW / 100))) * 1000;
    for (let t = Math.ceil(t0 / tStep) * tStep; t <= now; t += tStep) {
      const xx = Math.round(x(t)) + 0.5;
      ctx.strokeStyle = GRID;
      ctx.beginPath();
      ctx.moveTo(xx, pad.top + plotH);
      ctx.lineTo(xx, pad.top + plotH + 4);
      ctx.stroke();
      ctx.fillText(clock(t), xx, pad.top + plotH + 6);
    }
    ctx.strokeStyle = AXIS;
    ctx.beginPath();
    ctx.moveTo(pad.left + 0.5, pad.top);
    ctx.lineTo(pad.left + 0.5, pad.top + plotH + 0.5);
    ctx.lineTo(pad.left + plotW, pad.top + plotH + 0.5);
    ctx.stroke();

    // Threshold: dashed, labelled; an off-scale one is named at the top.
    if (th !== undefined) {
      ctx.fillStyle = th.color;
      // Labelled on the left: live data grows from the right edge.
      ctx.textAlign = 'left';
      ctx.textBaseline = 'bottom';
      if (thresholdShown) {
        const yy = Math.round(y(th.value)) + 0.5;
        ctx.save();
        ctx.strokeStyle = th.color;
        ctx.setLineDash([6, 4]);
        ctx.beginPath();
        ctx.moveTo(pad.left, yy);
        ctx.lineTo(pad.left + plotW, yy);
        ctx.stroke();
        ctx.restore();
        ctx.fillText(th.label, pad.left + 6, yy - 2);
      } else {
        ctx.textBaseline = 'top';
        ctx.fillText(`${th.label} ↑ (off scale)`, pad.left + 6, pad.top + 2);
      }
    }

    // Series: a gap where a point has no value.
    let drawn = 0;
    for (const s of options.series) {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = s.width ?? 2;
      ctx.lineJoin = 'round';
      ctx.beginPath();
      let open = false;
      for (const p of points) {
        const v = p.values[s.key];
        if (v === undefined || v === null || !Number.isFinite(v)) {
          open = false;
          continue;
        }
        const xx = x(p.t);
        const yy = y(Math.min(v, yMax));
        if (open) ctx.lineTo(xx, yy);
        else ctx.moveTo(xx, yy);
        open = true;
        drawn += 1;
      }
      ctx.stroke();
    }
    canvas.dataset.points = String(drawn);
  }
}
