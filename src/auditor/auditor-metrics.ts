/**
 * The auditor's Prometheus series: the `audit*` rows of the one series table
 * (src/metrics/prometheus-series.ts), built on a registry of the auditor's own, so its
 * `/metrics` shows its series and not the worker's. The ratio and nines gauges are set from
 * the tally after each check.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { SERIES } from '../metrics/prometheus-series.ts';
import type { ConsistencyTally } from './consistency-tally.ts';

type AuditCounters =
  | 'auditEventsSampled'
  | 'auditEventsSkipped'
  | 'auditChecks'
  | 'auditInconsistentChecks'
  | 'auditChecksMissed'
  | 'auditFindings'
  | 'auditFlagsCleared'
  | 'auditTierErrors'
  | 'auditOriginReads';
type AuditGauges = 'auditRatio' | 'auditNines';

/** The auditor's series on a registry of their own. */
export class AuditorMetrics {
  readonly registry = new Registry();
  readonly #counters = {} as Record<AuditCounters, Counter>;
  readonly #gauges = {} as Record<AuditGauges, Gauge>;

  constructor(defaultLabels?: Record<string, string>) {
    if (defaultLabels !== undefined) this.registry.setDefaultLabels(defaultLabels);
    const registers = [this.registry];
    const counters: AuditCounters[] = [
      'auditEventsSampled',
      'auditEventsSkipped',
      'auditChecks',
      'auditInconsistentChecks',
      'auditChecksMissed',
      'auditFindings',
      'auditFlagsCleared',
      'auditTierErrors',
      'auditOriginReads',
    ];
    for (const key of counters) {
      const s = SERIES[key];
      this.#counters[key] = new Counter({ name: s.name, help: s.help, labelNames: [...s.labels], registers });
    }
    for (const key of ['auditRatio', 'auditNines'] as const) {
      const s = SERIES[key];
      this.#gauges[key] = new Gauge({ name: s.name, help: s.help, labelNames: [...s.labels], registers });
    }
  }

  inc(key: AuditCounters, labels: Record<string, string>, by = 1): void {
    this.#counters[key].inc(labels, by);
  }

  /** Sets the ratio and nines of one family and window from the tally. */
  consistency(tally: ConsistencyTally, family: string, window: string): void {
    const t = tally.of(family, window);
    if (t.ratio !== undefined) this.#gauges.auditRatio.set({ family, window }, t.ratio);
    if (t.nines !== undefined) this.#gauges.auditNines.set({ family, window }, t.nines);
  }
}
