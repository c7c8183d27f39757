/**
 * Per-environment settings of the AWS stack, chosen with `-c env=dev|prod` and a few
 * optional context overrides. One schema: validated once, every problem reported together,
 * then frozen (the fastify habit), so a bad `cdk deploy` fails before CloudFormation does.
 */

/** Key families whose invalidation lag is measured and alarmed (`price` is never cached). */
export const LAG_FAMILIES = ['product', 'reco', 'promo', 'review'] as const;
export type LagFamily = (typeof LAG_FAMILIES)[number];

export const ENVIRONMENT_NAMES = ['dev', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** Service level objectives and alarm thresholds. */
export interface SloConfig {
  /** Alarm when the p99 of origin→delete lag of a family exceeds this, per family (ms). */
  readonly lagP99Ms: Readonly<Record<LagFamily, number>>;
  /** Alarm when the oldest message of any consumer queue is older than this (seconds). */
  readonly oldestMessageAgeSeconds: number;
  /** Alarm when the fleet reports more Redis errors than this in one period. */
  readonly redisErrorsPerPeriod: number;
  /** Period of the SLO alarms (seconds; a multiple of 60). */
  readonly alarmPeriodSeconds: number;
  /** Consecutive breaching periods before a lag/age alarm fires. */
  readonly evaluationPeriods: number;
}

/** Everything that differs between environments. */
export interface EnvironmentConfig {
  readonly envName: EnvironmentName;
  /** Prefix of every physical name (topics, queues, log groups, dashboard). */
  readonly namePrefix: string;
  /** ElastiCache node type of the primary and its replica. */
  readonly cacheNodeType: string;
  /** Redis engine version (7.x; the worker relies on UNLINK, WAIT and Lua). */
  readonly redisEngineVersion: string;
  /** Non-default port the replication group listens on. */
  readonly redisPort: number;
  /** Days of daily snapshots kept (at least 1: the AwsSolutions pack requires backups). */
  readonly snapshotRetentionDays: number;
  /** Fargate task size. */
  readonly taskCpu: number;
  readonly taskMemoryMiB: number;
  /** Bounds of the service's task count. */
  readonly minTasks: number;
  readonly maxTasks: number;
  /** Target of the backlog-per-task scaling policy (visible messages per running task). */
  readonly backlogPerTaskTarget: number;
  /** The worker's drain deadline on SIGTERM (seconds). */
  readonly drainDeadlineSeconds: number;
  /** ECS stop timeout: SIGTERM → SIGKILL (seconds, at most 120 on Fargate). */
  readonly stopTimeoutSeconds: number;
  /** Receives before a message moves to its DLQ. */
  readonly maxReceiveCount: number;
  /**
   * Queue visibility timeout (seconds), for a receive that names none; must exceed the drain
   * deadline. The workers name their own (receiveVisibilityTimeoutSeconds).
   */
  readonly visibilityTimeoutSeconds: number;
  /**
   * The visibility the workers ask for on receive (seconds), extended every
   * heartbeatIntervalSeconds while a batch is in hand or its ack held: it bounds how late the
   * in-flight events of a crashed or stopped task are (decision 0021).
   */
  readonly receiveVisibilityTimeoutSeconds: number;
  /** How often a batch in hand (or a held ack) has its visibility extended (seconds). */
  readonly heartbeatIntervalSeconds: number;
  /** NAT gateways of the VPC (1 is cheaper; 2 survives an AZ outage). */
  readonly natGateways: number;
  /** Retention of every log group (days; a value CloudWatch Logs accepts). */
  readonly logRetentionDays: number;
  /** Use this existing VPC instead of creating one (needs account and region). */
  readonly vpcId: string | undefined;
  /** Subscribe this address to the alarm topic. */
  readonly alarmEmail: string | undefined;
  /** Base URL of the Reviews origin inside the VPC, which the hourly refresh calls. */
  readonly reviewsOriginUrl: string;
  /** Keep data-bearing resources (keys, snapshots, log groups) when the stack is deleted. */
  readonly retainData: boolean;
  /** Run the consistency auditor (its queue and one task; `-c auditor=true`). */
  readonly auditor: boolean;
  readonly slo: SloConfig;
}

const BASE: Omit<EnvironmentConfig, 'envName' | 'namePrefix'> = {
  cacheNodeType: 'cache.t4g.small',
  redisEngineVersion: '7.1',
  redisPort: 6380,
  snapshotRetentionDays: 1,
  taskCpu: 256,
  taskMemoryMiB: 512,
  minTasks: 1,
  maxTasks: 4,
  backlogPerTaskTarget: 100,
  drainDeadlineSeconds: 60,
  stopTimeoutSeconds: 120,
  maxReceiveCount: 8,
  visibilityTimeoutSeconds: 90,
  receiveVisibilityTimeoutSeconds: 3,
  heartbeatIntervalSeconds: 1,
  natGateways: 1,
  logRetentionDays: 14,
  vpcId: undefined,
  alarmEmail: undefined,
  reviewsOriginUrl: 'http://reviews.internal:8080',
  retainData: false,
  auditor: false,
  slo: {
    // The seeds' bar: a critical (promo) change must be gone from the cache within a second.
    lagP99Ms: { product: 2_000, reco: 2_000, promo: 1_000, review: 5_000 },
    oldestMessageAgeSeconds: 120,
    redisErrorsPerPeriod: 0,
    alarmPeriodSeconds: 60,
    evaluationPeriods: 3,
  },
};

/** The defaults of each environment, before context overrides. */
export const ENVIRONMENT_DEFAULTS: Readonly<Record<EnvironmentName, EnvironmentConfig>> = {
  dev: { ...BASE, envName: 'dev', namePrefix: 'cif-dev' },
  prod: {
    ...BASE,
    envName: 'prod',
    namePrefix: 'cif-prod',
    cacheNodeType: 'cache.r7g.large',
    snapshotRetentionDays: 7,
    taskCpu: 512,
    taskMemoryMiB: 1024,
    minTasks: 2,
    maxTasks: 20,
    natGateways: 2,
    logRetentionDays: 90,
    retainData: true,
    slo: { ...BASE.slo, lagP99Ms: { product: 1_000, reco: 1_000, promo: 500, review: 5_000 } },
  },
};

/** Raised with every problem of a configuration at once. */
export class EnvironmentConfigError extends Error {
  public readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid stack configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'EnvironmentConfigError';
    this.problems = problems;
  }
}

