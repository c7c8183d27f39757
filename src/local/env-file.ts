/**
 * The local stack description (`.local/env.json`, written by `npm run env:up`) read as an
 * untyped JSON object, and the two guards its readers pick fields with. Each reader (the
 * origin simulator's topics, the dashboard's queues) keeps only the fields it needs.
 */
import { readFile } from 'node:fs/promises';

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The string, or undefined when it is not a non-empty string. */
export const nonEmptyString = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** Parses the env file at `path`; throws with the path when it is missing or not a JSON object. */
export async function readEnvFile(path: string): Promise<Record<string, unknown>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new Error(`cannot read env file ${path}`, { cause });
  }
  if (!isRecord(json)) throw new Error(`env file ${path} is not a JSON object`);
  return json;
}
