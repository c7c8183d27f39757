import { Duration } from 'aws-cdk-lib';
import type * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** One metric of the expression, under the id the expression names it by. */
interface BacklogTerm {
  readonly id: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: 'Sum' | 'Average';
}

/** Label of the expression, on the dashboard and in the scaling policy. */
const LABEL = 'Visible messages per running task';

/**
 * Backlog per task, AWS's recommended SQS scaling metric: visible messages summed over the
 * fleet's queues, divided by the running task count. Written once, then rendered two ways:
 * a CloudWatch metric-math expression (dashboards) and a target-tracking policy's customized
 * metric (the L2 target-tracking policy takes a single metric only; metric math needs the L1).
 */
export class BacklogPerTask {
  private readonly terms: readonly BacklogTerm[];
  /** The math over the terms' ids: `(q0 + q1 + ...) / tasks`. */
  public readonly expression: string;

  constructor(queueNames: readonly string[], service: { clusterName: string; serviceName: string }) {
    const queues: BacklogTerm[] = queueNames.map((queueName, i) => ({
      id: `q${i}`,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: queueName },
      statistic: 'Sum',
    }));
    const tasks: BacklogTerm = {
      id: 'tasks',
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensions: { ClusterName: service.clusterName, ServiceName: service.serviceName },
      statistic: 'Average',
    };
    this.terms = [...queues, tasks];
    this.expression = `(${queues.map((q) => q.id).join(' + ')}) / ${tasks.id}`;
  }

  /** As CloudWatch metric math, per minute. */
  toMathExpression(): cloudwatch.MathExpression {
    const usingMetrics: Record<string, cloudwatch.IMetric> = {};
    for (const term of this.terms) {
      usingMetrics[term.id] = new cloudwatch.Metric({
        namespace: term.namespace,
        metricName: term.metricName,
        dimensionsMap: { ...term.dimensions },
        statistic: term.statistic,
        period: Duration.minutes(1),
      });
    }
    return new cloudwatch.MathExpression({
      expression: this.expression,
      usingMetrics,
      label: LABEL,
      period: Duration.minutes(1),
    });
  }

  /** As the customized metric of a target-tracking scaling policy (only the ratio returned). */
  toCustomizedMetric(): appscaling.CfnScalingPolicy.CustomizedMetricSpecificationProperty {
    return {
      metrics: [
        ...this.terms.map((term) => ({
          id: term.id,
          returnData: false,
          metricStat: {
            stat: term.statistic,
            metric: {
              namespace: term.namespace,
              metricName: term.metricName,
              dimensions: Object.entries(term.dimensions).map(([name, value]) => ({ name, value })),
            },
          },
        })),
        { id: 'backlogPerTask', expression: this.expression, label: LABEL, returnData: true },
      ],
    };
  }
}
