/**
 * The V8 heap limits a worker process is started with, from the memory its task has.
 *
 * Without them V8 sizes its heap for the memory of the host it sees, not the task's: on the
 * local 24 GB machine a worker's young generation grew to 128 MiB and its heap ceiling was
 * about 4 GiB, so garbage piled up between collections and the worker's RSS rose from 160 to
 * 382 MiB in 4 minutes at 50 events/s, while a heap snapshot held 45 MiB of live objects
 * (docs/benchmarks.md, "Worker memory"). With these limits the same run stays flat
 * (decision 0014).
 *
 * - `--max-semi-space-size`: the young generation is up to three semi-spaces; 16 MiB keeps it
 *   under 48 MiB. A scavenge every 16 MiB allocated is cheap at the worker's rates.
 * - `--max-old-space-size`: a share of the task's memory that leaves room for the young
 *   generation, code, buffers and the process' own mappings (about 60 MiB of file-backed
 *   pages here), and is still far above the worker's largest live set: about 45 MiB at rest,
 *   plus the replay ring's cap (64 MiB) and held acks (at most 10 000 messages).
 */

/** Memory of one worker task when nothing else is said (the stack's default, MiB). */
export const DEFAULT_TASK_MEMORY_MIB = 512;
/** Largest young-generation semi-space, MiB. */
export const WORKER_SEMI_SPACE_MIB = 16;
/** Share of the task's memory given to V8's old generation. */
export const WORKER_OLD_SPACE_SHARE = 0.375;

/** Node options for a worker in a task of `taskMemoryMiB` (e.g. 512 -> old space 192 MiB). */
export function workerHeapOptions(taskMemoryMiB: number = DEFAULT_TASK_MEMORY_MIB): string[] {
  if (!Number.isSafeInteger(taskMemoryMiB) || taskMemoryMiB < 256)
    throw new RangeError(`a worker task needs at least 256 MiB of memory, got ${taskMemoryMiB}`);
  return [
    `--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`,
    `--max-old-space-size=${Math.floor(taskMemoryMiB * WORKER_OLD_SPACE_SHARE)}`,
  ];
}
