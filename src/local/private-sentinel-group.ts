/**
 * A private replication group for one test or one chaos drill (src/drills/): a primary, one replica and three Sentinels
 * (quorum 2) on free loopback ports, temp dirs, no persistence, plus an "endpoint proxy"
 * standing in for ElastiCache's *primary endpoint* (see ./endpoint-proxy.ts). It can be
 * failed over without touching the shared stack, under two timing profiles:
 *
 *   profile       down-after-milliseconds            failover-timeout    DNS switch of `endpoint`
 *   fast          1000 (as the shared stack)         5000                at once (0 ms)
 *   elasticache   random in [15000, 30000], or the   2 x down-after      5000 ms after promotion
 *                 fixed `downAfterMs` you pass
 *
 * Every option can be overridden. The chosen values are on the group (`downAfterMs`, ...).
 * Measured on loopback: kill -> +switch-master is down-after + ~1.2 s (fast ~2.3 s; elasticache
 * with 15 s: ~16.2 s). Start-up takes ~1.3 s (the Sentinels are told about each other and the
 * replica in their config instead of waiting for hello messages). A restore syncs in ~1 s: the
 * data set is tiny; play ElastiCache's minutes by waiting before you call it. Sentinel caveats
 * (see docs/decisions/0009-elasticache-like-twin.md): a second automatic failover within
 * 2 x failover-timeout of the first is held back, and a (rare) split vote retries after that.
 *
 * What each call does (times are `Date.now()` milliseconds):
 *
 *   const g = await startPrivateSentinelGroup({ profile: 'elasticache', downAfterMs: 15_000 });
 *   g.sentinels, g.masterName       // for a Sentinel client; g.redisConfig('sentinel') builds one
 *   g.endpoint                      // the "primary endpoint": g.redisConfig('standalone');
 *                                   // g.endpointProxy for retarget()/dropConnections() by hand
 *   g.primary(), g.replica()        // the group's current view (updated on +switch-master);
 *                                   // replica() is undefined while no replica process runs
 *   await g.killPrimary()           // SIGKILL of the primary -> { killedAt, killed }. Nothing
 *                                   // restarts it: the promoted primary has NO replica until
 *                                   // you call restoreOldPrimaryAsReplica() (or autoRestoreAfterMs)
 *   await g.waitForPromotion(ms?)   // -> { promotedAt, newPrimary, oldPrimary, sdownAt, odownAt }:
 *                                   // the first promotion since the latest trigger (killPrimary,
 *                                   // freezePrimary, demoteViaRoleSwap); at once if it already
 *                                   // happened. promotedAt = first +switch-master seen.
 *   await g.waitForEndpointSwitch(ms?) // -> { switchedAt, target }: the proxy now sends new
 *                                   // connections to the current primary
 *   await g.restoreOldPrimaryAsReplica() // restarts the killed node (empty, as a replacement
 *                                   // node would be) with --replicaof the new primary; resolves
 *                                   // when the primary reports it online and every Sentinel
 *                                   // lists it as a healthy replica
 *   await g.demoteViaRoleSwap()     // SENTINEL FAILOVER with the primary alive; as soon as the
 *                                   // replica reports role:master the old primary gets REPLICAOF
 *                                   // (WITHOUT the CLIENT KILL that Sentinel itself would send),
 *                                   // so connections already open through `endpoint` stay on the
 *                                   // demoted node and their writes get READONLY
 *                                   // -> Promotion & { demotedAt }
 *   g.freezeReplica() / g.thawReplica()   // SIGSTOP / SIGCONT of the replica (it still accepts
 *                                   // TCP connections; probe with a timeout)
 *   await g.stopReplica() / await g.startReplica() // SIGTERM; restart with --replicaof the primary
 *   g.freezePrimary() / g.thawPrimary()   // SIGSTOP / SIGCONT of the primary (a partition: Sentinel
 *                                   // fails over after down-after; ~10 s after the thaw Sentinel
 *                                   // converts it to a replica and kills its clients)
 *   g.nodes()                       // both nodes: port, state (running/frozen/stopped), role
 *   await g.replication(hp)         // INFO replication of a node as a record
 *   g.events()                      // every Sentinel event seen (+sdown, +odown, +switch-master, ...)
 *   await g.stop()                  // idempotent; kills everything, removes the temp dirs
 *
 * Processes are killed on `process.exit` too, so a crashed test leaves none behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RedisConfig } from '../adapters/redis/redis-connection.ts';
import { startEndpointProxy, type EndpointProxy, type HostPort } from './endpoint-proxy.ts';
import { freePort } from './free-port.ts';
import {
  privateAccess,
  privateSentinelAuthPass,
  privateSentinelConfLines,
  privateServerArgs,
  type RedisAccess,
} from './local-redis.ts';

export type { HostPort } from './endpoint-proxy.ts';

export type SentinelProfile = 'fast' | 'elasticache';

/** ElastiCache-like detection: Sentinel's down-after is drawn from this range (ms). */
export const ELASTICACHE_DOWN_AFTER_RANGE_MS = { min: 15_000, max: 30_000 } as const;
const FAST_DOWN_AFTER_MS = 1_000;
const FAST_FAILOVER_TIMEOUT_MS = 5_000;
const ELASTICACHE_DNS_DELAY_MS = 5_000;
const HOST = '127.0.0.1';
const QUORUM = 2;
const SENTINEL_COUNT = 3;
const EVENT_LOG_LIMIT = 2_000;

