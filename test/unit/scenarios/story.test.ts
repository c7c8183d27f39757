import { describe, expect, it } from 'vitest';
import { designRows, formatTable, type StoryResult } from '../../../src/scenarios/story.ts';

describe('story tables', () => {
  it('makes one row per design, in the designs order, reading absent or non-numeric figures as 0', () => {
    // Prepare
    const designs = [
      { name: 'ours', reader: 'client' },
      { name: 'naive', reader: 'naive' },
    ];
    const figures = { ours: { reads: 10, note: 'x', gone: null }, other: { reads: 99 } };

    // Act
    const rows = designRows(designs, figures, (n, f, d) => ({
      reads: String(n('reads')),
      note: String(n('note')) + String(n('gone')) + String(n('missing')),
      text: typeof f.note === 'string' ? f.note : '-',
      reader: d.reader,
    }));

    // Assess
    expect(rows).toEqual([
      { design: 'ours', cells: { reads: '10', note: '000', text: 'x', reader: 'client' } },
      { design: 'naive', cells: { reads: '0', note: '000', text: '-', reader: 'naive' } },
    ]);
    const table = formatTable({
      story: 's',
      title: 't',
      columns: ['reads', 'reader'],
      rows,
      verdicts: [],
      notes: [],
      figures,
    } satisfies StoryResult);
    expect(table).toMatch(/\| ours +\| +10 \| +client \|/);
    expect(table).toMatch(/\| naive +\| +0 \| +naive \|/);
  });
});
