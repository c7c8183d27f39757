/**
 * `admin`: the operators' command (issue 14), over the authenticated admin API of the
 * workers, or straight on AWS and Redis where that is the natural path.
 *   npm run admin -- <command> [options]      (node src/cli/admin.ts <command> ...)
 * Every command module lives in src/admin/ and registers itself below: one import and one
 * line in ADMIN_COMMANDS. Runbooks: docs/operations.md ("Admin commands").
 */
import { Command } from 'commander';
import type { AdminCliContext, AdminCommandRegistrar } from '../admin/admin-cli.ts';
import { registerAuditCommand } from '../admin/audit-command.ts';
import { registerPauseCommands } from '../admin/pause-command.ts';
import { registerPurgeCommand } from '../admin/purge-command.ts';
import { registerDlqCommand } from '../admin/dlq-command.ts';
import { registerShadowCommand } from '../admin/shadow-command.ts';
import { runMain } from './run-main.ts';

/** Every subcommand module, in the order `--help` lists them. */
export const ADMIN_COMMANDS: readonly AdminCommandRegistrar[] = [
  registerPurgeCommand, // purge: key, entity, family, tenant (src/admin/purge-command.ts)
  registerAuditCommand, // audit: read the audit trail (src/admin/audit-command.ts)
  registerPauseCommands, // pause, resume, status: the kill switch (src/admin/pause-command.ts)
  registerDlqCommand, // dlq list|show|redrive|tasks|cancel (src/admin/dlq-command.ts)
  registerShadowCommand, // shadow report (src/admin/shadow-command.ts)
];

/** Runs the command; resolves with the exit code. */
export async function main(
  argv: readonly string[],
  out: (s: string) => void = console.log,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let exitCode = 0;
  const context: AdminCliContext = {
    out,
    env,
    fail: (code = 1) => {
      exitCode = Math.max(exitCode, code);
    },
  };
  const program = new Command('admin')
    .description(
      'Operate the fleet: purge, audit, pause/resume, dlq, shadow (see docs/operations.md, "Admin commands")',
    )
    .showHelpAfterError();
  for (const register of ADMIN_COMMANDS) register(program, context);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    // An operator's command: say what failed, with its code, not a stack trace.
    const code = (err as { code?: unknown } | null)?.code;
    process.stderr.write(
      `error: ${err instanceof Error ? err.message : String(err)}${typeof code === 'string' ? ` (${code})` : ''}\n`,
    );
    return Math.max(exitCode, 1);
  }
  return exitCode;
}

if (import.meta.main) runMain(main);
