/**
 * The audit trail of administrative actions (issue 14): every purge, pause, resume and DLQ
 * redrive appends one record saying who did what, to what, why, when, and how it ended.
 *
 * One record goes three ways, so losing one still leaves a trace:
 * - a Redis stream (`<ns>:{admin}:audit`), append-only: `XADD ... MAXLEN ~ <maxLength>` keeps
 *   the newest records (about `maxLength`, default 100,000) and drops the oldest, so the
 *   trail can never fill Redis; nothing here edits or deletes a record;
 * - the log, one `admin audit` line at info (in AWS the task's log group in CloudWatch Logs
 *   keeps it beyond the stream's length);
 * - a metric, `admin_actions_total{action,result}` (through the `onRecord` hook).
 * `append` writes the log and the metric first, then the stream: a Redis failure is
 * reported (rejects) but the log line already stands.
 *
 * `read` returns records newest first (XREVRANGE), optionally filtered by action or actor.
 */
import type { Logger } from 'pino';
import type { RedisClient } from '../adapters/redis/redis-connection.ts';

/** How an action ended. `dry-run`: only the blast radius was computed. */
export type AuditResult = 'ok' | 'failed' | 'refused' | 'dry-run';

/** One administrative action. Everything is a string or a number, so the stream holds it flat. */
export interface AuditRecord {
  /** The operator identity the admin API authenticated (or `cli:<user>` for direct paths). */
  readonly actor: string;
  /** What was done: `purge.key`, `purge.entity`, `purge.family`, `purge.tenant`, `pause`, `resume`, `dlq.redrive`... */
  readonly action: string;
  /** What it was done to, e.g. `product:acme:B08X1YRSTR`, `queue:all`. */
  readonly target: string;
  /** Why, as the operator wrote it (required for every action that changes anything). */
  readonly reason: string;
  /** When it was done, ISO 8601 UTC. */
  readonly at: string;
  readonly result: AuditResult;
  /** Numbers and short facts of the action (key count, fence value, error code...). */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

/** A record as read back, with its stream id (`<ms>-<seq>`). */
export interface StoredAuditRecord extends AuditRecord {
  readonly id: string;
}

export interface AuditReadOptions {
  /** At most this many records (newest first). Default 50, at most 10,000. */
  readonly limit?: number;
  /** Only records whose action equals this or starts with `<this>.` (e.g. `purge`). */
  readonly action?: string;
  readonly actor?: string;
  /** Only records at or after this time (ms since epoch). */
  readonly sinceMs?: number;
}

export interface AuditTrailOptions {
  readonly client: RedisClient;
  /** The key namespace (the key builder's, default `mc`). */
  readonly namespace: string;
  /** Approximate number of records the stream keeps. Default 100,000. */
  readonly maxLength?: number;
  readonly logger?: Pick<Logger, 'info'>;
  /** Called for every record appended (the metric). */
  readonly onRecord?: (record: AuditRecord) => void;
}

export const AUDIT_DEFAULT_MAX_LENGTH = 100_000;
const FIELDS = ['actor', 'action', 'target', 'reason', 'at', 'result'] as const;

/** The stream key of a namespace's audit trail (hash tag `{admin}`: one slot in a cluster). */
export const auditStreamKey = (namespace: string): string => `${namespace}:{admin}:audit`;

export class AuditTrail {
  readonly key: string;
  readonly #client: RedisClient;
  readonly #maxLength: number;
  readonly #logger: Pick<Logger, 'info'> | undefined;
  readonly #onRecord: ((record: AuditRecord) => void) | undefined;

  constructor(options: AuditTrailOptions) {
    this.key = auditStreamKey(options.namespace);
    this.#client = options.client;
    this.#maxLength = options.maxLength ?? AUDIT_DEFAULT_MAX_LENGTH;
    if (!Number.isSafeInteger(this.#maxLength) || this.#maxLength < 1)
      throw new RangeError('maxLength must be a positive integer');
    this.#logger = options.logger;
    this.#onRecord = options.onRecord;
  }

  /** Appends `record`; resolves with its stream id. */
  async append(record: AuditRecord): Promise<string> {
    this.#logger?.info({ audit: record }, 'admin audit');
    this.#onRecord?.(record);
    const fields: string[] = [];
    for (const f of FIELDS) fields.push(f, String(record[f]));
    if (record.details !== undefined) fields.push('details', JSON.stringify(record.details));
    const id = await this.#client.xadd(this.key, 'MAXLEN', '~', String(this.#maxLength), '*', ...fields);
    return id ?? '';
  }

  /** Records newest first, filtered (see {@link AuditReadOptions}). */
  async read(options: AuditReadOptions = {}): Promise<StoredAuditRecord[]> {
    const limit = Math.min(Math.max(1, Math.trunc(options.limit ?? 50)), 10_000);
    const start = options.sinceMs === undefined ? '-' : String(Math.max(0, Math.trunc(options.sinceMs)));
    const filtered = options.action !== undefined || options.actor !== undefined;
    const out: StoredAuditRecord[] = [];
    let end = '+';
    // Page backwards until enough records match (filters may skip many).
    for (;;) {
      const page = Math.min(1_000, filtered ? 1_000 : limit - out.length);
      const entries = await this.#client.xrevrange(this.key, end, start, 'COUNT', page);
      for (const [id, raw] of entries) {
        const record = decode(id, raw);
        if (record !== undefined && matches(record, options)) out.push(record);
        if (out.length >= limit) return out;
      }
      if (entries.length < page) return out;
      end = `(${entries[entries.length - 1]?.[0] ?? '0-0'}`;
    }
  }
}

function matches(r: AuditRecord, o: AuditReadOptions): boolean {
  if (o.actor !== undefined && r.actor !== o.actor) return false;
  if (o.action !== undefined && r.action !== o.action && !r.action.startsWith(`${o.action}.`)) return false;
  return true;
}

const RESULTS: ReadonlySet<string> = new Set<AuditResult>(['ok', 'failed', 'refused', 'dry-run']);

function decode(id: string, raw: string[]): StoredAuditRecord | undefined {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) m.set(raw[i] ?? '', raw[i + 1] ?? '');
  const result = m.get('result') ?? '';
  if (!RESULTS.has(result)) return undefined;
  let details: Record<string, string | number | boolean> | undefined;
  const d = m.get('details');
  if (d !== undefined) {
    try {
      details = JSON.parse(d) as Record<string, string | number | boolean>;
    } catch {
      details = { unreadable: true };
    }
  }
  return {
    id,
    actor: m.get('actor') ?? '',
    action: m.get('action') ?? '',
    target: m.get('target') ?? '',
    reason: m.get('reason') ?? '',
    at: m.get('at') ?? '',
    result: result as AuditResult,
    ...(details === undefined ? {} : { details }),
  };
}
