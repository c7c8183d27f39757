/**
 * Reads the parts of the local stack description (`.local/env.json`, written by
 * `npm run env:up`) the simulator needs: topic ARNs, the LocalStack endpoint, the region.
 */
import { readFile } from 'node:fs/promises';
import type { TopicArns } from './event-publisher.ts';

/** What the simulator takes from the env file; every field optional. */
export interface StackDescription {
  readonly topics: TopicArns;
  readonly endpoint?: string;
  readonly region?: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** Parses the env file at `path`; throws with the path when it is missing or not JSON. */
export async function readStackDescription(path: string): Promise<StackDescription> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new Error(`cannot read env file ${path}`, { cause });
  }
  if (!isRecord(json)) throw new Error(`env file ${path} is not a JSON object`);
  const topics = isRecord(json.topics) ? json.topics : {};
  const localstack = isRecord(json.localstack) ? json.localstack : {};
  const found: Record<string, string | undefined> = {
    catalog: str(topics.catalog),
    promotions: str(topics.promotions),
    sessions: str(topics.sessions),
  };
  const endpoint = str(localstack.endpoint);
  const region = str(json.region);
  return {
    topics: Object.fromEntries(Object.entries(found).filter(([, arn]) => arn !== undefined)),
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(region !== undefined ? { region } : {}),
  };
}
