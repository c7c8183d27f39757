/**
 * The auditor's CloudWatch embedded metrics (for the stack's alarm): one line per interval
 * with the checks made and the inconsistent checks found in it, for the whole auditor
 * (dimension set [Service], as `FleetMetrics.total()` reads it in infra/). Written to stdout,
 * where the ECS log driver hands it to CloudWatch.
 */
import { CLOUDWATCH_NAMESPACE, DIMENSION_SERVICE, METRICS } from '../core/metric-names.ts';

/** One EMF line (JSON, no newline) for an interval's counts. */
export function auditEmfLine(
  service: string,
  counts: { checks: number; inconsistent: number },
  timestampMs: number,
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: CLOUDWATCH_NAMESPACE,
          Dimensions: [[DIMENSION_SERVICE]],
          Metrics: [
            { Name: METRICS.auditChecks, Unit: 'Count' },
            { Name: METRICS.auditInconsistencies, Unit: 'Count' },
          ],
        },
      ],
    },
    [DIMENSION_SERVICE]: service,
    [METRICS.auditChecks]: counts.checks,
    [METRICS.auditInconsistencies]: counts.inconsistent,
  });
}
