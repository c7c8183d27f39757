/**
 * Rejection reasons that never carry input. A reason travels into a DLQ message attribute,
 * the logs and metrics, so a hostile body must not be able to write into any of them.
 * A reason holds only fixed text, field names of OUR schemas, and numbers derived from the
 * input (a position, a length, a code point, a small integer): never a byte of the input.
 *
 * Zod's own messages are never used: some quote the input (unrecognised keys), and a zod
 * upgrade could add more. An issue is described by its path (schema field names only) and
 * either the message our schema attached to it or a fixed text chosen by its code.
 */
import type { z } from 'zod';
import { cacheEventSchema } from './cache-event.ts';
import { snsEnvelopeSchema } from './sns-envelope.ts';

/** Longest reason kept; the reason travels as an SQS message attribute and into logs. */
export const MAX_REASON_CHARS = 500;

/** Every field name our schemas define: the only object keys a reason may name. */
const SCHEMA_FIELDS: ReadonlySet<string> = new Set([
  ...cacheEventSchema.options.flatMap((o) => Object.keys(o.shape)),
  ...Object.keys(snsEnvelopeSchema.shape),
]);

/** Printable ASCII only, at most {@link MAX_REASON_CHARS}: the last guard on any reason. */
export function safeReason(text: string): string {
  const printable = text.replace(/[^\x20-\x7E]/g, '?');
  return printable.length <= MAX_REASON_CHARS ? printable : `${printable.slice(0, MAX_REASON_CHARS - 3)}...`;
}

/**
 * The error map passed to `safeParse`: zod consults it only for issues our schema gave no
 * message of its own, so every issue message is either ours or this fixed text.
 */
export const fixedIssueText = (issue: { readonly code?: string }): string => {
  switch (issue.code) {
    case 'invalid_type':
      return 'wrong type';
    case 'too_small':
      return 'too small or too short';
    case 'too_big':
      return 'too large or too long';
    case 'invalid_format':
      return 'invalid format';
    case 'invalid_value':
      return 'not an allowed value';
    case 'invalid_union':
      return 'matches no allowed shape';
    case 'not_multiple_of':
      return 'not an allowed number';
    case 'unrecognized_keys':
      return 'unknown field(s)';
    default:
      return 'invalid';
  }
};

/** `a.b[2]`, naming only our schema's fields (anything else is `<field>`). */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(event)';
  return path
    .map((p) =>
      typeof p === 'number' ? `[${p}]` : SCHEMA_FIELDS.has(String(p)) ? `.${String(p)}` : '.<field>',
    )
    .join('')
    .replace(/^\./, '');
}

/** One line per issue, `path: what is wrong`, bounded in total length. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines = issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      // A key that is one of our field names (a field of another event type) can be named.
      const known = issue.keys.filter((k) => SCHEMA_FIELDS.has(k));
      const others = issue.keys.length - known.length;
      const n = issue.keys.length;
      const names =
        known.length === 0 ? '' : ` (${known.join(', ')}${others > 0 ? ` and ${others} more` : ''})`;
      return `${formatPath(issue.path)}: ${n} unknown field${n === 1 ? '' : 's'}${names}; events are strict`;
    }
    return `${formatPath(issue.path)}: ${issue.message}`;
  });
  // Keep the reason bounded: an event with 10,000 bad locales must not make a 1 MB reason.
  const kept: string[] = [];
  let length = 0;
  for (const line of lines) {
    if (length + line.length > MAX_REASON_CHARS - 20) {
      kept.push(`... and ${lines.length - kept.length} more`);
      break;
    }
    kept.push(line);
    length += line.length + 2;
  }
  return kept;
}

/**
 * Why `text` is not JSON, from V8's `JSON.parse` error but without the excerpt of the input
 * it quotes: the position and the code point there when V8 names a position, else the length.
 */
export function jsonProblem(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  // Anchored at the end: an input excerpt in the message cannot fake the position.
  const at = /at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(message);
  if (at !== null) {
    const position = Number(at[1]);
    const codePoint = text.codePointAt(position);
    return codePoint === undefined
      ? `unexpected end at position ${position}`
      : `unexpected character ${codePointLabel(codePoint)} at position ${position}`;
  }
  if (/^Unexpected end of JSON input$/.test(message))
    return `unexpected end of input (${text.length} characters)`;
  return `unexpected token (${text.length} characters)`;
}

const codePointLabel = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/** A value described without its content: a small integer as itself, anything else by type. */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && Math.abs(value) < 1_000_000) {
    return String(value);
  }
  if (typeof value === 'string') return `(a string of ${value.length} characters)`;
  if (value === null) return '(null)';
  if (Array.isArray(value)) return '(an array)';
  return `(a ${typeof value})`;
}
