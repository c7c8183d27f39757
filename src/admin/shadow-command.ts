/**
 * `admin shadow report`: what the shadow candidate (WORKER_SHADOW_CONTRACT) would have done
 * differently, summed over the fleet from every worker's authenticated `GET /shadow.json`
 * (src/worker/shadow-routes.ts). Read-only: it changes nothing, so it is not audited.
 *   admin shadow report [--targets <urls>] [--samples 3] [--json]
 * Exit code 0 when the candidate misses no key the live contract deletes, 3 when it would
 * (live-only keys, or valid messages it would dead-letter), 1 when no worker answered.
 * Runbook: docs/operations.md ("Shadow mode").
 */
import type { Command } from 'commander';
import { adminRequest, resolveTargets, type AdminCliContext } from './admin-cli.ts';
import { formatShadowReport, mergeShadowReports } from './shadow-report.ts';

export function registerShadowCommand(program: Command, context: AdminCliContext): void {
  const shadow = program
    .command('shadow')
    .description('Shadow mode: compare a candidate key contract with the live one, never applying it');
  shadow
    .command('report')
    .description(
      "Sum every worker's shadow counts: keys only the candidate deletes, keys only the live contract deletes",
    )
    .option(
      '--targets <urls>',
      'worker admin URLs, comma-separated (default: .local/fleet.json, else the local workers)',
    )
    .option('--samples <n>', 'differing batches shown', '3')
    .option('--json', 'print JSON')
    .action(async (o: { targets?: string; samples: string; json?: boolean }) => {
      const targets = await resolveTargets(o.targets);
      const answers: { url: string; body: unknown }[] = [];
      const failed: { url: string; error: string }[] = [];
      await Promise.all(
        targets.map(async (url) => {
          try {
            const res = await adminRequest(url, '/shadow.json', { env: context.env, timeoutMs: 5_000 });
            if (res.status === 200) answers.push({ url, body: res.body });
            else failed.push({ url, error: `HTTP ${res.status}` });
          } catch (err) {
            failed.push({ url, error: err instanceof Error ? err.message : String(err) });
          }
        }),
      );
      const report = mergeShadowReports(answers, failed);
      context.out(
        o.json === true
          ? JSON.stringify(report, null, 2)
          : formatShadowReport(report, Number(o.samples) || 0),
      );
      if (answers.length === 0) context.fail(1);
      else if (
        report.deletes.liveOnly > 0 ||
        report.fences.liveOnly > 0 ||
        report.decisions['apply->poison'] !== undefined
      )
        context.fail(3);
    });
}
