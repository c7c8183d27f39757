/**
 * `admin audit`: reads the audit trail (audit-trail.ts) through a worker's admin API
 * (GET /admin/audit), newest first.
 *   admin audit [--limit 50] [--action purge] [--actor alice@host] [--since 1h] [--json]
 */
import type { Command } from 'commander';
import type { AdminCliContext } from './admin-cli.ts';
import { adminRequestAny, resolveTargets } from './admin-cli.ts';
import type { StoredAuditRecord } from './audit-trail.ts';

const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `2h`, `7d` in ms, or undefined when it is none of these. */
export function parseSince(text: string): number | undefined {
  const m = /^(\d{1,6})([smhd])$/.exec(text);
  return m === null ? undefined : Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1_000);
}

/**
 * Printable as it is; anything else (control characters, terminal escapes, bidi overrides)
 * as `\uNNNN`: the trail is also written by other tools, and a terminal must not obey it.
 */
export const printableText = (text: string): string =>
  text.replace(/[^\x20-\x7e]/gu, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);

/** One line per record. */
export function formatAuditRecords(records: readonly StoredAuditRecord[]): string {
  if (records.length === 0) return '(no audit records)';
  return records
    .map((r) => {
      const details =
        r.details === undefined
          ? ''
          : ` ${Object.entries(r.details)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(' ')}`;
      return printableText(
        `${r.at}  ${r.result.padEnd(7)}  ${r.actor}  ${r.action} ${r.target}  "${r.reason}"${details}`,
      );
    })
    .join('\n');
}

export function registerAuditCommand(program: Command, context: AdminCliContext): void {
  program
    .command('audit')
    .description('Read the audit trail of administrative actions, newest first')
    .option('--limit <n>', 'at most this many records', '50')
    .option('--action <action>', 'only this action or its sub-actions (e.g. purge, purge.entity, pause)')
    .option('--actor <actor>', 'only this operator')
    .option('--since <age>', 'only records younger than this (90s, 15m, 2h, 7d)')
    .option('--targets <urls>', 'worker admin URLs to try, comma-separated')
    .option('--json', 'print JSON')
    .action(
      async (o: {
        limit: string;
        action?: string;
        actor?: string;
        since?: string;
        targets?: string;
        json?: boolean;
      }) => {
        const limit = Number(o.limit);
        const since = o.since === undefined ? undefined : parseSince(o.since);
        if (
          !Number.isInteger(limit) ||
          limit < 1 ||
          limit > 10_000 ||
          (o.since !== undefined && since === undefined)
        ) {
          context.out('error: --limit must be 1-10000 and --since like 90s, 15m, 2h or 7d');
          context.fail(2);
          return;
        }
        const q = new URLSearchParams({ limit: String(limit) });
        if (o.action !== undefined) q.set('action', o.action);
        if (o.actor !== undefined) q.set('actor', o.actor);
        if (since !== undefined) q.set('sinceMs', String(Date.now() - since));
        const res = await adminRequestAny(await resolveTargets(o.targets), `/admin/audit?${q.toString()}`, {
          env: context.env,
        });
        if (res.status !== 200) {
          context.out(`refused (HTTP ${res.status}): ${JSON.stringify(res.body)}`);
          context.fail(1);
          return;
        }
        const records = (res.body as { records: StoredAuditRecord[] }).records;
        context.out(o.json === true ? JSON.stringify(records, null, 2) : formatAuditRecords(records));
      },
    );
}
