/**
 * What `admin dlq list|show` prints about a dead-lettered message, built without trusting it.
 * Anything in a DLQ may be hostile: the body is whatever a producer (or an attacker) sent, and
 * even our own attributes can be forged by anyone allowed to SendMessage to the DLQ. So every
 * string taken from a message passes {@link escapeText} (printable ASCII only, everything else
 * as a `\xNN`/`\uNNNN` escape, bounded), and `list` never prints a body: only ids, codes,
 * sizes, times and attributes. `show` prints the body on purpose, escaped the same way.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES } from '../adapters/sqs/dead-letter-queue.ts';

/** The group of a message that carries no `deadLetterCode` (moved by the queue's redrive policy). */
export const NO_CODE = '(none: moved by the redrive policy)';
/** Longest escaped text of one field in `list` output. */
export const MAX_FIELD_CHARS = 200;
/** Longest escaped attribute value in `list` output. */
const MAX_ATTRIBUTE_CHARS = 80;

/**
 * `text` as printable ASCII: `\` doubled, every other character outside 0x20-0x7E written as
 * an escape (`\n`, `\t`, `\xNN`, `\uNNNN`, `\u{NNNNN}`), so no terminal control sequence,
 * bidi override or invisible character reaches the operator's screen. Cut at `maxChars`.
 */
export function escapeText(text: string, maxChars = Number.POSITIVE_INFINITY): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    let piece: string;
    if (ch === '\\') piece = '\\\\';
    else if (cp >= 0x20 && cp <= 0x7e) piece = ch;
    else if (ch === '\n') piece = '\\n';
    else if (ch === '\r') piece = '\\r';
    else if (ch === '\t') piece = '\\t';
    else if (cp < 0x100) piece = `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) piece = `\\u${cp.toString(16).padStart(4, '0')}`;
    else piece = `\\u{${cp.toString(16)}}`;
    if (out.length + piece.length > maxChars) return `${out}...`;
    out += piece;
  }
  return out;
}

/** One dead-lettered message as the CLI shows it: every string escaped, no body. */
export interface DlqEntry {
  /** The DLQ copy's SQS message id (what `show` and `redrive --id` take). */
  readonly messageId: string;
  /** The id the message had on its source queue (`deadLetterOriginalMessageId`). */
  readonly originalMessageId: string | null;
  /** `deadLetterCode`, or {@link NO_CODE}. */
  readonly code: string;
  readonly reason: string | null;
  readonly sourceQueue: string | null;
  /** UTF-8 bytes of the body held in the DLQ. */
  readonly bodyBytes: number;
  /** True when the worker kept only a prefix of the body (the copy cannot be redriven). */
  readonly truncated: boolean;
  /** Size of the original body, when truncated. */
  readonly originalBodyBytes: number | null;
  /** SHA-256 of the original body, when truncated (to match the producer's logs). */
  readonly originalBodySha256: string | null;
  /** When the copy reached the DLQ (SQS `SentTimestamp`), ISO 8601. */
  readonly sentAt: string | null;
  /** SQS `ApproximateReceiveCount` of the copy (each `list` counts one). */
  readonly receiveCount: number | null;
  /** Other message attributes (the producer's), escaped and cut. */
  readonly attributes: Readonly<Record<string, string>>;
}

const ours: ReadonlySet<string> = new Set(Object.values(DEAD_LETTER_ATTRIBUTES));

/** The attribute's string value, escaped, or null. */
function attribute(message: Message, name: string, max = MAX_FIELD_CHARS): string | null {
  const value = message.MessageAttributes?.[name];
  if (value === undefined) return null;
  if (value.StringValue !== undefined) return escapeText(value.StringValue, max);
  return value.BinaryValue !== undefined ? `(binary, ${value.BinaryValue.byteLength} bytes)` : null;
}

const count = (text: string | null): number | null =>
  text !== null && /^\d{1,15}$/.test(text) ? Number(text) : null;

/** True when the copy holds only a prefix of the original body (dead-letter-queue.ts). */
export function isTruncatedCopy(message: Message): boolean {
  return message.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.originalBodyBytes] !== undefined;
}

/** The code a message is grouped under: its `deadLetterCode` (raw, for matching), else {@link NO_CODE}. */
export function rawCodeOf(message: Message): string {
  return message.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.code]?.StringValue ?? NO_CODE;
}

/** Describes one DLQ message for `list` (see the header: nothing unescaped, no body). */
export function describeEntry(message: Message): DlqEntry {
  const sent = count(message.Attributes?.SentTimestamp ?? null);
  const attributes: Record<string, string> = {};
  for (const name of Object.keys(message.MessageAttributes ?? {}).sort()) {
    if (ours.has(name)) continue;
    attributes[escapeText(name, 64)] = attribute(message, name, MAX_ATTRIBUTE_CHARS) ?? '';
  }
  return {
    messageId: escapeText(message.MessageId ?? '', 128),
    originalMessageId: attribute(message, DEAD_LETTER_ATTRIBUTES.originalMessageId, 128),
    code: escapeText(rawCodeOf(message), 64),
    reason: attribute(message, DEAD_LETTER_ATTRIBUTES.reason),
    sourceQueue: attribute(message, DEAD_LETTER_ATTRIBUTES.sourceQueue),
    bodyBytes: Buffer.byteLength(message.Body ?? '', 'utf8'),
    truncated: isTruncatedCopy(message),
    originalBodyBytes: count(attribute(message, DEAD_LETTER_ATTRIBUTES.originalBodyBytes)),
    originalBodySha256: attribute(message, DEAD_LETTER_ATTRIBUTES.originalBodySha256, 64),
    sentAt: sent === null ? null : new Date(sent).toISOString(),
    receiveCount: count(message.Attributes?.ApproximateReceiveCount ?? null),
    attributes,
  };
}

/** The messages of one code. */
export interface DlqGroup {
  readonly code: string;
  readonly count: number;
  readonly bytes: number;
  readonly oldest: string | null;
  readonly newest: string | null;
  readonly truncated: number;
  readonly entries: readonly DlqEntry[];
}

/** Groups entries by code: largest group first, then by code. */
export function groupByCode(entries: readonly DlqEntry[]): DlqGroup[] {
  const groups = new Map<string, DlqEntry[]>();
  for (const e of entries) groups.set(e.code, [...(groups.get(e.code) ?? []), e]);
  return [...groups.entries()]
    .map(([code, list]) => {
      const times = list.map((e) => e.sentAt).filter((t): t is string => t !== null);
      times.sort();
      return {
        code,
        count: list.length,
        bytes: list.reduce((n, e) => n + e.bodyBytes, 0),
        oldest: times[0] ?? null,
        newest: times[times.length - 1] ?? null,
        truncated: list.filter((e) => e.truncated).length,
        entries: [...list].sort((a, b) => (a.sentAt ?? '').localeCompare(b.sentAt ?? '')),
      };
    })
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

const size = (bytes: number): string =>
  bytes < 10_240
    ? `${bytes} B`
    : bytes < 10_485_760
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1_048_576).toFixed(1)} MiB`;

