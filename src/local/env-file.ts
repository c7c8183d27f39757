/**
 * The local stack description, `.local/env.json`: every endpoint `npm run env:up` starts.
 * One schema for its writer (scripts/lib/provision-messaging.ts validates before writing)
 * and its readers (the local worker environment, the warm-up command, the origin simulator,
 * the dashboard, test/support/stack.ts), so a field cannot mean two things.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const hostPort = z.object({
  host: z.string().min(1),
  port: z.int().min(1).max(65_535),
});
const httpUrl = z.url({ protocol: /^https?$/ });
const arn = z.string().startsWith('arn:');
const queue = z.object({ url: httpUrl, arn, dlqUrl: httpUrl, dlqArn: arn });

/**
 * How a client gets into the local Redis (every node, Sentinel and cluster node alike), as
 * into ElastiCache with in-transit encryption and an AUTH token: TLS with the stack's own
 * CA, and a password kept in a file (mode 0600) rather than in this description.
 */
export const RedisAccessSchema = z.object({
  tls: z.object({ caFile: z.string().min(1) }).optional(),
  passwordFile: z.string().min(1).optional(),
});
export type RedisAccess = z.infer<typeof RedisAccessSchema>;

/** SNS topic ARNs by topic name. */
export const StackTopicsSchema = z.object({ catalog: arn, promotions: arn, sessions: arn });

/** What `.local/env.json` holds. */
export const LocalStackDescriptionSchema = z.object({
  region: z.string().min(1),
  localstack: z.object({ endpoint: httpUrl }),
  redis: z.object({
    /** The configured primary; after a failover env.sh switches the roles back. */
    primary: hostPort,
    replica: hostPort,
    sentinels: z.array(hostPort).min(1),
    sentinelName: z.string().min(1),
    cluster: z.array(hostPort).min(1),
    ...RedisAccessSchema.shape,
  }),
  topics: StackTopicsSchema,
  queues: z.object({ catalog: queue, promotions: queue, sessions: queue, reviewRefresh: queue }),
  /** The consistency auditor's own queue on every topic (src/auditor/); absent on older stacks. */
  auditor: z.object({ url: httpUrl, arn }).optional(),
  origin: z.object({ url: httpUrl }),
});

export type LocalStackDescription = z.infer<typeof LocalStackDescriptionSchema>;

const HINT = 'start the local stack with "npm run env:up"';

/**
 * Validates `value` against `schema` (the description or a part of it); throws one error
 * naming `source` and listing every problem.
 */
export function parseStackDescription<S extends z.ZodType>(
  schema: S,
  value: unknown,
  source: string,
): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new Error(`${source} is not a local stack description (${HINT}):\n${z.prettifyError(parsed.error)}`);
}

/** Reads the file at `path` and validates it against `schema`; throws with the path. */
export function readStackFile<S extends z.ZodType>(path: string, schema: S): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new Error(`cannot read ${path}: ${HINT}`, { cause });
  }
  return parseStackDescription(schema, json, path);
}

/** The whole description at `path`, validated. */
export function readLocalStack(path: string): LocalStackDescription {
  return readStackFile(path, LocalStackDescriptionSchema);
}
