/**
 * What the demo Orchestrator remembers of its reads, for the auditor's staleness check
 * against the origin's version history: per-process counters (per family: reads by source,
 * errors, latency sum) and, optionally, a JSONL trace with one line per read:
 *
 *   {"t":1764583200123,"p":0,"family":"promo","id":"manga-home","v":7,"src":"l1","ms":0.04}
 *
 * `t` is the wall time the read returned (ms), `ms` how long it took (so `t - ms` is when it
 * began), `v` the version served (absent on an error, with `err` instead), `p` the process
 * index, `u` the user browsing (when the caller names one). src/consistency/read-staleness.ts
 * judges these lines.
 */
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import type { ReadFamily, ReadResult } from '../client/cache-client.ts';
import type { ReaderMode } from './reader-settings.ts';

export type ReadSource = ReadResult['source'] | 'error';

export interface FamilyCounters {
  reads: number;
  errors: number;
  bySource: Partial<Record<ReadSource, number>>;
  latencyMsSum: number;
  /** Highest version served so far (a cheap monotonicity hint, not the audit). */
  maxVersion: number;
}

export interface ReadTraceSnapshot {
  readonly process: number;
  readonly mode: ReaderMode;
  readonly since: string;
  readonly families: Partial<Record<ReadFamily, FamilyCounters>>;
  /** Reads not issued because the in-flight bound was reached (the demo fell behind its rate). */
  readonly skipped: number;
  readonly tracePath?: string;
}

export class ReadTrace {
  readonly #process: number;
  readonly #mode: ReaderMode;
  readonly #since = new Date().toISOString();
  readonly #families: Partial<Record<ReadFamily, FamilyCounters>> = {};
  readonly #file: WriteStream | undefined;
  readonly #tracePath: string | undefined;
  #skipped = 0;

  constructor(options: { process: number; mode: ReaderMode; tracePath?: string | undefined }) {
    this.#process = options.process;
    this.#mode = options.mode;
    this.#tracePath = options.tracePath;
    this.#file =
      options.tracePath === undefined ? undefined : createWriteStream(options.tracePath, { flags: 'a' });
  }

  #counters(family: ReadFamily): FamilyCounters {
    let c = this.#families[family];
    if (c === undefined) {
      c = { reads: 0, errors: 0, bySource: {}, latencyMsSum: 0, maxVersion: 0 };
      this.#families[family] = c;
    }
    return c;
  }

  /** One read that returned `result` (or failed with `error`) after `ms`. */
  record(
    family: ReadFamily,
    id: string,
    ms: number,
    result: ReadResult | undefined,
    error?: unknown,
    user?: string,
  ): void {
    const c = this.#counters(family);
    const src: ReadSource = result === undefined ? 'error' : result.source;
    c.reads++;
    if (result === undefined) c.errors++;
    c.bySource[src] = (c.bySource[src] ?? 0) + 1;
    c.latencyMsSum += ms;
    if (result?.version !== undefined && result.version > c.maxVersion) c.maxVersion = result.version;
    if (this.#file !== undefined) {
      const line: Record<string, unknown> = { t: Date.now(), p: this.#process, family, id };
      if (result === undefined) line.err = error instanceof Error ? error.name : 'error';
      else line.v = result.version ?? null;
      line.src = src;
      line.ms = Math.round(ms * 100) / 100;
      if (user !== undefined) line.u = user;
      this.#file.write(`${JSON.stringify(line)}\n`);
    }
  }

  skipped(): void {
    this.#skipped++;
  }

  snapshot(): ReadTraceSnapshot {
    return {
      process: this.#process,
      mode: this.#mode,
      since: this.#since,
      families: structuredClone(this.#families),
      skipped: this.#skipped,
      ...(this.#tracePath === undefined ? {} : { tracePath: this.#tracePath }),
    };
  }

  async close(): Promise<void> {
    const f = this.#file;
    if (f === undefined) return;
    await new Promise<void>((resolve) => f.end(resolve));
  }
}
