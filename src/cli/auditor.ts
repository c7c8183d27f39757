/**
 * `auditor`: the consistency auditor as a process (docs/auditor.md). Locally (`npm run local`
 * starts it) it reads `.local/env.json`: the auditor's queue, Redis as the workers reach it,
 * the origin simulator. In a container it reads the worker's variables from the environment
 * (REDIS_*, WORKER_LOCALES, AWS_*) and `--queue-url` (or AUDITOR_QUEUE_URL).
 *
 *   node src/cli/auditor.ts [--env-file .local/env.json] [--admin-port 9470]
 *     [--readers http://127.0.0.1:9480,...] [--replica] [--windows 1000,10000,60000]
 *     [--sample-rate 1] [--recheck-ms 500] [--origin-rate 2] [--emf-service name]
 *
 * Serves /healthz, /readyz, /metrics and /snapshot.json on its admin port. SIGTERM stops it.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { AdminTokenError, loadAdminToken } from '../admin/admin-token.ts';
import { startAuditor, type AuditorOptions } from '../auditor/index.ts';
import { loadWorkerConfig } from '../config/load-config.ts';
import { ConfigError } from '../core/errors.ts';
import { readLocalStack } from '../local/env-file.ts';
import { localWorkerEnv, type LocalRedisMode } from '../local/local-worker-env.ts';
import { createLogger } from '../observability/logger.ts';
import { redisConfigFrom } from '../worker/redis-settings.ts';
import { onStopSignal, runMain } from './run-main.ts';

const number = (what: string, ok: (n: number) => boolean) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !ok(n)) throw new InvalidArgumentError(`expected ${what}`);
  return n;
};
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

export async function main(argv: readonly string[]): Promise<number | undefined> {
  const program = new Command('auditor')
    .description('the consistency auditor: samples invalidation events, reads every tier after fixed windows')
    .option('--env-file <file>', 'local stack description (absent: the environment, as in a container)')
    .option('--redis-mode <mode>', 'sentinel | standalone | cluster (with --env-file)', 'sentinel')
    .addOption(
      new Option('--queue-url <url>', "the auditor's queue (default: the env file's)").env(
        'AUDITOR_QUEUE_URL',
      ),
    )
    .option(
      '--admin-port <port>',
      'admin port (/metrics, /snapshot.json)',
      number('a port', (n) => Number.isInteger(n) && n >= 0 && n <= 65_535),
      9470,
    )
    .option('--readers <urls>', 'admin URLs of read-side processes whose L1 is read', list, [] as string[])
    .option('--replica', "also read the replica (with --env-file: the stack's replica)", false)
    .option(
      '--windows <ms>',
      'windows after the origin time, ms',
      (v) => list(v).map(number('ms', (n) => Number.isInteger(n) && n > 0)),
      [1_000, 10_000, 60_000],
    )
    .option(
      '--sample-rate <r>',
      'fraction of events audited, (0, 1]',
      number('a fraction in (0, 1]', (n) => n > 0 && n <= 1),
      1,
    )
    .option(
      '--recheck-ms <ms>',
      'delay before a flag is read again',
      number('ms', (n) => Number.isInteger(n) && n >= 0),
      500,
    )
    .option(
      '--origin-rate <n>',
      'origin calls per second at most (0: never call the origin)',
      number('a rate >= 0', (n) => n >= 0),
      2,
    )
    .option(
      '--emf-service <name>',
      'write AuditChecks/AuditInconsistencies as CloudWatch EMF for this service',
    )
    .option('--log-level <level>', 'log level', 'info')
    .parse(argv);
  const o = program.opts<{
    envFile?: string;
    redisMode: LocalRedisMode;
    queueUrl?: string;
    adminPort: number;
    readers: string[];
    replica: boolean;
    windows: number[];
    sampleRate: number;
    recheckMs: number;
    originRate: number;
    emfService?: string;
    logLevel: string;
  }>();

  const stack = o.envFile === undefined ? undefined : readLocalStack(o.envFile);
  let config;
  try {
    // The worker's loader wants a queue of its own to validate; the auditor polls only its
    // queue, so in a container that one stands in.
    const env: Record<string, string | undefined> =
      stack === undefined
        ? { WORKER_CATALOG_QUEUE_URL: o.queueUrl, ...process.env }
        : { ...process.env, ...localWorkerEnv(stack, { redisMode: o.redisMode }) };
    config = loadWorkerConfig(env);
    // The SDK reads its credentials from the environment (LocalStack's test/test locally).
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const)
      process.env[name] ??= env[name];
    // The admin port is closed like every other (issue 14): no token, no start.
    loadAdminToken();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof AdminTokenError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const queueUrl = o.queueUrl ?? stack?.auditor?.url;
  if (queueUrl === undefined) {
    process.stderr.write(
      'no auditor queue: pass --queue-url (or AUDITOR_QUEUE_URL), or run "npm run env:up" so .local/env.json has one\n',
    );
    return 2;
  }
  const originUrl = stack?.origin.url ?? config.refresh.originUrl;
  const logger = createLogger('consistency-auditor', o.logLevel as Parameters<typeof createLogger>[1]);
  const redis = redisConfigFrom(config.redis, 'consistency-auditor');
  const options: AuditorOptions = {
    redis,
    ...(o.replica && stack !== undefined ? { replica: stack.redis.replica } : {}),
    namespace: config.keys.namespace,
    locales: config.keys.locales,
    queue: { url: queueUrl, aws: config.aws },
    readers: o.readers,
    windowsMs: o.windows,
    sampleRate: o.sampleRate,
    recheckDelayMs: o.recheckMs,
    ...(o.originRate > 0 && originUrl !== undefined
      ? { origin: { url: originUrl, ratePerSecond: o.originRate } }
      : {}),
    adminPort: o.adminPort,
    ...(o.emfService === undefined ? {} : { emf: { service: o.emfService } }),
    logger,
  };
  const auditor = await startAuditor(options);
  onStopSignal(
    async () => {
      await auditor.close();
      logger.info({ snapshot: { ...auditor.snapshot(), findings: undefined } }, 'auditor stopped');
    },
    { exitWhenStopped: true, timeoutMs: 15_000, reporter: logger },
  );
  return undefined;
}

if (import.meta.main) runMain(main);