const FARGATE_MEMORY: Readonly<Record<number, readonly [number, number]>> = {
  256: [512, 2048],
  512: [1024, 4096],
  1024: [2048, 8192],
  2048: [4096, 16384],
  4096: [8192, 30720],
};
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * Builds the configuration of an environment from CDK context (`tryGetContext`), applying
 * the overrides, validating every field and cross-field rule, and freezing the result.
 */
export function resolveEnvironmentConfig(getContext: (key: string) => unknown): EnvironmentConfig {
  const problems: string[] = [];
  const envRaw = getContext('env') ?? 'dev';
  if (typeof envRaw !== 'string' || !(ENVIRONMENT_NAMES as readonly string[]).includes(envRaw)) {
    throw new EnvironmentConfigError([
      `env must be one of ${ENVIRONMENT_NAMES.join(', ')} (got ${JSON.stringify(envRaw)})`,
    ]);
  }
  const base = ENVIRONMENT_DEFAULTS[envRaw as EnvironmentName];
  const str = (key: string): string | undefined => {
    const v = getContext(key);
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') problems.push(`${key} must be a string`);
    return typeof v === 'string' ? v : undefined;
  };
  const int = (key: string): number | undefined => {
    const v = getContext(key);
    if (v === undefined || v === '') return undefined;
    // `-c minTasks=3` arrives as a string; cdk.json values arrive typed.
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      problems.push(`${key} must be an integer (got ${JSON.stringify(v)})`);
      return undefined;
    }
    return n;
  };
  const bool = (key: string): boolean | undefined => {
    const v = getContext(key);
    if (v === undefined || v === '') return undefined;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    problems.push(`${key} must be true or false (got ${JSON.stringify(v)})`);
    return undefined;
  };
  const config: EnvironmentConfig = {
    ...base,
    namePrefix: str('namePrefix') ?? base.namePrefix,
    cacheNodeType: str('cacheNodeType') ?? base.cacheNodeType,
    minTasks: int('minTasks') ?? base.minTasks,
    maxTasks: int('maxTasks') ?? base.maxTasks,
    alarmEmail: str('alarmEmail') ?? base.alarmEmail,
    vpcId: str('vpcId') ?? base.vpcId,
    reviewsOriginUrl: str('reviewsOriginUrl') ?? base.reviewsOriginUrl,
    auditor: bool('auditor') ?? base.auditor,
  };
  problems.push(...validateEnvironmentConfig(config));
  if (problems.length > 0) throw new EnvironmentConfigError(problems);
  return deepFreeze(config);
}

