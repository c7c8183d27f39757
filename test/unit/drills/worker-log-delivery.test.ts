/** The drills read each event's SQS enqueue time from the workers' debug log (run-drills.ts). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveredAtFromWorkerLogs } from '../../../src/drills/run-drills.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const logDir = (files: Record<string, string[]>) => {
  const dir = mkdtempSync(join(tmpdir(), 'drill-logs-'));
  dirs.push(dir);
  for (const [name, lines] of Object.entries(files)) writeFileSync(join(dir, name), lines.join('\n'));
  return dir;
};
const applied = (eventId: string, sqsSentAtMs: number) =>
  JSON.stringify({ level: 20, msg: 'invalidation applied', eventId, sqsSentAtMs });

describe('deliveredAtFromWorkerLogs', () => {
  it('takes the first enqueue time logged per event, over every worker, skipping other and cut lines', () => {
    const dir = logDir({
      'worker-1.log': [applied('a', 100), '{"msg":"redis connection lost"}', 'ioredis:redis status ...'],
      'worker-2.log': [applied('b', 200), applied('a', 999), '{"msg":"invalidation applied","eventId":"c"'],
      'reader-0.jsonl': [applied('z', 1)],
    });

    const at = deliveredAtFromWorkerLogs(dir);

    expect(at && Object.fromEntries(at)).toEqual({ a: 100, b: 200 });
  });

  it('is undefined at info level (no applied lines) and for a missing folder', () => {
    expect(
      deliveredAtFromWorkerLogs(logDir({ 'worker-1.log': ['{"msg":"worker started"}'] })),
    ).toBeUndefined();
    expect(deliveredAtFromWorkerLogs('/nonexistent/drill-logs')).toBeUndefined();
  });
});
