/**
 * `admin purge`: deletes cached values now, through a worker's admin API (POST /admin/purge),
 * which runs them through the same effect path as an event and audits them (purge.ts).
 *   admin purge --key <cache key>                          --reason <why> [--dry-run]
 *   admin purge --family <f> --tenant <t> --id <id>        (one entity)
 *   admin purge --family <f> [--tenant <t>]                (a family, in one tenant or all)
 *   admin purge --tenant <t>                               (every family of a tenant)
 */
import type { Command } from 'commander';
import type { AdminCliContext } from './admin-cli.ts';
import { adminRequestAny, resolveTargets } from './admin-cli.ts';
import { PURGE_FAMILIES, isPurgeFamily, type PurgeRequest } from './purge-request.ts';

interface PurgeOptions {
  key?: string;
  family?: string;
  tenant?: string;
  id?: string;
  reason?: string;
  dryRun?: boolean;
  targets?: string;
  json?: boolean;
}

/** The request the options describe, or what is wrong with them. */
export function purgeRequestFromOptions(o: PurgeOptions): PurgeRequest | { error: string } {
  const reason = o.reason?.trim() ?? '';
  if (reason === '') return { error: '--reason is required: say why (it goes to the audit trail)' };
  const dryRun = o.dryRun === true;
  if (o.key !== undefined) {
    if (o.family !== undefined || o.tenant !== undefined || o.id !== undefined)
      return { error: '--key names one key: give it alone, without --family, --tenant or --id' };
    return { scope: 'key', key: o.key, reason, dryRun };
  }
  const family = o.family;
  if (family !== undefined && !isPurgeFamily(family))
    return { error: `--family must be one of ${PURGE_FAMILIES.join(', ')}` };
  if (o.id !== undefined) {
    if (family === undefined || o.tenant === undefined)
      return { error: '--id needs --family and --tenant (an entity is tenant + family + id)' };
    return { scope: 'entity', family, tenant: o.tenant, id: o.id, reason, dryRun };
  }
  if (family !== undefined)
    return {
      scope: 'family',
      family,
      ...(o.tenant === undefined ? {} : { tenant: o.tenant }),
      reason,
      dryRun,
    };
  if (o.tenant !== undefined) return { scope: 'tenant', tenant: o.tenant, reason, dryRun };
  return { error: 'say what to purge: --key, --family/--tenant/--id, --family, or --tenant' };
}

export function registerPurgeCommand(program: Command, context: AdminCliContext): void {
  program
    .command('purge')
    .description(
      'Purge cached values by key, entity, family or tenant (fence bump, UNLINK, L1 broadcast; audited)',
    )
    .option('--key <key>', 'one exact cache key, e.g. mc:{acme:product:B08X1YRSTR}:v1:ja-JP')
    .option('--family <family>', 'product, promo, review or reco')
    .option('--tenant <tenant>', 'the tenant')
    .option('--id <id>', 'the entity id (ASIN, store section, user id); with --family and --tenant')
    .option('--reason <text>', 'why (required; recorded in the audit trail)')
    .option('--dry-run', 'print the blast radius (keys that would go) and change nothing')
    .option(
      '--targets <urls>',
      'worker admin URLs to try, comma-separated (default: .local/fleet.json, the local workers)',
    )
    .option('--json', 'print the JSON answer')
    .action(async (o: PurgeOptions) => {
      const request = purgeRequestFromOptions(o);
      if ('error' in request) {
        context.out(`error: ${request.error}`);
        context.fail(2);
        return;
      }
      const res = await adminRequestAny(await resolveTargets(o.targets), '/admin/purge', {
        body: request,
        env: context.env,
        timeoutMs: 600_000,
      });
      if (o.json === true) context.out(JSON.stringify(res.body, null, 2));
      else context.out(describePurgeAnswer(res.status, res.body));
      if (res.status !== 200) context.fail(1);
    });
}

/** One human line (or a few) for a purge answer. */
export function describePurgeAnswer(status: number, body: unknown): string {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (status !== 200)
    return `refused (HTTP ${status}): ${typeof b.message === 'string' ? b.message : JSON.stringify(body)}`;
  const lines = [
    `${b.dryRun === true ? 'dry run, nothing changed' : 'purged'}: ${String(b.target)} (${String(b.method)})`,
    `  keys: ${String(b.keyCount)}${b.dryRun === true ? ' would be deleted' : ' deleted'}`,
  ];
  if (Array.isArray(b.sample) && b.sample.length > 0)
    lines.push(`  e.g. ${b.sample.slice(0, 10).join('\n       ')}`);
  if (typeof b.fenceValue === 'number') lines.push(`  fence now ${b.fenceValue}`);
  if (typeof b.auditId === 'string') lines.push(`  audit record ${b.auditId}`);
  return lines.join('\n');
}
