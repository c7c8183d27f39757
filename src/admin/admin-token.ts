/**
 * The admin token: the one shared secret every admin route of the worker (and of the demo
 * Orchestrator's readers) checks, and every caller of an admin port sends.
 *
 * Where it comes from (first match wins):
 * - `ADMIN_TOKEN` in the environment: in AWS the ECS task gets it from Secrets Manager as a
 *   container secret; a test may set it for the processes it starts;
 * - the file `.local/admin-token`, written by `scripts/env.sh up` (64 hex characters, mode
 *   0600, ignored by git): the local stack's own state.
 * Neither: {@link AdminTokenError}, saying what to do. See docs/decisions/0015-admin-surface.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetError } from '../core/errors.ts';

/** Where `scripts/env.sh up` writes the local token (the repository's `.local/`). */
export const ADMIN_TOKEN_FILE = join(import.meta.dirname, '..', '..', '.local', 'admin-token');

/** Shorter tokens are refused: they could be guessed (64 hex = 256 bits is what env.sh writes). */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/** No usable admin token: the process cannot call, or protect, an admin port. */
export class AdminTokenError extends FleetError {
  readonly code = 'ADMIN_TOKEN_MISSING';
  readonly retryable = false;
}

/** Checks a token's shape; returns what is wrong, or undefined. Never quotes the token. */
export function adminTokenProblem(token: string): string | undefined {
  if (token.length < MIN_ADMIN_TOKEN_LENGTH)
    return `is ${token.length} characters, at least ${MIN_ADMIN_TOKEN_LENGTH} are required`;
  if (!/^[\x21-\x7e]+$/.test(token)) return 'holds whitespace or non-printable characters';
  return undefined;
}

export interface LoadAdminTokenOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly file?: string;
}

/** The admin token (see the header for where it comes from); throws {@link AdminTokenError}. */
export function loadAdminToken(options: LoadAdminTokenOptions = {}): string {
  const env = options.env ?? process.env;
  const file = options.file ?? ADMIN_TOKEN_FILE;
  const fromEnv = env.ADMIN_TOKEN;
  if (fromEnv !== undefined && fromEnv !== '') {
    const problem = adminTokenProblem(fromEnv);
    if (problem !== undefined) throw new AdminTokenError(`ADMIN_TOKEN ${problem}`);
    return fromEnv;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AdminTokenError(
      `no admin token: ADMIN_TOKEN is not set and ${file} cannot be read ` +
        `(${(err as NodeJS.ErrnoException).code ?? 'error'}); run "npm run env:up" to create it, or set ADMIN_TOKEN`,
      { cause: err },
    );
  }
  const token = text.trim();
  const problem = adminTokenProblem(token);
  if (problem !== undefined)
    throw new AdminTokenError(`${file} ${problem}; delete it and run "npm run env:up" to write a new one`);
  return token;
}

/** The headers an admin call carries: `Authorization: Bearer <token>`. */
export function adminHeaders(token: string = loadAdminToken()): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/**
 * {@link adminHeaders}, or no header when there is no token (read each call, so a token
 * written later is picked up): for pollers that should show a target as refused (401), not
 * stop. Commands that need the token call adminHeaders() and report its error.
 */
export function adminHeadersIfAny(): Record<string, string> {
  try {
    return adminHeaders();
  } catch {
    return {};
  }
}
