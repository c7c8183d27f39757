/**
 * How the stack reads the worker's embedded metrics: per family with the dimension set
 * [Service, Family] (`family()`), for the whole worker with [Service] (`total()`).
 * CloudWatch matches a metric by its exact dimension set, so the worker's EMF writer must
 * publish these sets (a mismatch leaves the alarms silently without data).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  CLOUDWATCH_NAMESPACE,
  DIMENSION_FAMILY,
  DIMENSION_SERVICE,
  type MetricName,
} from '../../../src/core/metric-names.ts';

/**
 * Builds CloudWatch metric objects for the worker's EMF metrics of one service. Without
 * labels: a labelled metric makes an alarm render as metric math; dashboards add their own.
 */
export class FleetMetrics {
  public readonly service: string;
  constructor(service: string) {
    this.service = service;
  }

  /** A per-family metric (lag, throughput). */
  public family(
    metricName: MetricName,
    family: string,
    statistic: string,
    period = Duration.minutes(1),
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: CLOUDWATCH_NAMESPACE,
      metricName,
      dimensionsMap: { [DIMENSION_SERVICE]: this.service, [DIMENSION_FAMILY]: family },
      statistic,
      period,
    });
  }

  /** A whole-worker metric (errors, rejects, dead letters). */
  public total(metricName: MetricName, statistic = 'Sum', period = Duration.minutes(1)): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: CLOUDWATCH_NAMESPACE,
      metricName,
      dimensionsMap: { [DIMENSION_SERVICE]: this.service },
      statistic,
      period,
    });
  }
}

/** An ElastiCache metric of one node (the `CacheClusterId` dimension). */
export function cacheNodeMetric(
  metricName: string,
  nodeId: string,
  statistic: string,
  period = Duration.minutes(1),
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/ElastiCache',
    metricName,
    dimensionsMap: { CacheClusterId: nodeId },
    statistic,
    period,
  });
}
