/**
 * Settings of one demo reader process, as the Orchestrator CLI (main.ts) hands them to each
 * child (one JSON argument), validated here.
 */
import { z } from 'zod';
import { RedisAccessSchema } from '../local/env-file.ts';

/** client: ours; naive: plain cache-aside; ttl-l1: per-task TTL L1 only; local-flight: in-process single-flight only. */
export const READER_MODES = ['client', 'naive', 'ttl-l1', 'local-flight'] as const;
export type ReaderMode = (typeof READER_MODES)[number];

const hostPort = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65_535) });

export const ReaderSettingsSchema = z.object({
  index: z.number().int().min(0),
  /** The design (docs/consistency.md): the cache client, or a hand-written one (naive-cache.ts). */
  mode: z.enum(READER_MODES),
  /** Reads per second of this process. */
  rate: z.number().positive().max(100_000),
  /** Reads in flight at most; past it a tick's reads are skipped (and counted). */
  maxInFlight: z.number().int().min(1).max(10_000),
  skew: z.number().min(0).max(5),
  catalogSize: z.number().int().min(1).max(1_000_000),
  users: z.number().int().min(1).max(1_000_000),
  mix: z.record(z.enum(['product', 'promo', 'reco', 'review']), z.number().min(0)).optional(),
  redis: z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('standalone'), host: z.string(), port: z.number().int() }),
    z.object({ mode: z.literal('sentinel'), sentinels: z.array(hostPort).min(1), name: z.string().min(1) }),
    z.object({ mode: z.literal('cluster'), nodes: z.array(hostPort).min(1) }),
  ]),
  /** TLS CA and password file of the Redis (env.json's shape; the password stays in its file); unset: neither. */
  redisAccess: RedisAccessSchema.optional(),
  namespace: z.string().min(1),
  locales: z.array(z.string().min(1)).min(1),
  tenant: z.string().min(1),
  originUrl: z.url(),
  adminPort: z.number().int().min(0).max(65_535),
  /** L1 entries (0: no L1). */
  l1Entries: z.number().int().min(0),
  /** 1 read in this many counts for hotness (0: no hotness). */
  hotnessSampleEvery: z.number().int().min(0),
  tracePath: z.string().min(1).optional(),
  /**
   * JSONL of what this process's L1 heard (client mode): `{"t":..,"seq":..,"ids":[event ids]}`
   * per broadcast dropped, `{"t":..,"flush":"<reason>"}` per flush. Unset: not written.
   */
  l1EventsPath: z.string().min(1).optional(),
  /**
   * Client mode: the workers' `WORKER_CANARY_INTERVAL_MS`; > 0 turns the pipeline guard on
   * (decision 0022: caches trusted only while the watermark proves delivery). Unset or 0: off.
   */
  canaryIntervalMs: z.number().int().min(0).optional(),
  /** Client mode: the fleet-wide origin budget, calls/s per family in any one second (decision 0022). */
  originBudgetPerS: z.number().int().min(5).optional(),
  /** Client mode: the lag window the run judges by; caps each family's guard window (decision 0022). */
  lagWindowMs: z.number().int().min(1).optional(),
  /** Processes sharing the budget (its in-process fallback's split). Default 2. */
  budgetProcesses: z.number().int().min(1).optional(),
  /** Stop after this many seconds (0: run until SIGTERM). */
  durationS: z.number().min(0),
  seed: z.number().int().optional(),
  /** Wait for a `{ type: 'start' }` IPC message before the first read (a run's processes start together). */
  waitForStart: z.boolean().optional(),
});

export type ReaderSettings = z.infer<typeof ReaderSettingsSchema>;
