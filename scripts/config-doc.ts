/**
 * Prints the worker's variables table (markdown), generated from src/config/variables.ts;
 * with `--write`, puts it into docs/operations.md between its markers.
 *   node scripts/config-doc.ts [--write]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { configTable, withConfigTable } from '../src/config/config-doc.ts';

const DOC = new URL('../docs/operations.md', import.meta.url);

if (process.argv.includes('--write')) writeFileSync(DOC, withConfigTable(readFileSync(DOC, 'utf8')));
else process.stdout.write(`${configTable()}\n`);
