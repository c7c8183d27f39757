/**
 * Options of the live dashboard, validated once with every problem reported together.
 */

/** Default worker admin endpoints (the two local workers). */
export const DEFAULT_TARGETS = ['http://127.0.0.1:9464', 'http://127.0.0.1:9465'];
export const DEFAULT_PORT = 4600;

/**
 * p99 origin→delete SLOs per family, in ms. They mirror the dev environment's alarm
 * thresholds (infra/lib/config/environment-config.ts); a unit test keeps them equal.
 */
export const DEFAULT_LAG_SLO_MS: Readonly<Record<string, number>> = {
  product: 2_000,
  reco: 2_000,
  promo: 1_000,
  review: 5_000,
};

export interface DashboardOptions {
  readonly port: number;
  readonly host: string;
  readonly targets: readonly string[];
  /** Read-side processes (the demo Orchestrator's admin ports), polled for `/metrics`. */
  readonly readers: readonly string[];
  /** Consistency auditors (src/auditor/), polled for `/metrics`: the consistency panel. */
  readonly auditors: readonly string[];
  readonly envFile: string | undefined;
  /** How often workers are polled, ms. */
  readonly pollMs: number;
  /** Window of each lag point, seconds. */
  readonly lagWindowSeconds: number;
  /** Points kept (and charted): `historyPoints × pollMs` of history. */
  readonly historyPoints: number;
  readonly sloMs: Readonly<Record<string, number>>;
}

export interface RawDashboardOptions {
  readonly port?: string;
  readonly host?: string;
  readonly targets?: string;
  readonly readers?: string;
  readonly auditors?: string;
  readonly envFile?: string;
  readonly pollMs?: string;
  readonly lagWindow?: string;
  readonly history?: string;
  readonly slo?: string;
}

function int(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  errors: string[],
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    errors.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return n;
}

/** Validates raw flags; `--slo product=1000,promo=500` overrides single families. */
export function resolveDashboardOptions(
  raw: RawDashboardOptions,
): { ok: true; options: DashboardOptions } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const port = int('--port', raw.port, DEFAULT_PORT, 0, 65_535, errors);
  const pollMs = int('--poll-ms', raw.pollMs, 1_000, 100, 60_000, errors);
  const lagWindowSeconds = int('--lag-window', raw.lagWindow, 10, 1, 60, errors);
  const historyPoints = int('--history', raw.history, 600, 10, 10_000, errors);
  const targets = parseTargets(raw.targets, errors);
  const readers =
    raw.readers === undefined || raw.readers.trim() === '' ? [] : parseTargets(raw.readers, errors);
  const auditors =
    raw.auditors === undefined || raw.auditors.trim() === '' ? [] : parseTargets(raw.auditors, errors);
  const sloMs: Record<string, number> = { ...DEFAULT_LAG_SLO_MS };
  for (const part of (raw.slo ?? '').split(',').filter((p) => p.trim() !== '')) {
    const [family, ms] = part.split('=');
    const value = Number(ms);
    if (family === undefined || family.trim() === '' || !(value > 0)) {
      errors.push(`--slo entries must look like family=ms, got "${part}"`);
    } else {
      sloMs[family.trim()] = value;
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    options: {
      port,
      host: raw.host ?? '127.0.0.1',
      targets,
      readers,
      auditors,
      envFile: raw.envFile,
      pollMs,
      lagWindowSeconds,
      historyPoints,
      sloMs,
    },
  };
}

/** Comma-separated http(s) base URLs, without trailing slashes. */
export function parseTargets(raw: string | undefined, errors: string[]): string[] {
  if (raw === undefined) return [...DEFAULT_TARGETS];
  const targets = raw
    .split(',')
    .map((t) => t.trim().replace(/\/+$/, ''))
    .filter((t) => t !== '');
  if (targets.length === 0) errors.push('--targets needs at least one URL');
  for (const t of targets) {
    try {
      const u = new URL(t);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') errors.push(`target ${t} is not http(s)`);
    } catch {
      errors.push(`target ${t} is not a URL`);
    }
  }
  return targets;
}
