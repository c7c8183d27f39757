/**
 * Reads the demo Orchestrator's JSONL read traces (src/orchestrator-sim/read-trace.ts) into
 * ReadRecords for the staleness checker. A line that is not JSON or lacks `t`, `family` or
 * `id` is counted, not guessed at (a reader killed mid-write leaves a torn last line).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ReadRecord } from './read-staleness.ts';

/** The reads of the trace files, in file order, and the number of unreadable lines. */
export async function readTraceFiles(
  paths: readonly string[],
): Promise<{ reads: ReadRecord[]; bad: number }> {
  const reads: ReadRecord[] = [];
  let bad = 0;
  for (const path of paths) {
    const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line === '') continue;
      let r: unknown;
      try {
        r = JSON.parse(line);
      } catch {
        bad++;
        continue;
      }
      const o = r as Partial<ReadRecord>;
      if (typeof o.t !== 'number' || typeof o.family !== 'string' || typeof o.id !== 'string') {
        bad++;
        continue;
      }
      reads.push(o as ReadRecord);
    }
  }
  return { reads, bad };
}
