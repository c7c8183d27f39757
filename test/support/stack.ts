/**
 * Endpoints of the local stack, as written by `npm run env:up` to `.local/env.json` and
 * validated by its schema (src/local/env-file.ts).
 * Tests that claim SQS, SNS or Redis behaviour read them here; the stack is started by
 * scripts/test.sh, so a missing file is an error, never a reason to skip.
 */
import { fileURLToPath } from 'node:url';
import { readLocalStack } from '../../src/local/env-file.ts';
import type { LocalStackDescription } from '../../src/local/env-file.ts';

export const ENV_FILE = fileURLToPath(new URL('../../.local/env.json', import.meta.url));

let cached: LocalStackDescription | undefined;

/** The running stack's endpoints, validated; throws with the command to run when the stack is not up. */
export function stack(): LocalStackDescription {
  if (cached) return cached;
  try {
    cached = readLocalStack(ENV_FILE);
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
