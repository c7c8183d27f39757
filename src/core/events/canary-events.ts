/**
 * The pipeline canary (decision 0022): a small event the workers publish to each SNS topic
 * they consume, every `WORKER_CANARY_INTERVAL_MS`, so it travels the path real events travel
 * (SNS -> SQS -> a worker). It invalidates nothing (the planner ignores it, the auditor skips
 * it, it is never dead-lettered when valid); the worker that handles it announces its origin
 * time on the namespace's watermark channel, which the read side uses to decide whether its
 * caches may be trusted (src/client/pipeline-trust.ts).
 */
import { z } from 'zod';
import { eventBaseShape } from './event-base.ts';

/** The topics a canary can be published to (infra/lib/messaging/messaging-topology.ts TOPICS). */
export const CANARY_TOPICS = ['catalog', 'promotions', 'sessions'] as const;
export type CanaryTopic = (typeof CANARY_TOPICS)[number];

/** `pipeline.canary` v1: "everything published to `topic` before `occurredAt` should be applied by now". */
export const pipelineCanaryV1 = z.strictObject({
  ...eventBaseShape,
  type: z.literal('pipeline.canary'),
  /** The logical topic it was published to (the watermark is per topic). */
  topic: z.enum(CANARY_TOPICS, { error: 'must be catalog, promotions or sessions' }),
});

export type PipelineCanary = z.output<typeof pipelineCanaryV1>;