export interface PrivateSentinelGroupOptions {
  readonly profile: SentinelProfile;
  /** Sentinel master name (default: `pg` + random suffix). */
  readonly masterName?: string;
  /** Fixed down-after-milliseconds (default: fast 1000; elasticache random in [15000, 30000]). */
  readonly downAfterMs?: number;
  /** Sentinel failover-timeout (default: fast 5000; elasticache 2 x down-after). */
  readonly failoverTimeoutMs?: number;
  /** Delay from promotion to the endpoint's switch, or 'manual' (you call endpointProxy.retarget). */
  readonly dnsDelayMs?: number | 'manual';
  /** After killPrimary and the promotion, restore the old node as replica after this delay. Default: never. */
  readonly autoRestoreAfterMs?: number;
  /** Random source for the elasticache down-after (default Math.random). */
  readonly random?: () => number;
}

export interface KilledPrimary {
  readonly killedAt: number;
  readonly killed: HostPort;
}

export interface Promotion {
  /** When the group saw the first `+switch-master` for this failover. */
  readonly promotedAt: number;
  readonly newPrimary: HostPort;
  readonly oldPrimary: HostPort;
  /** First `+sdown master` for the old primary since the trigger (undefined for a manual failover). */
  readonly sdownAt: number | undefined;
  /** First `+odown master` since the trigger (undefined for a manual failover). */
  readonly odownAt: number | undefined;
}

export interface RoleSwap extends Promotion {
  /** When the old primary acknowledged REPLICAOF (its open connections now get READONLY on writes). */
  readonly demotedAt: number;
}

export interface EndpointSwitch {
  readonly switchedAt: number;
  readonly target: HostPort;
}

export interface SentinelEvent {
  readonly at: number;
  readonly sentinelPort: number;
  /** e.g. `+sdown`, `+odown`, `+switch-master`, `+convert-to-slave`. */
  readonly type: string;
  readonly message: string;
}

export type NodeState = 'running' | 'frozen' | 'stopped';

export interface NodeStatus extends HostPort {
  readonly name: 'a' | 'b';
  readonly state: NodeState;
  /** The group's view: which node Sentinel has named primary. */
  readonly role: 'primary' | 'replica';
}

export interface PrivateSentinelGroup {
  readonly profile: SentinelProfile;
  readonly masterName: string;
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
  readonly dnsDelayMs: number | 'manual';
  readonly sentinels: readonly HostPort[];
  /** The "primary endpoint" (a DNS name in AWS): connect standalone clients here. */
  readonly endpoint: HostPort;
  readonly endpointProxy: EndpointProxy;
  /**
   * TLS + password of every node and Sentinel (src/local/local-redis.ts): `.node` for a
   * client of a node (or through `endpoint`), `.sentinel` through the Sentinels. The proxy
   * forwards the TLS bytes unchanged, so clients check the same certificate through it.
   */
  readonly access: RedisAccess;
  /**
   * A config for the project's createRedisConnection: via the endpoint, or via the Sentinels;
   * its `tuning` holds the access (spread your own tuning over it, not instead of it).
   */
  redisConfig(mode: 'standalone' | 'sentinel'): RedisConfig;
  primary(): HostPort;
  replica(): HostPort | undefined;
  nodes(): NodeStatus[];
  killPrimary(): Promise<KilledPrimary>;
  restoreOldPrimaryAsReplica(timeoutMs?: number): Promise<void>;
  waitForPromotion(timeoutMs?: number): Promise<Promotion>;
  waitForEndpointSwitch(timeoutMs?: number): Promise<EndpointSwitch>;
  demoteViaRoleSwap(timeoutMs?: number): Promise<RoleSwap>;
  freezeReplica(): void;
  thawReplica(): void;
  stopReplica(): Promise<void>;
  startReplica(timeoutMs?: number): Promise<void>;
  freezePrimary(): { frozenAt: number };
  thawPrimary(): void;
  replication(node: HostPort): Promise<Record<string, string>>;
  events(): readonly SentinelEvent[];
  stop(): Promise<void>;
}

