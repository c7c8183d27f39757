/**
 * Endpoints of the local stack, as written by `npm run env:up` to `.local/env.json`.
 * Tests that claim SQS, SNS or Redis behaviour read them here; the stack is started by
 * scripts/test.sh, so a missing file is an error, never a reason to skip.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}
export interface QueueEndpoints {
  readonly url: string;
  readonly arn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}
export interface StackEndpoints {
  readonly region: string;
  readonly localstack: { readonly endpoint: string };
  readonly redis: {
    readonly primary: HostPort;
    readonly replica: HostPort;
    readonly sentinels: readonly HostPort[];
    readonly sentinelName: string;
    readonly cluster: readonly HostPort[];
  };
  readonly topics: { readonly catalog: string; readonly promotions: string; readonly sessions: string };
  readonly queues: {
    readonly catalog: QueueEndpoints;
    readonly promotions: QueueEndpoints;
    readonly sessions: QueueEndpoints;
    readonly reviewRefresh: QueueEndpoints;
  };
  readonly origin: { readonly url: string };
}

export const ENV_FILE = fileURLToPath(new URL('../../.local/env.json', import.meta.url));

let cached: StackEndpoints | undefined;

/** The running stack's endpoints; throws with the command to run when the stack is not up. */
export function stack(): StackEndpoints {
  if (cached) return cached;
  try {
    cached = JSON.parse(readFileSync(ENV_FILE, 'utf8')) as StackEndpoints;
    return cached;
  } catch (cause) {
    throw new Error(`local stack not described at ${ENV_FILE}: run "npm run env:up" (npm test does it)`, {
      cause,
    });
  }
}

/** A random prefix so that each test isolates its own keys and queues. */
export function testPrefix(label = 't'): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