/** The text of `admin dlq list` for one queue. */
export function formatGroups(
  queue: string,
  groups: readonly DlqGroup[],
  options: { verbose?: boolean } = {},
): string {
  const total = groups.reduce((n, g) => n + g.count, 0);
  const lines = [
    `${queue}: ${total} message${total === 1 ? '' : 's'}, ${groups.length} code${groups.length === 1 ? '' : 's'}`,
  ];
  for (const g of groups) {
    const truncated = g.truncated > 0 ? `, ${g.truncated} truncated (cannot be redriven)` : '';
    lines.push(
      `  ${g.code}  ${g.count}  ${size(g.bytes)}  oldest ${g.oldest ?? '?'}  newest ${g.newest ?? '?'}${truncated}`,
    );
    const shown = options.verbose === true ? g.entries : g.entries.slice(0, 5);
    for (const e of shown) {
      lines.push(
        `    ${e.messageId}  ${size(e.bodyBytes)}${e.truncated ? ` (truncated, original ${e.originalBodyBytes ?? '?'} B)` : ''}  received ${e.receiveCount ?? '?'}x  ${e.reason ?? ''}`,
      );
    }
    if (shown.length < g.entries.length)
      lines.push(`    ... and ${g.entries.length - shown.length} more (--verbose lists all)`);
  }
  return lines.join('\n');
}

/** The text of `admin dlq show`: every attribute, then the body, all escaped. */
export function formatMessage(message: Message): string {
  const e = describeEntry(message);
  const lines = [
    `message id:          ${e.messageId}`,
    `original message id: ${e.originalMessageId ?? '(none)'}`,
    `code:                ${e.code}`,
    `reason:              ${e.reason ?? '(none)'}`,
    `source queue:        ${e.sourceQueue ?? '(none)'}`,
    `dead-lettered at:    ${e.sentAt ?? '?'}  (received ${e.receiveCount ?? '?'}x, each list/show counts one)`,
    `body:                ${e.bodyBytes} bytes${e.truncated ? `, a prefix of the original ${e.originalBodyBytes ?? '?'} bytes, sha256 ${e.originalBodySha256 ?? '?'}` : ''}`,
  ];
  for (const [name, value] of Object.entries(e.attributes)) lines.push(`attribute ${name}: ${value}`);
  lines.push('--- body (escaped: non-printable and non-ASCII characters as \\x/\\u escapes) ---');
  lines.push(escapeText(message.Body ?? ''));
  lines.push('--- end of body ---');
  return lines.join('\n');
}
