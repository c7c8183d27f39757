import { describe, expect, it } from 'vitest';
import { formatAuditRecords } from '../../../src/admin/audit-command.ts';
import { purgeRequestFromOptions } from '../../../src/admin/purge-command.ts';
import { purgeRequestSchema } from '../../../src/admin/purge-request.ts';
import { main } from '../../../src/cli/admin.ts';

describe('admin purge options', () => {
  it('maps each scope', () => {
    expect(purgeRequestFromOptions({ key: 'k', reason: 'r' })).toEqual({
      scope: 'key',
      key: 'k',
      reason: 'r',
      dryRun: false,
    });
    expect(
      purgeRequestFromOptions({
        family: 'product',
        tenant: 't',
        id: 'B000000001',
        reason: 'r',
        dryRun: true,
      }),
    ).toEqual({
      scope: 'entity',
      family: 'product',
      tenant: 't',
      id: 'B000000001',
      reason: 'r',
      dryRun: true,
    });
    expect(purgeRequestFromOptions({ family: 'review', reason: 'r' })).toMatchObject({
      scope: 'family',
      family: 'review',
    });
    expect(purgeRequestFromOptions({ tenant: 't', reason: 'r' })).toMatchObject({
      scope: 'tenant',
      tenant: 't',
    });
  });

  it.each([
    [{ key: 'k' }, /--reason is required/],
    [{ key: 'k', reason: '   ' }, /--reason is required/],
    [{ key: 'k', family: 'product', reason: 'r' }, /alone/],
    [{ id: 'B000000001', family: 'product', reason: 'r' }, /--id needs --family and --tenant/],
    [{ family: 'price', reason: 'r' }, /--family must be one of/],
    [{ reason: 'r' }, /say what to purge/],
  ])('refuses %o', (options, message) => {
    const r = purgeRequestFromOptions(options);
    expect('error' in r && r.error).toMatch(message);
  });

  it('the API refuses unknown fields and a missing reason (strict, like an event)', () => {
    expect(purgeRequestSchema.safeParse({ scope: 'key', key: 'k', reason: 'r', extra: 1 }).success).toBe(
      false,
    );
    expect(purgeRequestSchema.safeParse({ scope: 'tenant', tenant: 't' }).success).toBe(false);
    expect(purgeRequestSchema.safeParse({ scope: 'family', family: 'price', reason: 'r' }).success).toBe(
      false,
    );
  });

  it('exits 2 with the problem before calling any worker', async () => {
    const out: string[] = [];
    const code = await main(
      ['node', 'admin', 'purge', '--key', 'k', '--targets', 'http://127.0.0.1:1'],
      (s) => out.push(s),
    );
    expect(code).toBe(2);
    expect(out.join('\n')).toMatch(/--reason is required/);
  });
});

describe('what reaches the audit trail and a terminal', () => {
  it('refuses control and format characters in a reason, and non-printable identifiers', () => {
    const base = { scope: 'entity', family: 'product', tenant: 'acme', id: 'B000000001' };
    expect(purgeRequestSchema.safeParse({ ...base, reason: 'ok, OPS-42 (ünïcode is fine)' }).success).toBe(
      true,
    );
    for (const reason of ['a\u001b[2Jb', 'line\nforged', 'bidi\u202e', 'nul\u0000'])
      expect(purgeRequestSchema.safeParse({ ...base, reason }).success, JSON.stringify(reason)).toBe(false);
    for (const key of ['mc:{a b}', 'mc:\u001b[31m', 'mc:é'])
      expect(purgeRequestSchema.safeParse({ scope: 'key', key, reason: 'r' }).success).toBe(false);
  });

  it('prints an audit record with escapes instead of what a terminal would obey', () => {
    const line = formatAuditRecords([
      {
        id: '1-0',
        actor: 'x',
        action: 'dlq.redrive',
        target: 'q\u001b[2J',
        reason: 'r\u202e',
        at: 't',
        result: 'ok',
      },
    ]);
    expect(line.includes('\u001b') || line.includes('\u202e')).toBe(false);
    expect(line).toContain('\\u001b[2J');
    expect(line).toContain('\\u202e');
  });
});
