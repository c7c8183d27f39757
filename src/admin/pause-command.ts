/**
 * `admin pause|resume|status`: the fleet's kill switch (pause-switch.ts), set through a
 * worker's admin API (POST /admin/pause, /admin/resume; GET /admin/pause). The switch is
 * kept in Redis, so every worker of the fleet sees it, and workers started later too.
 *   admin pause  [--queue <q>] --reason <why>
 *   admin resume [--queue <q>] --reason <why>
 *   admin status
 */
import type { Command } from 'commander';
import type { AdminCliContext } from './admin-cli.ts';
import { adminRequestAny, resolveTargets } from './admin-cli.ts';

interface SwitchOptions {
  queue?: string;
  reason?: string;
  targets?: string;
  json?: boolean;
}

export function registerPauseCommands(program: Command, context: AdminCliContext): void {
  for (const verb of ['pause', 'resume'] as const) {
    program
      .command(verb)
      .description(
        verb === 'pause'
          ? 'Stop every worker of the fleet from receiving (within 2 s); batches in hand still finish'
          : 'Let every worker receive again (within 2 s)',
      )
      .option(
        '--queue <queue>',
        'only this queue (catalog, promotions, sessions, reviewRefresh); default all',
      )
      .option('--reason <text>', 'why (required; recorded in the audit trail)')
      .option('--targets <urls>', 'worker admin URLs to try, comma-separated')
      .option('--json', 'print JSON')
      .action(async (o: SwitchOptions) => {
        const reason = o.reason?.trim() ?? '';
        if (reason === '') {
          context.out('error: --reason is required: say why (it goes to the audit trail)');
          context.fail(2);
          return;
        }
        const res = await adminRequestAny(await resolveTargets(o.targets), `/admin/${verb}`, {
          body: { reason, ...(o.queue === undefined ? {} : { queue: o.queue }) },
          env: context.env,
        });
        if (res.status !== 200) {
          context.out(`refused (HTTP ${res.status}): ${JSON.stringify(res.body)}`);
          context.fail(1);
          return;
        }
        context.out(o.json === true ? JSON.stringify(res.body, null, 2) : describeSwitch(res.body));
      });
  }
  program
    .command('status')
    .description('Show the kill switch: which queues are paused, since when, by whom')
    .option('--targets <urls>', 'worker admin URLs to try, comma-separated')
    .option('--json', 'print JSON')
    .action(async (o: SwitchOptions) => {
      const res = await adminRequestAny(await resolveTargets(o.targets), '/admin/pause', {
        env: context.env,
      });
      if (res.status !== 200) {
        context.out(`refused (HTTP ${res.status}): ${JSON.stringify(res.body)}`);
        context.fail(1);
        return;
      }
      context.out(o.json === true ? JSON.stringify(res.body, null, 2) : describeSwitch(res.body));
    });
}

/** The switch state in a few lines. */
export function describeSwitch(body: unknown): string {
  const b = (body ?? {}) as { paused?: Record<string, { by: string; at: string; reason: string }> };
  const paused = Object.entries(b.paused ?? {});
  if (paused.length === 0) return 'consuming: no queue is paused';
  return paused.map(([q, p]) => `paused ${q}: since ${p.at} by ${p.by} ("${p.reason}")`).join('\n');
}
