/**
 * The fleet's CloudWatch dashboard: invalidation lag p50/p99 per family against its SLO,
 * throughput, worker errors, durability, DLQ depth, oldest message age, backlog (and backlog
 * per task), ElastiCache replication lag, CPU and memory, and the status of every alarm.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { METRICS } from '../../../src/core/metric-names.ts';
import { FleetMetrics, cacheNodeMetric } from './fleet-metrics.ts';
import type { FleetObservabilityProps } from './fleet-observability.ts';

/** Creates the dashboard in `scope`; `alarms` are shown in its status widget. */
export function addFleetDashboard(
  scope: Construct,
  props: FleetObservabilityProps,
  alarms: readonly cloudwatch.Alarm[],
): { readonly dashboard: cloudwatch.Dashboard; readonly dashboardUrl: string } {
  const period = props.slo.period ?? Duration.minutes(1);
  const m = new FleetMetrics(props.metricsService);
  const families = Object.keys(props.slo.lagP99Ms);
  const region = Stack.of(scope).region;
  const dashboardName = `${props.namePrefix}-invalidation`;
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName,
    defaultInterval: Duration.hours(3),
  });
  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown: `# ${props.namePrefix} cache invalidation\nLag is origin time → delete confirmed in Redis (\`${METRICS.lagDeleteMs}\`). Red lines are the p99 SLOs.`,
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    ...families.map(
      (family) =>
        new cloudwatch.GraphWidget({
          title: `Lag ${family} (ms)`,
          width: 6,
          left: (['p50', 'p99'] as const).map((stat) =>
            m.family(METRICS.lagDeleteMs, family, stat, period).with({ label: stat }),
          ),
          leftAnnotations: [
            { value: props.slo.lagP99Ms[family] ?? 0, label: 'p99 SLO', color: cloudwatch.Color.RED },
          ],
          leftYAxis: { min: 0 },
        }),
    ),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Events processed per minute',
      width: 8,
      left: families.map((f) => m.family(METRICS.eventsProcessed, f, 'Sum', period).with({ label: f })),
      leftYAxis: { min: 0 },
    }),
    new cloudwatch.GraphWidget({
      title: 'Keys deleted per minute',
      width: 8,
      left: families.map((f) => m.family(METRICS.keysDeleted, f, 'Sum', period).with({ label: f })),
      leftYAxis: { min: 0 },
    }),
    new cloudwatch.GraphWidget({
      title: 'Worker errors and rejects',
      width: 8,
      left: [
        METRICS.redisErrors,
        METRICS.rejected,
        METRICS.deadLettered,
        METRICS.retries,
        METRICS.waitShortfalls,
        METRICS.failoverReplays,
      ].map((name) => m.total(name, 'Sum', period).with({ label: name })),
      leftYAxis: { min: 0 },
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Durability of promotion deletes',
      width: 24,
      left: [METRICS.durabilityDegraded, METRICS.degradedAcks, METRICS.replayEscalations].map((name) =>
        m.total(name, 'Sum', period).with({ label: name }),
      ),
      leftYAxis: { min: 0 },
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'DLQ depth',
      width: 8,
      left: Object.entries(props.deadLetterQueues).map(([name, q]) =>
        q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period, label: name }),
      ),
      leftYAxis: { min: 0 },
    }),
    new cloudwatch.GraphWidget({
      title: 'Oldest message age (s)',
      width: 8,
      left: Object.entries(props.queues).map(([name, q]) =>
        q.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period, label: name }),
      ),
      leftAnnotations: [
        { value: props.slo.oldestMessageAgeSeconds, label: 'alarm', color: cloudwatch.Color.RED },
      ],
      leftYAxis: { min: 0 },
    }),
    new cloudwatch.GraphWidget({
      title: 'Backlog',
      width: 8,
      left: Object.entries(props.queues).map(([name, q]) =>
        q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period, label: name }),
      ),
      ...(props.backlogPerTask && { right: [props.backlogPerTask] }),
      leftYAxis: { min: 0 },
    }),
  );
  if (props.cache && props.cache.nodeIds.length > 0) {
    const nodes = props.cache.nodeIds;
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'ElastiCache replication lag (s)',
        width: 8,
        left: nodes.map((n) => cacheNodeMetric('ReplicationLag', n, 'Maximum').with({ label: n })),
        leftYAxis: { min: 0 },
      }),
      new cloudwatch.GraphWidget({
        title: 'ElastiCache engine CPU (%)',
        width: 8,
        left: nodes.map((n) => cacheNodeMetric('EngineCPUUtilization', n, 'Maximum').with({ label: n })),
        leftYAxis: { min: 0, max: 100 },
      }),
      new cloudwatch.GraphWidget({
        title: 'ElastiCache memory (%)',
        width: 8,
        left: nodes.map((n) =>
          cacheNodeMetric('DatabaseMemoryUsagePercentage', n, 'Maximum').with({ label: n }),
        ),
        leftYAxis: { min: 0, max: 100 },
      }),
    );
  }
  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, height: 4, alarms: [...alarms] }),
  );
  return {
    dashboard,
    dashboardUrl: `https://console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${dashboardName}`,
  };
}
