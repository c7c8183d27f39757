/**
 * `admin dlq`: look into the dead-letter queues and send their messages back once the cause
 * is fixed. Straight on SQS (the operator's AWS credentials are the authentication) with the
 * worker's own variables (dlq-targets.ts); every redrive and cancel is audited in the fleet's
 * audit trail (Redis), and refused when the trail cannot be reached.
 *   admin dlq list    [--queue q] [--limit 1000] [--verbose] [--json]
 *   admin dlq show    <message-id> --queue q [--json]
 *   admin dlq redrive --queue q --reason <why> [--only <code>]... [--id <id>]... [--rate 50] [--dry-run] [--wait]
 *   admin dlq tasks   --queue q [--json]
 *   admin dlq cancel  --queue q --reason <why>
 * Runbook: docs/operations.md ("Dead-letter queues: list, show, redrive").
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { createSqsClient } from '../adapters/sqs/sqs-client.ts';
import { createRedisConnection } from '../adapters/redis/redis-connection.ts';
import type { WorkerConfig } from '../config/worker-config.ts';
import { redisConfigFrom } from '../worker/redis-settings.ts';
import { operatorName, type AdminCliContext } from './admin-cli.ts';
import { AuditTrail, type AuditRecord, type AuditResult } from './audit-trail.ts';
import {
  describeEntry,
  escapeText,
  formatGroups,
  formatMessage,
  groupByCode,
  rawCodeOf,
} from './dlq-entries.ts';
import { DEFAULT_PEEK_LIMIT, peekDeadLetters } from './dlq-peek.ts';
import {
  DEFAULT_REDRIVE_RATE,
  MAX_REDRIVE_RATE,
  cancelMoveTask,
  listMoveTasks,
  redriveSelected,
  startMoveTask,
  type MoveTask,
} from './dlq-redrive.ts';
import { adminConfig, dlqTargets, queueArn, type DlqTarget } from './dlq-targets.ts';

/** Where an audit record goes; the default is the fleet's trail in Redis. */
export interface DlqAudit {
  /** Rejects when the trail cannot be reached (nothing is moved then). */
  check(): Promise<void>;
  append(record: AuditRecord): Promise<string>;
  close(): Promise<void>;
}

/** What the commands use; tests may pass their own. */
export interface DlqDeps {
  readonly sqs: (config: WorkerConfig) => SQSClient;
  readonly audit: (config: WorkerConfig) => DlqAudit;
}

const DEFAULT_DEPS: DlqDeps = {
  sqs: (config) => createSqsClient(config.aws),
  audit: (config) => {
    const redis = createRedisConnection(redisConfigFrom(config.redis, `admin-cli-${process.pid}`));
    const trail = new AuditTrail({ client: redis.client, namespace: config.keys.namespace });
    return {
      check: async () => {
        await redis.client.ping();
      },
      append: (record) => trail.append(record),
      close: () => redis.close(),
    };
  },
};

/** Terminal states of a move task. */
const TERMINAL = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

const collect = (value: string, previous: string[]): string[] => [...previous, value];

interface Session {
  readonly config: WorkerConfig;
  readonly sqs: SQSClient;
}

