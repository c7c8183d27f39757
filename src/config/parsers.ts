/**
 * Parsers of the worker's environment variables: each reads the raw string of one variable
 * (after trimming; an empty string counts as unset) and says in plain words what is wrong.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { asQueueUrl } from '../core/identifiers.ts';

/** A whole number from `min` to `max`. */
export const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d{1,15}$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );

/** `true`/`false` (or `1`/`0`). */
export const bool = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

/** A comma-separated list of at least one `item`; blanks around and between items are dropped. */
export const list = <T extends z.ZodType<unknown, string>>(item: T, what: string) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part.length > 0),
    )
    .pipe(z.array(item).min(1, { error: `must list at least one ${what}` }));

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;

/** `host:port` (a DNS name, an IPv4 address or a bracketed IPv6 address; port 1-65535). */
export const address = z.string().transform((s, ctx) => {
  const colon = s.lastIndexOf(':');
  const host = s.slice(0, colon);
  const port = Number(s.slice(colon + 1));
  if (colon <= 0 || !HOST.test(host) || !/^\d{1,5}$/.test(s.slice(colon + 1)) || port < 1 || port > 65_535) {
    ctx.addIssue({ code: 'custom', message: 'every address must be host:port (port 1-65535)' });
    return z.NEVER;
  }
  return { host: host.replace(/^\[(.*)\]$/, '$1'), port };
});

/** An http(s) URL. */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** An SQS queue URL (http(s)), branded. */
export const queueUrl = httpUrl.transform(asQueueUrl);

/** The path of a readable file holding at least one PEM certificate (read once, at start-up). */
export const pemFile = z.string().transform((path, ctx) => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    ctx.addIssue({ code: 'custom', message: `cannot read ${path} (${code})` });
    return z.NEVER;
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    ctx.addIssue({ code: 'custom', message: `${path} holds no PEM certificate` });
    return z.NEVER;
  }
  return path;
});
