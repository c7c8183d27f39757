/**
 * What every `admin` subcommand module gets (src/cli/admin.ts registers them): a registrar
 * type, the output, the exit code, and `adminRequest`, one authenticated call to the admin
 * API of the fleet's workers (the token from admin-token.ts, the operator's name in
 * `x-admin-operator`).
 *
 * A module exports one `register...(program, context)` that adds its subcommands with
 * `program.command(...)`; its actions use `context.out` for output and `context.fail(code)`
 * for a non-zero exit code. They are async: src/cli/admin.ts runs `parseAsync`.
 */
import { userInfo, hostname } from 'node:os';
import type { Command } from 'commander';
import { adminHeaders } from './admin-token.ts';
import { DEFAULT_TARGETS, parseTargets } from '../dashboard/dashboard-options.ts';
import { targetsFromFleetFile } from '../cli/lag.ts';

export interface AdminCliContext {
  /** One line of output (stdout). */
  readonly out: (line: string) => void;
  /** Makes the command exit with `code` (the highest set wins). */
  readonly fail: (code?: number) => void;
  readonly env: NodeJS.ProcessEnv;
}

/** One subcommand module: adds its commands to `program`. */
export type AdminCommandRegistrar = (program: Command, context: AdminCliContext) => void;

/** Header carrying the operator's name; the admin API records it as the actor once the token passed. */
export const OPERATOR_HEADER = 'x-admin-operator';
/** What an operator name may hold (it lands in the audit trail and the log). */
export const OPERATOR_RULE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** The operator's name: `ADMIN_OPERATOR`, else `<user>@<host>`. */
export function operatorName(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.ADMIN_OPERATOR;
  if (named !== undefined && named !== '') return named;
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry: keep `unknown`
  }
  return `${user}@${hostname()}`.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 64);
}

/** Worker admin URLs: `--targets`, else `.local/fleet.json`, else the two local workers. */
export async function resolveTargets(option: string | undefined): Promise<string[]> {
  if (option === undefined) return (await targetsFromFleetFile()) ?? [...DEFAULT_TARGETS];
  const errors: string[] = [];
  const targets = parseTargets(option, errors);
  if (errors.length > 0) throw new Error(errors.join('; '));
  return targets;
}

export interface AdminResponse {
  readonly url: string;
  readonly status: number;
  readonly body: unknown;
}

export interface AdminRequestOptions {
  readonly method?: 'GET' | 'POST';
  readonly body?: unknown;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

/** One authenticated call to `path` on `target`; resolves with the status and parsed JSON body. */
export async function adminRequest(
  target: string,
  path: string,
  options: AdminRequestOptions = {},
): Promise<AdminResponse> {
  const url = `${target.replace(/\/+$/, '')}${path}`;
  const headers: Record<string, string> = {
    ...adminHeaders(),
    [OPERATOR_HEADER]: operatorName(options.env),
  };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { url, status: res.status, body };
}

/** Calls `target`s in order until one answers (any HTTP status); throws when none does. */
export async function adminRequestAny(
  targets: readonly string[],
  path: string,
  options: AdminRequestOptions = {},
): Promise<AdminResponse> {
  const failures: string[] = [];
  for (const t of targets) {
    try {
      return await adminRequest(t, path, options);
    } catch (err) {
      failures.push(`${t}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`no worker answered:\n  ${failures.join('\n  ')}`);
}