/** Every problem of a configuration (empty when valid). */
export function validateEnvironmentConfig(c: EnvironmentConfig): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, message: string): void => {
    if (!ok) problems.push(message);
  };
  check(
    /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/.test(c.namePrefix),
    `namePrefix must be 3-32 of [a-z0-9-] (got ${c.namePrefix})`,
  );
  check(
    /^cache\.[a-z0-9]+\.[a-z0-9]+$/.test(c.cacheNodeType),
    `cacheNodeType must look like cache.r7g.large (got ${c.cacheNodeType})`,
  );
  check(
    /^7\.\d+$/.test(c.redisEngineVersion),
    `redisEngineVersion must be 7.x (got ${c.redisEngineVersion})`,
  );
  check(
    Number.isInteger(c.redisPort) && c.redisPort >= 1024 && c.redisPort <= 65535,
    'redisPort must be 1024-65535',
  );
  check(c.redisPort !== 6379, 'redisPort must not be the default 6379');
  check(
    Number.isInteger(c.snapshotRetentionDays) &&
      c.snapshotRetentionDays >= 1 &&
      c.snapshotRetentionDays <= 35,
    'snapshotRetentionDays must be 1-35',
  );
  const mem = FARGATE_MEMORY[c.taskCpu];
  if (!mem) problems.push(`taskCpu must be one of ${Object.keys(FARGATE_MEMORY).join(', ')}`);
  else
    check(
      c.taskMemoryMiB >= mem[0] && c.taskMemoryMiB <= mem[1],
      `taskMemoryMiB must be ${mem[0]}-${mem[1]} for ${c.taskCpu} CPU units`,
    );
  check(
    Number.isInteger(c.minTasks) && c.minTasks >= 1,
    'minTasks must be at least 1 (a queue with no consumer only grows)',
  );
  check(Number.isInteger(c.maxTasks) && c.maxTasks >= c.minTasks, 'maxTasks must be at least minTasks');
  check(c.maxTasks <= 100, 'maxTasks must be at most 100');
  check(c.backlogPerTaskTarget > 0, 'backlogPerTaskTarget must be positive');
  check(c.stopTimeoutSeconds <= 120, 'stopTimeoutSeconds must be at most 120 (the Fargate limit)');
  check(
    c.stopTimeoutSeconds >= c.drainDeadlineSeconds + 10,
    'stopTimeoutSeconds must exceed drainDeadlineSeconds by at least 10 s, or SIGKILL cuts the drain short',
  );
  check(
    c.visibilityTimeoutSeconds > c.drainDeadlineSeconds,
    'visibilityTimeoutSeconds must exceed drainDeadlineSeconds, or messages reappear while still being drained',
  );
  check(
    Number.isInteger(c.heartbeatIntervalSeconds) && c.heartbeatIntervalSeconds >= 1,
    'heartbeatIntervalSeconds must be a whole number of seconds, at least 1',
  );
  check(
    Number.isInteger(c.receiveVisibilityTimeoutSeconds) &&
      c.receiveVisibilityTimeoutSeconds > c.heartbeatIntervalSeconds,
    'receiveVisibilityTimeoutSeconds must be whole seconds, longer than heartbeatIntervalSeconds, or messages reappear before their visibility is extended',
  );
  check(
    Number.isInteger(c.maxReceiveCount) && c.maxReceiveCount >= 1 && c.maxReceiveCount <= 1000,
    'maxReceiveCount must be 1-1000',
  );
  check(
    Number.isInteger(c.natGateways) && c.natGateways >= 1 && c.natGateways <= 2,
    'natGateways must be 1 or 2',
  );
  check(
    LOG_RETENTION_DAYS.includes(c.logRetentionDays),
    `logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
  );
  check(
    c.vpcId === undefined || /^vpc-[0-9a-f]{8,17}$/.test(c.vpcId),
    `vpcId must look like vpc-0123abcd (got ${c.vpcId})`,
  );
  check(
    /^https?:\/\/[^\s/]+(?::\d+)?(?:\/\S*)?$/.test(c.reviewsOriginUrl),
    `reviewsOriginUrl must be an http(s) URL (got ${c.reviewsOriginUrl})`,
  );
  check(
    c.alarmEmail === undefined || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(c.alarmEmail),
    `alarmEmail is not an address (got ${c.alarmEmail})`,
  );
  for (const family of LAG_FAMILIES) {
    const v = c.slo.lagP99Ms[family];
    check(Number.isFinite(v) && v > 0, `slo.lagP99Ms.${family} must be a positive number of ms`);
  }
  check(
    c.slo.oldestMessageAgeSeconds >= 60,
    'slo.oldestMessageAgeSeconds must be at least 60 (SQS reports it per minute)',
  );
  check(c.slo.redisErrorsPerPeriod >= 0, 'slo.redisErrorsPerPeriod must not be negative');
  check(
    c.slo.alarmPeriodSeconds >= 60 && c.slo.alarmPeriodSeconds % 60 === 0,
    'slo.alarmPeriodSeconds must be a multiple of 60',
  );
  check(
    Number.isInteger(c.slo.evaluationPeriods) && c.slo.evaluationPeriods >= 1,
    'slo.evaluationPeriods must be at least 1',
  );
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
