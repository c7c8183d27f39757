/**
 * What the admin surface reports, as a narrow port (PrometheusMetrics implements it): refused
 * calls, audited actions, and the kill switch per queue. Series: docs/metrics.md.
 */
import type { RefusalReason } from '../worker/admin-server.ts';

export interface AdminMetrics {
  /** An admin call was refused (no token or a wrong one). */
  adminRefused(reason: RefusalReason, route: string): void;
  /** An administrative action was audited. */
  adminAction(action: string, result: string): void;
  /** Whether this worker consumes `queue` (false while paused by the kill switch). */
  consumptionPaused(queue: string, paused: boolean): void;
}

export const NO_ADMIN_METRICS: AdminMetrics = {
  adminRefused: () => undefined,
  adminAction: () => undefined,
  consumptionPaused: () => undefined,
};
