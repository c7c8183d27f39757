/**
 * The parts of the local stack description (`.local/env.json`, src/local/env-file.ts) the
 * simulator needs: topic ARNs, the LocalStack endpoint, the region. A family whose topic is
 * missing from the file gets none (its changes answer 409).
 */
import { LocalStackDescriptionSchema, StackTopicsSchema, readStackFile } from '../local/env-file.ts';
import type { TopicArns } from './event-publisher.ts';

const SimulatorView = LocalStackDescriptionSchema.pick({ region: true, localstack: true }).extend({
  topics: StackTopicsSchema.partial(),
});

/** What the simulator takes from the env file. */
export interface StackDescription {
  readonly topics: TopicArns;
  readonly endpoint: string;
  readonly region: string;
}

/** Reads the env file at `path`; throws with the path when it is missing or invalid. */
export function readStackDescription(path: string): StackDescription {
  const { topics, localstack, region } = readStackFile(path, SimulatorView);
  return { topics, endpoint: localstack.endpoint, region };
}
