/**
 * Reads the parts of the local stack description (`.local/env.json`, written by
 * `npm run env:up`) the simulator needs: topic ARNs, the LocalStack endpoint, the region.
 */
import { isRecord, nonEmptyString as str, readEnvFile } from '../local/env-file.ts';
import type { TopicArns } from './event-publisher.ts';

/** What the simulator takes from the env file; every field optional. */
export interface StackDescription {
  readonly topics: TopicArns;
  readonly endpoint?: string;
  readonly region?: string;
}

/** Parses the env file at `path`; throws with the path when it is missing or not JSON. */
export async function readStackDescription(path: string): Promise<StackDescription> {
  const json = await readEnvFile(path);
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