export function registerDlqCommand(
  program: Command,
  context: AdminCliContext,
  deps: DlqDeps = DEFAULT_DEPS,
): void {
  const dlq = program
    .command('dlq')
    .description('Dead-letter queues: list and show messages by code, redrive them to their source queue');

  /** Runs `fn` with a config and an SQS client; prints a FleetError/config error as one line, exit 2. */
  const session = async (fn: (s: Session) => Promise<void>): Promise<void> => {
    let config: WorkerConfig;
    try {
      config = adminConfig(context.env);
    } catch (err) {
      context.out(`error: ${err instanceof Error ? err.message : String(err)}`);
      context.fail(2);
      return;
    }
    const sqs = deps.sqs(config);
    try {
      await fn({ config, sqs });
    } finally {
      sqs.destroy();
    }
  };
  const targetsOr = (config: WorkerConfig, queue: string | undefined): DlqTarget[] | undefined => {
    try {
      return dlqTargets(config, queue);
    } catch (err) {
      context.out(`error: ${err instanceof Error ? err.message : String(err)}`);
      context.fail(2);
      return undefined;
    }
  };

  dlq
    .command('list')
    .description(
      'Messages of each DLQ grouped by deadLetterCode (ids, sizes, reasons; never a body); does not consume',
    )
    .option('--queue <queue>', 'only this queue (catalog, promotions, sessions, reviewRefresh)')
    .option('--limit <n>', 'messages read per DLQ at most', String(DEFAULT_PEEK_LIMIT))
    .option('--verbose', 'list every message of each code (default: the first 5)')
    .option('--json', 'print JSON')
    .action(async (o: { queue?: string; limit: string; verbose?: boolean; json?: boolean }) =>
      session(async ({ config, sqs }) => {
        const limit = Number(o.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) {
          context.out('error: --limit must be 1-100000');
          context.fail(2);
          return;
        }
        const targets = targetsOr(config, o.queue);
        if (targets === undefined) return;
        const queues = [];
        for (const t of targets) {
          const messages = await peekDeadLetters(sqs, t.dlqUrl, { limit });
          queues.push({
            queue: t.queue,
            dlqUrl: t.dlqUrl,
            total: messages.length,
            /** True when the listing stopped at --limit: the DLQ may hold more. */
            limited: messages.length >= limit,
            groups: groupByCode(messages.map(describeEntry)),
          });
        }
        if (o.json === true) context.out(JSON.stringify({ queues }, null, 2));
        else
          for (const q of queues) {
            context.out(formatGroups(`${q.queue} DLQ`, q.groups, { verbose: o.verbose === true }));
            if (q.limited) context.out(`  (stopped at --limit ${limit}: the DLQ may hold more)`);
          }
      }),
    );

  dlq
    .command('show')
    .description('One DLQ message: every attribute and the body, escaped (it may be hostile)')
    .argument('<id>', 'the DLQ message id (or its deadLetterOriginalMessageId)')
    .requiredOption('--queue <queue>', 'the queue whose DLQ holds it')
    .option('--limit <n>', 'messages read to find it at most', String(DEFAULT_PEEK_LIMIT))
    .option('--json', 'print JSON (the body as an escaped string)')
    .action(async (id: string, o: { queue: string; limit: string; json?: boolean }) =>
      session(async ({ config, sqs }) => {
        const [target] = targetsOr(config, o.queue) ?? [];
        if (target === undefined) return;
        const messages = await peekDeadLetters(sqs, target.dlqUrl, {
          limit: Number(o.limit) || DEFAULT_PEEK_LIMIT,
        });
        const found = messages.find(
          (m) => m.MessageId === id || describeEntry(m).originalMessageId === escapeText(id, 128),
        );
        if (found === undefined) {
          context.out(
            `no message ${escapeText(id, 128)} in the ${target.queue} DLQ (read ${messages.length})`,
          );
          context.fail(1);
          return;
        }
        context.out(
          o.json === true
            ? JSON.stringify({ ...describeEntry(found), body: escapeText(found.Body ?? '') }, null, 2)
            : formatMessage(found),
        );
      }),
    );

  dlq
    .command('redrive')
    .description(
      'Send DLQ messages back to their source queue at a rate: all (StartMessageMoveTask) or a selection (audited)',
    )
    .requiredOption('--queue <queue>', 'the queue whose DLQ to redrive')
    .option('--reason <text>', 'why (required; recorded in the audit trail)')
    .option('--only <code>', 'only messages of this deadLetterCode (repeatable)', collect, [])
    .option('--id <id>', 'only this DLQ message id (repeatable)', collect, [])
    .option('--rate <n>', `messages per second, 1-${MAX_REDRIVE_RATE}`, String(DEFAULT_REDRIVE_RATE))
    .option('--limit <n>', 'a selection reads this many DLQ messages at most', '10000')
    .option('--dry-run', 'say what would move; move nothing')
    .option('--wait', 'for a move of all: wait until the task ends, printing progress')
    .option('--json', 'print JSON')
    .action(
      async (o: {
        queue: string;
        reason?: string;
        only: string[];
        id: string[];
        rate: string;
        limit: string;
        dryRun?: boolean;
        wait?: boolean;
        json?: boolean;
      }) =>
        session(async ({ config, sqs }) => {
          const reason = o.reason?.trim() ?? '';
          const rate = Number(o.rate);
          const limit = Number(o.limit);
          const problems = [
            ...(reason === '' ? ['--reason is required: say why (it goes to the audit trail)'] : []),
            ...(!Number.isInteger(rate) || rate < 1 || rate > MAX_REDRIVE_RATE
              ? [`--rate must be 1-${MAX_REDRIVE_RATE}`]
              : []),
            ...(!Number.isInteger(limit) || limit < 1 || limit > 1_000_000
              ? ['--limit must be 1-1000000']
              : []),
          ];
          if (problems.length > 0) {
            context.out(`error: ${problems.join('; ')}`);
            context.fail(2);
            return;
          }
          const [target] = targetsOr(config, o.queue) ?? [];
          if (target === undefined) return;
          const audit = deps.audit(config);
          try {
            try {
              await audit.check();
            } catch (err) {
              context.out(
                `refused: the audit trail cannot be reached, nothing was moved (${err instanceof Error ? err.message : String(err)})`,
              );
              context.fail(1);
              return;
            }
            const dlqArn = await queueArn(sqs, target.dlqUrl);
            const running = (await listMoveTasks(sqs, dlqArn)).find((t) => t.status === 'RUNNING');
            const selection = o.only.length > 0 || o.id.length > 0;
            const base = {
              actor: `cli:${operatorName(context.env)}`,
              action: 'dlq.redrive',
              target: `dlq:${target.queue}`,
              reason,
            };
            const record = async (result: AuditResult, details: AuditRecord['details']): Promise<void> => {
              const id = await audit.append({
                ...base,
                at: new Date().toISOString(),
                result,
                ...(details === undefined ? {} : { details }),
              });
              if (o.json !== true) context.out(`audited: ${id} (${result})`);
            };
            if (running !== undefined) {
              await record('refused', {
                why: 'a move task is running',
                taskHandle: running.taskHandle ?? '',
              });
              context.out(
                `refused: a move task is already running on the ${target.queue} DLQ (admin dlq tasks; admin dlq cancel)`,
              );
              context.fail(1);
              return;
            }
            if (selection) {
              const codes = new Set(o.only);
              const ids = new Set(o.id);
              const selected = (m: Message): boolean =>
                (codes.size === 0 || codes.has(rawCodeOf(m))) &&
                (ids.size === 0 || ids.has(m.MessageId ?? ''));
              let result;
              try {
                result = await redriveSelected(sqs, {
                  dlqUrl: target.dlqUrl,
                  sourceUrl: target.sourceUrl,
                  selected,
                  ratePerS: rate,
                  limit,
                  dryRun: o.dryRun === true,
                });
              } catch (err) {
                await record('failed', {
                  mode: 'selection',
                  error: err instanceof Error ? err.name : 'error',
                });
                throw err;
              }
              // An --id that was not selected is not in the DLQ (or is of another --only code).
              const found = new Set([...result.selected, ...result.truncated]);
              const notSelected = [...ids].filter((id) => !found.has(id));
              const details = {
                mode: 'selection',
                only: [...codes].join(',').slice(0, 500),
                ids: ids.size,
                rate,
                read: result.read,
                selected: result.selected.length,
                moved: result.moved.length,
                duplicated: result.duplicated.length,
                failed: result.failed.length,
                truncated: result.truncated.length,
                notSelected: notSelected.length,
              };
              const ok =
                result.failed.length === 0 && result.duplicated.length === 0 && notSelected.length === 0;
              await record(o.dryRun === true ? 'dry-run' : ok ? 'ok' : 'failed', details);
              if (o.json === true)
                context.out(JSON.stringify({ queue: target.queue, ...result, notSelected }, null, 2));
              else {
                context.out(describeSelection(target.queue, result, o.dryRun === true));
                if (notSelected.length > 0)
                  context.out(
                    `  ${notSelected.length} --id not found in the DLQ (or of another code): ${notSelected.map((id) => escapeText(id, 128)).join(', ')}`,
                  );
              }
              if (!ok) context.fail(1);
              return;
            }
            // Everything: SQS's move task.
            if (o.dryRun === true) {
              const messages = await peekDeadLetters(sqs, target.dlqUrl, { limit });
              const groups = groupByCode(messages.map(describeEntry));
              await record('dry-run', { mode: 'move-task', rate, messages: messages.length });
              context.out(
                o.json === true
                  ? JSON.stringify({ queue: target.queue, wouldMove: messages.length, groups }, null, 2)
                  : `dry run: a move of all would send ${messages.length} messages back to ${target.queue} at ${rate}/s\n${formatGroups(`${target.queue} DLQ`, groups)}`,
              );
              return;
            }
            const destinationArn = await queueArn(sqs, target.sourceUrl);
            let handle: string;
            try {
              handle = await startMoveTask(sqs, { dlqArn, destinationArn, ratePerS: rate });
            } catch (err) {
              await record('failed', {
                mode: 'move-task',
                rate,
                error: err instanceof Error ? err.name : 'error',
              });
              throw err;
            }
            const [task] = await listMoveTasks(sqs, dlqArn);
            await record('ok', { mode: 'move-task', rate, taskHandle: handle, toMove: task?.toMove ?? -1 });
            if (o.json !== true)
              context.out(`move task started on the ${target.queue} DLQ at ${rate}/s: ${handle}`);
            if (o.wait !== true) {
              if (o.json === true)
                context.out(JSON.stringify({ queue: target.queue, taskHandle: handle, task }, null, 2));
              return;
            }
            const final = await waitForTask(sqs, dlqArn, handle, (t) => {
              if (o.json !== true) context.out(`  ${t.status} moved ${t.moved} of ${t.toMove ?? '?'}`);
            });
            if (o.json === true)
              context.out(JSON.stringify({ queue: target.queue, taskHandle: handle, task: final }, null, 2));
            if (final?.status !== 'COMPLETED') context.fail(1);
          } finally {
            await audit.close();
          }
        }),
    );

  dlq
    .command('tasks')
    .description('The move tasks of a DLQ (status, moved, rate), newest first')
    .requiredOption('--queue <queue>', 'the queue whose DLQ')
    .option('--json', 'print JSON')
    .action(async (o: { queue: string; json?: boolean }) =>
      session(async ({ config, sqs }) => {
        const [target] = targetsOr(config, o.queue) ?? [];
        if (target === undefined) return;
        const tasks = await listMoveTasks(sqs, await queueArn(sqs, target.dlqUrl));
        if (o.json === true) context.out(JSON.stringify({ queue: target.queue, tasks }, null, 2));
        else if (tasks.length === 0) context.out(`no move tasks on the ${target.queue} DLQ`);
        else for (const t of tasks) context.out(formatTask(t));
      }),
    );

  dlq
    .command('cancel')
    .description('Cancel the running move task of a DLQ (what moved stays moved; audited)')
    .requiredOption('--queue <queue>', 'the queue whose DLQ')
    .option('--reason <text>', 'why (required; recorded in the audit trail)')
    .action(async (o: { queue: string; reason?: string }) =>
      session(async ({ config, sqs }) => {
        const reason = o.reason?.trim() ?? '';
        if (reason === '') {
          context.out('error: --reason is required: say why (it goes to the audit trail)');
          context.fail(2);
          return;
        }
        const [target] = targetsOr(config, o.queue) ?? [];
        if (target === undefined) return;
        const audit = deps.audit(config);
        try {
          await audit.check();
          const running = (await listMoveTasks(sqs, await queueArn(sqs, target.dlqUrl))).find(
            (t) => t.status === 'RUNNING',
          );
          if (running?.taskHandle == null) {
            context.out(`no running move task on the ${target.queue} DLQ`);
            context.fail(1);
            return;
          }
          const moved = await cancelMoveTask(sqs, running.taskHandle);
          const id = await audit.append({
            actor: `cli:${operatorName(context.env)}`,
            action: 'dlq.redrive.cancel',
            target: `dlq:${target.queue}`,
            reason,
            at: new Date().toISOString(),
            result: 'ok',
            details: { taskHandle: running.taskHandle, moved },
          });
          context.out(
            `cancelled the move task on the ${target.queue} DLQ after ${moved} messages; audited: ${id}`,
          );
        } finally {
          await audit.close();
        }
      }),
    );
}

