/**
 * CLI of the live dashboard:
 *   node src/dashboard/main.ts --port 4600 --targets http://127.0.0.1:9464,http://127.0.0.1:9465 \
 *     --env-file .local/env.json
 * SIGTERM/SIGINT stop polling and close the server.
 */
import { Command, Option } from 'commander';
import { onStopSignal, runMain } from '../cli/run-main.ts';
import { createDashboardServer } from './dashboard-server.ts';
import { resolveDashboardOptions } from './dashboard-options.ts';
import type { RawDashboardOptions } from './dashboard-options.ts';
import { QueueDepthReader, readQueueSource } from './queue-depths.ts';

/** Parses `argv`, starts the dashboard and wires signals; resolves once listening. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('dashboard')
    .description('Live invalidation-lag dashboard of a local worker fleet')
    .addOption(new Option('--port <port>', 'port to listen on (0: any free port)').env('DASHBOARD_PORT'))
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .addOption(new Option('--targets <urls>', 'comma-separated worker admin URLs').env('DASHBOARD_TARGETS'))
    .addOption(
      new Option('--readers <urls>', 'comma-separated read-side admin URLs (demo Orchestrator)').env(
        'DASHBOARD_READERS',
      ),
    )
    .addOption(
      new Option('--auditors <urls>', 'comma-separated consistency auditor admin URLs').env(
        'DASHBOARD_AUDITORS',
      ),
    )
    .option('--env-file <path>', 'stack description with the queue URLs (.local/env.json)')
    .option('--poll-ms <ms>', 'poll interval (default 1000)')
    .option('--lag-window <seconds>', 'window of each lag point (default 10)')
    .option('--history <points>', 'points kept and charted (default 600)')
    .option('--slo <list>', 'p99 SLO overrides, e.g. product=1000,promo=500')
    .parse(argv);

  const raw = program.opts<RawDashboardOptions>();
  const resolved = resolveDashboardOptions(raw);
  if (!resolved.ok) {
    program.error(`invalid options:\n  ${resolved.errors.join('\n  ')}`);
    return;
  }
  const { options } = resolved;
  const queues =
    options.envFile === undefined ? undefined : new QueueDepthReader(readQueueSource(options.envFile));
  const server = createDashboardServer(options, { queues, logger: true });
  const url = await server.listen();
  server.app.log.info({ url, targets: options.targets }, 'dashboard listening');

  onStopSignal(() => server.close());
}

if (import.meta.main) runMain(main);