interface NodeProc {
  readonly name: 'a' | 'b';
  readonly port: number;
  readonly dir: string;
  proc: ChildProcess | undefined;
  state: NodeState;
}

// Every live process of every group, killed if the test process exits without stop().
const liveProcesses = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;
function track(child: ChildProcess): ChildProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const p of liveProcesses) p.kill('SIGKILL');
      for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
    });
  }
  liveProcesses.add(child);
  child.once('exit', () => liveProcesses.delete(child));
  return child;
}

const hp = (port: number): HostPort => ({ host: HOST, port });
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const exited = (p: ChildProcess) => p.exitCode !== null || p.signalCode !== null;

async function poll<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  intervalMs = 50,
  why: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let failure = '';
  for (;;) {
    const value = await probe().catch((err: unknown) => {
      if (err instanceof PortTakenError) throw err;
      failure = String(err);
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const detail = [why(), failure].filter(Boolean).join('; last error: ');
      throw new Error(
        `private sentinel group: timed out after ${timeoutMs} ms: ${what}${detail ? ` (${detail})` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

/** A process of ours could not own its port (another process got the same free port). */
class PortTakenError extends Error {}

/** Whether the server answering on `port` is `child` (and not someone else's, on a reused port). */
async function answeredBy(port: number, child: ChildProcess, log: string): Promise<true | undefined> {
  if (exited(child)) throw new PortTakenError(`:${port}: the process exited during start-up (log: ${log})`);
  if (!(await ping(port))) return undefined;
  const info = parseInfo(String(await command(port, ['INFO', 'server'])));
  if (Number(info.process_id) !== child.pid) {
    child.kill('SIGKILL');
    throw new PortTakenError(`:${port} is answered by pid ${info.process_id}, not ours (${child.pid})`);
  }
  return true;
}

/** `n` distinct free loopback ports. */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/**
 * AUTH + PING over a bare TLS socket with a deadline (a frozen node accepts TCP, then never
 * completes the handshake nor answers).
 */
function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const { tuning, node } = privateAccess();
    const password = tuning.password ?? '';
    const socket = connect({ ...(node.tls ?? {}), host: HOST, port });
    let reply = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('error', () => done(false));
    socket.once('secureConnect', () =>
      socket.write(
        `*2\r\n$4\r\nAUTH\r\n$${Buffer.byteLength(password)}\r\n${password}\r\n*1\r\n$4\r\nPING\r\n`,
      ),
    );
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.startsWith('-') || reply.includes('+PONG')) done(reply === '+OK\r\n+PONG\r\n');
    });
  });
}

/** One command on a short-lived connection (fails fast; never retries). */
async function command(port: number, args: (string | number)[], timeoutMs = 2_000): Promise<unknown> {
  const client = new Redis({
    ...privateAccess().node,
    host: HOST,
    port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableReadyCheck: false,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const [name, ...rest] = args;
    return await client.call(String(name), ...rest.map(String));
  } finally {
    client.disconnect();
  }
}

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** SENTINEL REPLICAS / MASTER replies are flat [k, v, k, v...] arrays. */
function fields(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

function chooseDownAfter(options: PrivateSentinelGroupOptions): number {
  if (options.downAfterMs !== undefined) {
    if (!Number.isInteger(options.downAfterMs) || options.downAfterMs < 100)
      throw new RangeError(`downAfterMs must be an integer >= 100, got ${options.downAfterMs}`);
    return options.downAfterMs;
  }
  if (options.profile === 'fast') return FAST_DOWN_AFTER_MS;
  const { min, max } = ELASTICACHE_DOWN_AFTER_RANGE_MS;
  return min + Math.floor((options.random ?? Math.random)() * (max - min + 1));
}

/** Starts the group; resolves when every Sentinel knows the replica (in sync) and the other Sentinels. */
export async function startPrivateSentinelGroup(
  options: PrivateSentinelGroupOptions,
): Promise<PrivateSentinelGroup> {
  // A free port can be handed to another test's process before ours binds it: start again
  // on fresh ports (rare; each attempt cleans up after itself).
  const resolved = { ...options, downAfterMs: chooseDownAfter(options) }; // one draw for every attempt
  for (let attempt = 1; ; attempt++) {
    try {
      return await startGroupOnce(resolved);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= 3) throw err;
    }
  }
}

async function startGroupOnce(options: PrivateSentinelGroupOptions): Promise<PrivateSentinelGroup> {
  const profile = options.profile;
  const masterName = options.masterName ?? `pg${Math.random().toString(36).slice(2, 8)}`;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(masterName)) throw new RangeError(`bad master name ${masterName}`);
  const downAfterMs = chooseDownAfter(options);
  const failoverTimeoutMs =
    options.failoverTimeoutMs ?? (profile === 'fast' ? FAST_FAILOVER_TIMEOUT_MS : 2 * downAfterMs);
  const dnsDelayMs = options.dnsDelayMs ?? (profile === 'fast' ? 0 : ELASTICACHE_DNS_DELAY_MS);

  const root = mkdtempSync(join(tmpdir(), 'private-sentinel-group-'));
  liveDirs.add(root);
  const [portA = 0, portB = 0, ...sentinelPorts] = await freePorts(2 + SENTINEL_COUNT);
  const nodeA: NodeProc = { name: 'a', port: portA, dir: join(root, 'a'), proc: undefined, state: 'stopped' };
  const nodeB: NodeProc = { name: 'b', port: portB, dir: join(root, 'b'), proc: undefined, state: 'stopped' };
  const sentinelIds = sentinelPorts.map(() => randomBytes(20).toString('hex'));
  const sentinelProcs: ChildProcess[] = [];
  const subscribers: Redis[] = [];
  const timers = new Set<NodeJS.Timeout>();

  let primaryNode = nodeA;
  let lastTriggerAt = Date.now();
  let killedNode: NodeProc | undefined;
  let frozenReplica: NodeProc | undefined;
  let frozenPrimary: NodeProc | undefined;
  let stopped: Promise<void> | undefined;
  const promotions: Promotion[] = [];
  let waitingOn = ''; // what the last readiness probe found missing, for timeout messages
  const eventLog: SentinelEvent[] = [];

  const other = (n: NodeProc) => (n === nodeA ? nodeB : nodeA);
  const byPort = (port: number) => (port === nodeA.port ? nodeA : port === nodeB.port ? nodeB : undefined);

  async function startNode(
    node: NodeProc,
    replicaOf: NodeProc | undefined,
    timeoutMs = 10_000,
  ): Promise<void> {
    mkdirSync(node.dir, { recursive: true });
    const args = [
      ...privateServerArgs(node.port, node.dir),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
    ];
    // Diskless full sync starts at once (Redis waits 5 s for more replicas by default).
    args.push('--repl-diskless-sync-delay', '0');
    args.push('--dir', node.dir, '--logfile', join(node.dir, 'redis.log'));
    if (replicaOf) args.push('--replicaof', HOST, String(replicaOf.port));
    const child = track(spawn('redis-server', args, { stdio: 'ignore' }));
    node.proc = child;
    node.state = 'running';
    child.once('exit', () => {
      if (node.proc === child) node.state = 'stopped';
    });
    await poll(`redis ${node.name} on :${node.port}`, timeoutMs, () =>
      answeredBy(node.port, child, join(node.dir, 'redis.log')),
    );
  }

  async function killNode(node: NodeProc, signal: NodeJS.Signals): Promise<void> {
    const child = node.proc;
    if (!child || exited(child)) return;
    const gone = once(child, 'exit');
    child.kill('SIGCONT');
    child.kill(signal);
    await gone;
    node.state = 'stopped';
  }

  async function linkUp(replica: NodeProc): Promise<true | undefined> {
    const info = parseInfo(String(await command(replica.port, ['INFO', 'replication'])));
    return info.master_link_status === 'up' && info.master_port === String(primaryNode.port)
      ? true
      : undefined;
  }

  /**
   * Every Sentinel lists `replica` as a healthy replica of the current primary; with
   * `since`, each has also had a PING answered after that time (by the restarted process).
   */
  async function sentinelsSeeReplica(replica: NodeProc, since?: number): Promise<true | undefined> {
    for (const port of sentinelPorts) {
      const master = (await command(port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName])) as string[];
      if (Number(master[1]) !== primaryNode.port) {
        waitingOn = `sentinel :${port} names :${master[1]} primary, not :${primaryNode.port}`;
        return undefined;
      }
      const replicas = ((await command(port, ['SENTINEL', 'REPLICAS', masterName])) as unknown[]).map(fields);
      const r = replicas.find((x) => Number(x.port) === replica.port);
      const pingedSince = since === undefined || Number(r?.['last-ok-ping-reply']) < Date.now() - since;
      if (!r || r.flags !== 'slave' || r['master-link-status'] !== 'ok' || !pingedSince) {
        waitingOn = `sentinel :${port} sees replica :${replica.port} as ${r ? `${r.flags}/${r['master-link-status']}` : 'unknown'}`;
        return undefined;
      }
    }
    return true;
  }

  function record(sentinelPort: number, channel: string, message: string): void {
    const at = Date.now();
    if (eventLog.length >= EVENT_LOG_LIMIT) eventLog.shift();
    eventLog.push({ at, sentinelPort, type: channel, message });
    if (channel !== '+switch-master') return;
    // "<name> <old-ip> <old-port> <new-ip> <new-port>"
    const [name, , oldPort, , newPort] = message.split(' ');
    const next = byPort(Number(newPort));
    if (name !== masterName || !next || next === primaryNode) return;
    const old = byPort(Number(oldPort)) ?? primaryNode;
    const since = (type: string) =>
      eventLog.find(
        (e) => e.at >= lastTriggerAt && e.type === type && e.message.startsWith(`master ${masterName} `),
      )?.at;
    primaryNode = next;
    promotions.push({
      promotedAt: at,
      newPrimary: hp(next.port),
      oldPrimary: hp(old.port),
      sdownAt: since('+sdown'),
      odownAt: since('+odown'),
    });
    if (dnsDelayMs !== 'manual') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (primaryNode === next) proxy.retarget(hp(next.port));
      }, dnsDelayMs);
      timers.add(timer);
    }
    if (options.autoRestoreAfterMs !== undefined && killedNode === old) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void api.restoreOldPrimaryAsReplica().catch(() => undefined);
      }, options.autoRestoreAfterMs);
      timers.add(timer);
    }
  }

  async function startSentinel(port: number, index: number): Promise<void> {
    const dir = join(root, `sentinel-${index}`);
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        ...privateSentinelConfLines(port),
        `bind ${HOST}`,
        'daemonize no',
        `dir ${dir}`,
        `logfile ${join(dir, 'sentinel.log')}`,
        'sentinel resolve-hostnames no',
        'sentinel announce-hostnames no',
        `sentinel myid ${sentinelIds[index]}`,
        `sentinel monitor ${masterName} ${HOST} ${nodeA.port} ${QUORUM}`,
        privateSentinelAuthPass(masterName),
        `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
        `sentinel failover-timeout ${masterName} ${failoverTimeoutMs}`,
        `sentinel parallel-syncs ${masterName} 1`,
        // Known up front, so the group is ready in about a second instead of waiting for
        // the hello messages (every 2 s) to introduce everyone.
        `sentinel known-replica ${masterName} ${HOST} ${nodeB.port}`,
        ...sentinelPorts.flatMap((p, i) =>
          i === index ? [] : [`sentinel known-sentinel ${masterName} ${HOST} ${p} ${sentinelIds[i]}`],
        ),
        '',
      ].join('\n'),
    );
    const child = track(spawn('redis-sentinel', [conf], { stdio: 'ignore' }));
    sentinelProcs.push(child);
    await poll(`sentinel on :${port}`, 10_000, () => answeredBy(port, child, join(dir, 'sentinel.log')));
    const sub = new Redis({
      ...privateAccess().node,
      host: HOST,
      port,
      enableReadyCheck: false,
      lazyConnect: true,
    });
    sub.on('error', () => undefined);
    sub.on('pmessage', (_pattern: string, channel: string, message: string) =>
      record(port, channel, message),
    );
    subscribers.push(sub);
    await sub.connect();
    await sub.psubscribe('*');
  }

  const proxy = await startEndpointProxy({ target: hp(nodeA.port) });

  function promotionSince(t: number): Promotion | undefined {
    return promotions.find((p) => p.promotedAt >= t);
  }

  const api: PrivateSentinelGroup = {
    profile,
    masterName,
    downAfterMs,
    failoverTimeoutMs,
    dnsDelayMs,
    sentinels: sentinelPorts.map(hp),
    endpoint: proxy.endpoint,
    endpointProxy: proxy,
    access: privateAccess(),

    redisConfig(mode) {
      const tuning = privateAccess().tuning;
      return mode === 'standalone'
        ? { mode: 'standalone', host: proxy.endpoint.host, port: proxy.endpoint.port, tuning }
        : { mode: 'sentinel', sentinels: sentinelPorts.map(hp), name: masterName, tuning };
    },

    primary: () => hp(primaryNode.port),
    replica() {
      const r = other(primaryNode);
      return r.state === 'stopped' ? undefined : hp(r.port);
    },
    nodes: () =>
      [nodeA, nodeB].map((n) => ({
        name: n.name,
        host: HOST,
        port: n.port,
        state: n.state,
        role: n === primaryNode ? ('primary' as const) : ('replica' as const),
      })),

    async killPrimary() {
      const node = primaryNode;
      if (node.state === 'stopped') throw new Error('killPrimary: the primary is not running');
      const killedAt = Date.now();
      lastTriggerAt = killedAt;
      killedNode = node;
      if (frozenPrimary === node) frozenPrimary = undefined;
      await killNode(node, 'SIGKILL');
      return { killedAt, killed: hp(node.port) };
    },

    async restoreOldPrimaryAsReplica(timeoutMs = 30_000) {
      const node = killedNode;
      if (!node) throw new Error('restoreOldPrimaryAsReplica: no primary was killed');
      if (node === primaryNode)
        throw new Error(
          'restoreOldPrimaryAsReplica: Sentinel has not promoted the replica yet (waitForPromotion first)',
        );
      if (node.state !== 'stopped') return;
      killedNode = undefined;
      const restartedAt = Date.now();
      await startNode(node, primaryNode);
      await poll(`restored node :${node.port} online on the primary`, timeoutMs, async () => {
        const info = parseInfo(String(await command(primaryNode.port, ['INFO', 'replication'])));
        return info.connected_slaves === '1' && info.slave0?.includes(`port=${node.port},state=online`)
          ? true
          : undefined;
      });
      await poll(
        `every Sentinel to list :${node.port} as replica`,
        timeoutMs,
        () => sentinelsSeeReplica(node, restartedAt),
        200,
        () => waitingOn,
      );
    },

    async waitForPromotion(timeoutMs = downAfterMs + failoverTimeoutMs + 30_000) {
      const since = lastTriggerAt;
      return poll(
        'a Sentinel promotion (+switch-master)',
        timeoutMs,
        () => Promise.resolve(promotionSince(since)),
        20,
      );
    },

    async waitForEndpointSwitch(timeoutMs = (dnsDelayMs === 'manual' ? 0 : dnsDelayMs) + 10_000) {
      return poll(
        'the endpoint to point at the primary',
        timeoutMs,
        () => {
          const t = proxy.target();
          const p = promotions.at(-1);
          const at = proxy.retargetedAt();
          if (t.port !== primaryNode.port || (p && (at === undefined || at < p.promotedAt)))
            return Promise.resolve(undefined);
          return Promise.resolve({ switchedAt: at ?? 0, target: t });
        },
        20,
      );
    },

    async demoteViaRoleSwap(timeoutMs = 30_000) {
      const old = primaryNode;
      const next = other(old);
      if (old.state !== 'running' || next.state !== 'running')
        throw new Error('demoteViaRoleSwap: needs a running primary and a running replica');
      const startedAt = Date.now();
      lastTriggerAt = startedAt;
      // A Sentinel may refuse for a moment (NOGOODSLAVE while its replica info is stale, INPROG).
      await poll(
        'SENTINEL FAILOVER to be accepted',
        15_000,
        async () => {
          try {
            return (await command(sentinelPorts[0] ?? 0, ['SENTINEL', 'FAILOVER', masterName])) === 'OK'
              ? true
              : undefined;
          } catch (err) {
            if (/NOGOODSLAVE|INPROG/.test(String(err))) return undefined;
            throw err;
          }
        },
        200,
      );
      // The moment the replica is a primary, demote the old one ourselves: Sentinel would
      // send REPLICAOF with CLIENT KILL (seconds later), which frees the clients we want stuck.
      await poll(
        `:${next.port} to report role:master`,
        timeoutMs,
        async () => {
          const info = parseInfo(String(await command(next.port, ['INFO', 'replication'])));
          return info.role === 'master' ? true : undefined;
        },
        10,
      );
      await command(old.port, ['REPLICAOF', HOST, next.port]);
      const demotedAt = Date.now();
      const promotion = await poll(
        '+switch-master after the role swap',
        timeoutMs,
        () => Promise.resolve(promotionSince(startedAt)),
        20,
      );
      return { ...promotion, demotedAt };
    },

    freezeReplica() {
      const r = other(primaryNode);
      if (r.state !== 'running' || !r.proc) throw new Error('freezeReplica: no running replica');
      r.proc.kill('SIGSTOP');
      r.state = 'frozen';
      frozenReplica = r;
    },
    thawReplica() {
      const r = frozenReplica;
      if (!r?.proc || r.state !== 'frozen') return;
      r.proc.kill('SIGCONT');
      r.state = 'running';
      frozenReplica = undefined;
    },
    async stopReplica() {
      const r = other(primaryNode);
      if (r.state === 'stopped') return;
      if (frozenReplica === r) frozenReplica = undefined;
      await killNode(r, 'SIGTERM');
    },
    async startReplica(timeoutMs = 30_000) {
      const r = other(primaryNode);
      if (r.state !== 'stopped') return;
      if (killedNode === r) killedNode = undefined;
      const restartedAt = Date.now();
      await startNode(r, primaryNode);
      await poll(`replica :${r.port} in sync`, timeoutMs, () => linkUp(r));
      await poll(
        `every Sentinel to list :${r.port} as replica`,
        timeoutMs,
        () => sentinelsSeeReplica(r, restartedAt),
        200,
        () => waitingOn,
      );
    },
    freezePrimary() {
      const p = primaryNode;
      if (p.state !== 'running' || !p.proc) throw new Error('freezePrimary: the primary is not running');
      const frozenAt = Date.now();
      lastTriggerAt = frozenAt;
      p.proc.kill('SIGSTOP');
      p.state = 'frozen';
      frozenPrimary = p;
      return { frozenAt };
    },
    thawPrimary() {
      const p = frozenPrimary;
      if (!p?.proc || p.state !== 'frozen') return;
      p.proc.kill('SIGCONT');
      p.state = 'running';
      frozenPrimary = undefined;
    },

    async replication(node) {
      return parseInfo(String(await command(node.port, ['INFO', 'replication'])));
    },
    events: () => [...eventLog],

    stop() {
      stopped ??= (async () => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const s of subscribers) s.disconnect();
        await proxy.close();
        const all = [nodeA.proc, nodeB.proc, ...sentinelProcs].filter(
          (p): p is ChildProcess => !!p && !exited(p),
        );
        await Promise.all(
          all.map(async (p) => {
            const gone = once(p, 'exit');
            p.kill('SIGCONT');
            p.kill('SIGKILL');
            await gone;
          }),
        );
        rmSync(root, { recursive: true, force: true });
        liveDirs.delete(root);
      })();
      return stopped;
    },
  };

  try {
    await startNode(nodeA, undefined);
    await startNode(nodeB, nodeA);
    await poll('the replica to sync', 15_000, () => linkUp(nodeB));
    await Promise.all(sentinelPorts.map((port, i) => startSentinel(port, i)));
    await poll(
      'every Sentinel to know the replica and the other Sentinels',
      30_000,
      async () => {
        if (!(await sentinelsSeeReplica(nodeB))) return undefined;
        for (const port of sentinelPorts) {
          const peers = ((await command(port, ['SENTINEL', 'SENTINELS', masterName])) as unknown[]).map(
            fields,
          );
          if (peers.length !== SENTINEL_COUNT - 1 || peers.some((x) => x.flags !== 'sentinel')) {
            waitingOn = `sentinel :${port} sees peers ${JSON.stringify(peers.map((x) => `${x.port}:${x.flags}`))}`;
            return undefined;
          }
        }
        return true;
      },
      200,
      () => waitingOn,
    );
  } catch (err) {
    await api.stop();
    throw err;
  }
  lastTriggerAt = Date.now();
  return api;
}
