/**
 * Turns the CLI's raw strings (flags, their environment variables, the env file) into
 * validated simulator options. Precedence: flag > environment variable > env file > default.
 * Every problem is reported at once.
 */
import type { StackDescription } from './env-file.ts';
import type { SnsConnection, TopicArns } from './event-publisher.ts';
import { ORIGIN_ENDPOINTS } from './origin-endpoints.ts';
import type { OriginEndpoint } from './origin-endpoints.ts';
import type { OriginSimulatorOptions } from './origin-simulator.ts';

/** Flags as commander hands them over (strings, already merged with their env vars). */
export interface RawCliOptions {
  readonly port?: string;
  readonly host?: string;
  readonly catalogTopicArn?: string;
  readonly promotionsTopicArn?: string;
  readonly sessionsTopicArn?: string;
  readonly snsEndpoint?: string;
  readonly region?: string;
  readonly latencyScale?: string;
  readonly latencyProducts?: string;
  readonly latencyPromotions?: string;
  readonly latencyRecommendations?: string;
  readonly latencyReviews?: string;
  readonly latencyPrices?: string;
  readonly reviewsIncludePrice?: boolean;
  readonly logLevel?: string;
}

/** Resolved start-up settings. */
export interface CliSettings {
  readonly port: number;
  readonly host: string;
  readonly logLevel: string;
  readonly simulator: Omit<OriginSimulatorOptions, 'logger' | 'publisher'>;
}

/** Default port of the simulator (the stack's `origin.url` points here). */
export const DEFAULT_PORT = 4599;
/** LocalStack's default credentials, used when an endpoint is given and none are set. */
const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const LATENCY_FLAGS: Record<OriginEndpoint, keyof RawCliOptions> = {
  products: 'latencyProducts',
  promotions: 'latencyPromotions',
  recommendations: 'latencyRecommendations',
  reviews: 'latencyReviews',
  prices: 'latencyPrices',
};

function number(name: string, raw: string | undefined, errors: string[]): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0) {
    errors.push(`${name} must be a non-negative number, got "${raw}"`);
    return undefined;
  }
  return value;
}

/** Validates `raw` against the env file `stack` and the process environment `env`. */
export function resolveCliOptions(
  raw: RawCliOptions,
  stack: StackDescription | undefined,
  env: NodeJS.ProcessEnv,
): { ok: true; settings: CliSettings } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const port = number('--port', raw.port, errors) ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port > 65535) errors.push('--port must be an integer from 0 to 65535');
  const logLevel = raw.logLevel ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) errors.push(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);

  const latencyMs: Partial<Record<OriginEndpoint, number>> = {};
  for (const endpoint of ORIGIN_ENDPOINTS) {
    const flag = LATENCY_FLAGS[endpoint];
    const value = number(`--latency-${endpoint}`, raw[flag] as string | undefined, errors);
    if (value !== undefined) latencyMs[endpoint] = value;
  }
  const latencyScale = number('--latency-scale', raw.latencyScale, errors);

  const topics: TopicArns = {
    ...stack?.topics,
    ...(raw.catalogTopicArn ? { catalog: raw.catalogTopicArn } : {}),
    ...(raw.promotionsTopicArn ? { promotions: raw.promotionsTopicArn } : {}),
    ...(raw.sessionsTopicArn ? { sessions: raw.sessionsTopicArn } : {}),
  };
  for (const [topic, arn] of Object.entries(topics))
    if (!arn.startsWith('arn:')) errors.push(`${topic} topic ARN must start with "arn:", got "${arn}"`);

  const endpoint = raw.snsEndpoint ?? env.AWS_ENDPOINT_URL ?? stack?.endpoint;
  if (endpoint !== undefined && !URL.canParse(endpoint))
    errors.push(`SNS endpoint is not a URL: "${endpoint}"`);
  const region = raw.region ?? env.AWS_REGION ?? stack?.region ?? 'us-east-1';
  const sns: SnsConnection = {
    region,
    ...(endpoint !== undefined
      ? {
          endpoint,
          credentials:
            env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
              ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
              : LOCAL_CREDENTIALS,
        }
      : {}),
  };

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    settings: {
      port,
      host: raw.host ?? '127.0.0.1',
      logLevel,
      simulator: {
        topics,
        sns,
        config: {
          latencyMs,
          ...(latencyScale !== undefined ? { latencyScale } : {}),
          ...(raw.reviewsIncludePrice ? { reviewsIncludePrice: true } : {}),
        },
      },
    },
  };
}
