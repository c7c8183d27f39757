/**
 * What `admin dlq` prints about a DLQ message (dlq-entries.ts), at unit speed: escaping of
 * every character a terminal could act on, grouping by code, and no body in a listing.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_ATTRIBUTES } from '../../../src/adapters/sqs/dead-letter-queue.ts';
import {
  NO_CODE,
  describeEntry,
  escapeText,
  formatGroups,
  formatMessage,
  groupByCode,
} from '../../../src/admin/dlq-entries.ts';

const attr = (value: string) => ({ DataType: 'String', StringValue: value });
const message = (id: string, code: string | undefined, body: string, sent = 1_700_000_000_000): Message => ({
  MessageId: id,
  Body: body,
  Attributes: { SentTimestamp: String(sent), ApproximateReceiveCount: '2' },
  MessageAttributes: code === undefined ? {} : { [DEAD_LETTER_ATTRIBUTES.code]: attr(code) },
});

describe('escapeText', () => {
  it.each([
    ['plain ASCII stays', 'EVENT_MALFORMED: at position 3', 'EVENT_MALFORMED: at position 3'],
    ['ESC and BEL', '\u001b[2J\u0007', '\\x1b[2J\\x07'],
    ['the 8-bit CSI', '\u009b31m', '\\x9b31m'],
    ['CR, LF, tab', 'a\rb\nc\td', 'a\\rb\\nc\\td'],
    ['a bidi override and a zero-width space', 'gnp\u202Eexe\u200B', 'gnp\\u202eexe\\u200b'],
    ['an astral character', 'x😀', 'x\\u{1f600}'],
    ['a backslash, so an escape cannot be forged', '\\x1b', '\\\\x1b'],
  ])('%s', (_what, input, expected) => {
    expect(escapeText(input)).toBe(expected);
  });

  it('cuts at the limit without splitting an escape', () => {
    expect(escapeText('abc\u001bdef', 5)).toBe('abc...');
    expect(escapeText('x'.repeat(10), 4)).toBe('xxxx...');
  });
});

describe('grouping and listing', () => {
  it('groups by code, largest first (ties by code), counts bytes and marks truncated copies', () => {
    const truncated: Message = {
      ...message('t', 'EVENT_OVERSIZED', 'prefix', 1_700_000_003_000),
      MessageAttributes: {
        [DEAD_LETTER_ATTRIBUTES.code]: attr('EVENT_OVERSIZED'),
        [DEAD_LETTER_ATTRIBUTES.originalBodyBytes]: { DataType: 'Number', StringValue: '300000' },
      },
    };
    const groups = groupByCode(
      [
        message('a', 'EVENT_MALFORMED', '{'),
        message('b', 'EVENT_MALFORMED', '{{', 1_700_000_001_000),
        truncated,
        message('c', undefined, 'BODY-OF-C-NEVER-LISTED-HERE'),
      ].map(describeEntry),
    );
    expect(groups.map((g) => [g.code, g.count, g.bytes, g.truncated])).toEqual([
      ['EVENT_MALFORMED', 2, 3, 0],
      // Ties by code: '(' sorts before letters.
      [NO_CODE, 1, 27, 0],
      ['EVENT_OVERSIZED', 1, 6, 1],
    ]);
    expect(groups[0]?.oldest).toBe(new Date(1_700_000_000_000).toISOString());
    const text = formatGroups('catalog DLQ', groups);
    expect(text).toContain('catalog DLQ: 4 messages, 3 codes');
    expect(text).toContain('1 truncated (cannot be redriven)');
    expect(text).not.toContain('BODY-OF-C');
  });

  it('never puts a body in an entry, and show prints it escaped', () => {
    const m = message('h', 'EVENT_INVALID', 'secret \u001b[31m body');
    expect(JSON.stringify(describeEntry(m))).not.toContain('secret');
    const shown = formatMessage(m);
    expect(shown).toContain('secret \\x1b[31m body');
    expect(shown).not.toContain('\u001b');
  });
});
