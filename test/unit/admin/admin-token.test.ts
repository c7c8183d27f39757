import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdminTokenError, adminHeaders, loadAdminToken } from '../../../src/admin/admin-token.ts';
import { bearerChecker } from '../../../src/worker/admin-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'admin-token-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
};
const TOKEN = 'a'.repeat(64);

describe('loadAdminToken', () => {
  it('takes ADMIN_TOKEN first, then the file (trimmed)', () => {
    const f = file('t1', `${'b'.repeat(64)}\n`);
    expect(loadAdminToken({ env: { ADMIN_TOKEN: TOKEN }, file: f })).toBe(TOKEN);
    expect(loadAdminToken({ env: {}, file: f })).toBe('b'.repeat(64));
  });

  it('says what to do when there is no token, and never quotes a bad one', () => {
    expect(() => loadAdminToken({ env: {}, file: join(dir, 'missing') })).toThrow(AdminTokenError);
    expect(() => loadAdminToken({ env: {}, file: join(dir, 'missing') })).toThrow(
      /npm run env:up.*ADMIN_TOKEN/,
    );
    const short = 'secret-but-short';
    try {
      loadAdminToken({ env: { ADMIN_TOKEN: short } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AdminTokenError);
      expect((err as Error).message).toMatch(/16 characters, at least 32/);
      expect((err as Error).message).not.toContain(short);
    }
    expect(() =>
      loadAdminToken({ env: {}, file: file('ws', `${'c'.repeat(20)} ${'c'.repeat(20)}`) }),
    ).toThrow(/whitespace/);
  });

  it('builds the bearer header', () => {
    expect(adminHeaders(TOKEN)).toEqual({ authorization: `Bearer ${TOKEN}` });
  });
});

describe('bearerChecker', () => {
  const check = bearerChecker(TOKEN);

  it('accepts exactly the token', () => {
    expect(check(`Bearer ${TOKEN}`)).toBeUndefined();
    expect(check(`bearer ${TOKEN}`)).toBeUndefined();
  });

  it.each([
    ['no header', undefined, 'missing'],
    ['empty', '', 'missing'],
    ['another scheme', `Basic ${TOKEN}`, 'missing'],
    ['no token', 'Bearer ', 'missing'],
    ['two tokens', `Bearer ${TOKEN} ${TOKEN}`, 'missing'],
    ['one character off', `Bearer ${TOKEN.slice(0, -1)}b`, 'wrong'],
    ['a prefix of it', `Bearer ${TOKEN.slice(0, 32)}`, 'wrong'],
    ['it plus more', `Bearer ${TOKEN}a`, 'wrong'],
    ['another case', `Bearer ${TOKEN.toUpperCase()}`, 'wrong'],
  ])('refuses %s', (_name, header, reason) => {
    expect(check(header)).toBe(reason);
  });

  it('refuses to protect anything with a weak token', () => {
    expect(() => bearerChecker('short')).toThrow(/at least 32/);
  });
});
