/**
 * The variables table of docs/operations.md ("## Configuration"), generated from the one
 * list (variables.ts) so the doc cannot drift: `node scripts/config-doc.ts --write` rewrites
 * it, and test/unit/config/config-doc.test.ts fails when the doc differs from the list.
 * The table is padded as prettier pads markdown tables, so the format check leaves it alone.
 */
import type { VariableSpec } from './variables.ts';
import { VARIABLES } from './variables.ts';

/** The line before the generated table. */
export const TABLE_START =
  '<!-- generated from src/config/variables.ts by `node scripts/config-doc.ts --write` -->';
/** The line after it. */
export const TABLE_END = '<!-- end of the generated table -->';

/** The default column: the raw default, or whether the variable may stay unset. */
function defaultOf(spec: VariableSpec): string {
  if (spec.default !== undefined) return `\`${spec.default}\``;
  return spec.schema.safeParse(undefined).success ? 'none' : 'required';
}

/** The markdown table of every variable, in the order of the list. */
export function configTable(variables: Readonly<Record<string, VariableSpec>> = VARIABLES): string {
  const rows = Object.entries(variables).map(([name, spec]) => {
    if (spec.description.includes('|')) throw new Error(`${name}: a description may not contain "|"`);
    return [`\`${name}\``, defaultOf(spec), spec.description];
  });
  const header = ['variable', 'default', 'meaning'];
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** `doc` with the text between the markers replaced by the generated table. */
export function withConfigTable(doc: string, table: string = configTable()): string {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error('the doc has no generated-table markers');
  return `${doc.slice(0, start + TABLE_START.length)}\n\n${table}\n\n${doc.slice(end)}`;
}
