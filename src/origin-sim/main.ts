/**
 * CLI of the origin simulator:
 *   node src/origin-sim/main.ts --port 4599 --env-file .local/env.json
 * Logs JSON lines with pino; SIGTERM/SIGINT close the server (in-flight calls finish).
 */
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { onStopSignal, runMain } from '../cli/run-main.ts';
import { resolveCliOptions } from './cli-options.ts';
import type { RawCliOptions } from './cli-options.ts';
import { readStackDescription } from './env-file.ts';
import { createOriginSimulator } from './origin-simulator.ts';

/** Parses `argv`, starts the simulator and wires signals; resolves once listening. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('origin-sim')
    .description(
      'Simulated origins (catalog, promotions, recommendations, reviews, prices) that publish change events to SNS',
    )
    .addOption(new Option('--port <port>', 'port to listen on (0: any free port)').env('ORIGIN_SIM_PORT'))
    .addOption(new Option('--host <host>', 'address to bind').env('ORIGIN_SIM_HOST').default('127.0.0.1'))
    .option(
      '--env-file <path>',
      'stack description with topics, localstack.endpoint and region (.local/env.json)',
    )
    .addOption(
      new Option('--catalog-topic-arn <arn>', 'topic for product and review events').env('CATALOG_TOPIC_ARN'),
    )
    .addOption(
      new Option('--promotions-topic-arn <arn>', 'topic for promotion events').env('PROMOTIONS_TOPIC_ARN'),
    )
    .addOption(new Option('--sessions-topic-arn <arn>', 'topic for session events').env('SESSIONS_TOPIC_ARN'))
    .addOption(
      new Option('--sns-endpoint <url>', 'SNS endpoint, e.g. LocalStack http://127.0.0.1:4566').env(
        'SNS_ENDPOINT',
      ),
    )
    .option('--region <region>', 'AWS region (default: AWS_REGION, env file, us-east-1)')
    .option('--latency-scale <factor>', 'multiplies every latency (e.g. 0.1 in tests)')
    .option('--latency-products <ms>', 'latency of GET /products (default 120)')
    .option('--latency-promotions <ms>', 'latency of GET /promotions (default 80)')
    .option('--latency-recommendations <ms>', 'latency of GET /recommendations (default 350)')
    .option('--latency-reviews <ms>', 'latency of GET /reviews (default 200)')
    .option('--latency-prices <ms>', 'latency of GET /prices (default 5)')
    .option('--reviews-include-price', 'make GET /reviews leak price fields')
    .addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').default('info'))
    .parse(argv);

  const raw = program.opts<RawCliOptions & { envFile?: string }>();
  const stack = raw.envFile !== undefined ? readStackDescription(raw.envFile) : undefined;
  const resolved = resolveCliOptions(raw, stack, process.env);
  if (!resolved.ok) {
    program.error(`invalid options:\n  ${resolved.errors.join('\n  ')}`);
    return;
  }
  const { settings } = resolved;

  const logger = pino({ level: settings.logLevel, base: { component: 'origin-sim' } });
  const simulator = createOriginSimulator({ ...settings.simulator, logger });
  const url = await simulator.listen(settings.port, settings.host);
  logger.info(
    { url, topics: settings.simulator.topics, sns: settings.simulator.sns?.endpoint },
    'origin simulator listening',
  );

  onStopSignal(
    async (signal) => {
      logger.info({ signal }, 'stopping');
      try {
        await simulator.close();
        logger.info('stopped');
      } finally {
        logger.flush();
      }
    },
    { reporter: logger },
  );
}

if (import.meta.main) runMain(main);
