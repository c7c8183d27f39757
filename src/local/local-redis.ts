/**
 * How clients get into the local Redis, which runs with TLS and a password everywhere, as
 * ElastiCache with in-transit encryption and an AUTH token (docs/decisions/0017-local-redis-tls.md).
 * The credentials are made by `npm run env:up` (scripts/lib/tls.sh) in `.local/`: a CA, one
 * server certificate (SAN IP:127.0.0.1) and a password file (mode 0600). The shared stack's
 * are named by `.local/env.json` (`redis.tls`, `redis.passwordFile`); the private servers of
 * the tests and drills (private-sentinel-group.ts, test/support/private-*.ts) use the same.
 *
 * `redisAccessTuning` turns them into the settings every client of the fleet takes: the same
 * `tls`, `tlsCaFile` and `password` the worker reads from REDIS_TLS, REDIS_TLS_CA_FILE and
 * REDIS_PASSWORD (the AUTH token the CDK stack injects from Secrets Manager), so local and AWS
 * are one code path. `RedisAccess` has the four views of one credential set:
 *   .tuning     for createRedisConnection / the cache client (`{ ...config, tuning }`)
 *   .node       ioredis options for a client of one node, or a cluster's `redisOptions`
 *   .sentinel   ioredis options for a client through the Sentinels (TLS + AUTH to them too)
 *   .cli        redis-cli arguments and environment (the password never on a command line)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedisOptions } from 'ioredis';
import { accessOptions, sentinelAccessOptions } from '../adapters/redis/redis-connection.ts';
import type { ConnectionTuning } from '../adapters/redis/redis-connection.ts';
import type { RedisAccess as RedisAccessDescription } from './env-file.ts';

export type RedisAccessTuning = Pick<ConnectionTuning, 'tls' | 'tlsCaFile' | 'password'>;

const LOCAL = fileURLToPath(new URL('../../.local/', import.meta.url));

/** The local stack's credential files (scripts/lib/tls.sh makes them). */
export const LOCAL_REDIS_FILES = {
  ca: `${LOCAL}tls/ca.crt`,
  cert: `${LOCAL}tls/redis.crt`,
  key: `${LOCAL}tls/redis.key`,
  password: `${LOCAL}redis-password`,
} as const;

/** The tuning for `access`; reads the password file (throws naming it, with the fix). */
export function redisAccessTuning(access: RedisAccessDescription): RedisAccessTuning {
  return {
    ...(access.tls === undefined ? {} : { tls: true, tlsCaFile: access.tls.caFile }),
    ...(access.passwordFile === undefined ? {} : { password: readPassword(access.passwordFile) }),
  };
}

function readPassword(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new Error(`cannot read the local Redis password at ${path}: run "npm run env:up"`, { cause });
  }
  const password = text.trim();
  if (password.length === 0) throw new Error(`${path} is empty: delete it and run "npm run env:up"`);
  return password;
}

export interface RedisAccess {
  /** Whether TLS is on. */
  readonly tls: boolean;
  readonly tuning: RedisAccessTuning;
  readonly node: Pick<RedisOptions, 'password' | 'tls'>;
  readonly sentinel: RedisOptions;
  readonly cli: { readonly args: readonly string[]; readonly env: Readonly<Record<string, string>> };
}

/** The four views of the credentials `description` names. */
export function redisAccess(description: RedisAccessDescription): RedisAccess {
  const tuning = redisAccessTuning(description);
  return {
    tls: tuning.tls === true,
    tuning,
    node: accessOptions(tuning),
    sentinel: sentinelAccessOptions(tuning),
    cli: {
      args:
        tuning.tlsCaFile === undefined
          ? tuning.tls === true
            ? ['--tls']
            : []
          : ['--tls', '--cacert', tuning.tlsCaFile],
      env: tuning.password === undefined ? {} : { REDISCLI_AUTH: tuning.password },
    },
  };
}

let own: RedisAccess | undefined;

/** The credentials every private Redis, Sentinel and cluster node requires (the local stack's files). */
export function privateAccess(): RedisAccess {
  if (own) return own;
  const missing = Object.values(LOCAL_REDIS_FILES).filter((f) => !existsSync(f));
  if (missing.length > 0)
    throw new Error(
      `no local Redis credentials (${missing.join(', ')}): run "npm run env:up" (npm test does it)`,
    );
  return (own = redisAccess({
    tls: { caFile: LOCAL_REDIS_FILES.ca },
    passwordFile: LOCAL_REDIS_FILES.password,
  }));
}

/**
 * redis-server arguments that serve TLS only on `port` (no plain port), require the password
 * (also given to the primary when it replicates), replicate over TLS and, for cluster nodes,
 * run the cluster bus over TLS. Clients are not asked for certificates (as ElastiCache). The
 * password goes into `dir`/access-<port>.conf (mode 0600; the first argument, as redis-server
 * wants its config file), not onto the command line. More arguments may follow.
 */
export function privateServerArgs(port: number, dir: string, options: { cluster?: boolean } = {}): string[] {
  const password = privateAccess().tuning.password ?? '';
  const conf = join(dir, `access-${port}.conf`);
  writeFileSync(conf, `requirepass ${password}\nmasterauth ${password}\n`, { mode: 0o600 });
  return [
    conf,
    '--port',
    '0',
    '--tls-port',
    String(port),
    ...tlsArgs(),
    ...(options.cluster === true ? ['--tls-cluster', 'yes'] : []),
  ];
}

/**
 * The same for a Sentinel's config file (one directive a line): TLS only on `port`, the
 * password its clients (and the other Sentinels) give, TLS to the nodes it monitors.
 */
export function privateSentinelConfLines(port: number): string[] {
  const args = tlsArgs();
  const lines: string[] = [];
  for (let i = 0; i < args.length; i += 2) lines.push(`${args[i]?.slice(2)} ${args[i + 1]}`);
  return ['port 0', `tls-port ${port}`, ...lines, `requirepass ${privateAccess().tuning.password ?? ''}`];
}

/** The line after `sentinel monitor <masterName> ...`: the password it gives the nodes. */
export function privateSentinelAuthPass(masterName: string): string {
  return `sentinel auth-pass ${masterName} ${privateAccess().tuning.password ?? ''}`;
}

function tlsArgs(): string[] {
  privateAccess();
  return [
    '--tls-cert-file',
    LOCAL_REDIS_FILES.cert,
    '--tls-key-file',
    LOCAL_REDIS_FILES.key,
    '--tls-ca-cert-file',
    LOCAL_REDIS_FILES.ca,
    '--tls-auth-clients',
    'no',
    '--tls-replication',
    'yes',
  ];
}