/** Polls the task until it ends (COMPLETED, CANCELLED, FAILED); resolves with its last state. */
export async function waitForTask(
  sqs: SQSClient,
  dlqArn: string,
  handle: string,
  progress: (task: MoveTask) => void,
  intervalMs = 1_000,
): Promise<MoveTask | undefined> {
  for (;;) {
    const tasks = await listMoveTasks(sqs, dlqArn);
    const task = tasks.find((t) => t.taskHandle === handle) ?? tasks[0];
    if (task !== undefined) progress(task);
    if (task === undefined || TERMINAL.has(task.status)) return task;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function formatTask(t: MoveTask): string {
  const failure = t.failureReason === null ? '' : `  failure: ${escapeText(t.failureReason, 200)}`;
  return `${t.status}  moved ${t.moved} of ${t.toMove ?? '?'}  ${t.ratePerS ?? '?'}/s  started ${t.startedAt ?? '?'}  ${t.taskHandle ?? ''}${failure}`;
}

function describeSelection(
  queue: string,
  r: Awaited<ReturnType<typeof redriveSelected>>,
  dryRun: boolean,
): string {
  const lines = [
    dryRun
      ? `dry run: ${r.selected.length} of ${r.read} messages of the ${queue} DLQ would move back`
      : `moved ${r.moved.length} of ${r.selected.length} selected (${r.read} read) back to ${queue}`,
  ];
  if (r.truncated.length > 0)
    lines.push(
      `  ${r.truncated.length} selected but truncated in the DLQ (not sent: they would be poison again): ${r.truncated.join(', ')}`,
    );
  if (r.failed.length > 0)
    lines.push(`  ${r.failed.length} could not be sent, still in the DLQ: ${r.failed.join(', ')}`);
  if (r.duplicated.length > 0)
    lines.push(
      `  ${r.duplicated.length} sent but not deleted from the DLQ (in both queues; applying twice is harmless): ${r.duplicated.join(', ')}`,
    );
  if (r.releaseRefused.length > 0)
    lines.push(
      `  ${r.releaseRefused.length} could not be made visible again; they reappear when their hide runs out`,
    );
  return lines.join('\n');
}
