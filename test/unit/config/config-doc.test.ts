import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { configTable, TABLE_END, TABLE_START, withConfigTable } from '../../../src/config/config-doc.ts';
import { VARIABLES } from '../../../src/config/variables.ts';
import type { VariableSpec } from '../../../src/config/variables.ts';

const OPERATIONS = new URL('../../../docs/operations.md', import.meta.url);

describe('the variables table of docs/operations.md', () => {
  it('is exactly the table generated from the variable list (run `node scripts/config-doc.ts --write`)', () => {
    // Prepare
    const doc = readFileSync(OPERATIONS, 'utf8');

    // Act
    const regenerated = withConfigTable(doc);

    // Assess
    expect(doc).toContain(TABLE_START);
    expect(doc).toContain(TABLE_END);
    expect(doc).toBe(regenerated);
  });

  it('has one row per variable, in the order of the list, with its default', () => {
    // Act
    const rows = configTable().split('\n').slice(2);

    // Assess
    expect(rows.map((r) => /^\| `(\w+)`/.exec(r)?.[1])).toEqual(Object.keys(VARIABLES));
    expect(rows[0]).toMatch(/^\| `REDIS_MODE` +\| `standalone` +\| /);
    expect(rows.find((r) => r.startsWith('| `AWS_REGION`'))).toMatch(/\| required +\|/);
    expect(rows.find((r) => r.startsWith('| `REDIS_PASSWORD`'))).toMatch(/\| none +\|/);
  });

  it('refuses a description that would break the table', () => {
    // Prepare
    const bad: Record<string, VariableSpec> = { X: { description: 'a | b', schema: z.string() } };

    // Act / Assess
    expect(() => configTable(bad)).toThrow(/may not contain/);
  });
});

describe('the variable list', () => {
  it.each(Object.entries(VARIABLES) as [string, VariableSpec][])(
    '%s has a description, and its default (if any) parses',
    (_name, spec) => {
      // Act
      const parsed = spec.default === undefined ? undefined : spec.schema.safeParse(spec.default);

      // Assess
      expect(spec.description.length).toBeGreaterThan(0);
      if (parsed !== undefined) expect(parsed.success).toBe(true);
    },
  );
});
