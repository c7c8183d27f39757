/**
 * What `INFO replication` says about a node: its role, its replication history id, and,
 * on a primary, each attached replica's state, acknowledged offset and lag. The worker's
 * replication monitor (src/worker/replication-health.ts) classifies it; this file only reads
 * and parses. In cluster mode every master is read.
 */
import { Cluster } from 'ioredis';
import type { RedisClient } from './redis-connection.ts';

/** One replica as its primary sees it (`slaveN:ip=…,port=…,state=online,offset=…,lag=…`). */
export interface AttachedReplica {
  readonly address: string;
  /** `online` once synced; `wait_bgsave`, `send_bulk`… while a (re)sync runs. */
  readonly state: string;
  /** Replication offset the replica last acknowledged. */
  readonly offset: number;
  /** Seconds since the replica's last acknowledgement (it acknowledges every second). */
  readonly lagS: number;
}

export interface NodeReplication {
  /** The node, as the client reached it. */
  readonly node: string;
  readonly role: 'master' | 'slave' | 'unknown';
  /** Changes on promotion and when a node resyncs from a new primary (its data history). */
  readonly replId: string;
  readonly offset: number;
  readonly replicas: readonly AttachedReplica[];
}

/** Parses the text of `INFO replication`. */
export function parseReplicationInfo(node: string, text: string): NodeReplication {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const role = fields.get('role');
  const replicas: AttachedReplica[] = [];
  for (const [name, value] of fields) {
    if (!/^slave\d+$/.test(name)) continue;
    const parts = new Map(
      value.split(',').map((kv) => {
        const eq = kv.indexOf('=');
        return [kv.slice(0, eq), kv.slice(eq + 1)] as const;
      }),
    );
    replicas.push({
      address: `${parts.get('ip') ?? '?'}:${parts.get('port') ?? '?'}`,
      state: parts.get('state') ?? 'unknown',
      offset: Number(parts.get('offset') ?? 0),
      lagS: Number(parts.get('lag') ?? Number.POSITIVE_INFINITY),
    });
  }
  return {
    node,
    role: role === 'master' || role === 'slave' ? role : 'unknown',
    replId: fields.get('master_replid') ?? '',
    offset: Number(fields.get('master_repl_offset') ?? 0),
    replicas,
  };
}

/** Reads every primary the client writes to (one node, or every cluster master). */
export async function readReplication(client: RedisClient): Promise<NodeReplication[]> {
  if (client instanceof Cluster) {
    return Promise.all(
      client
        .nodes('master')
        .map(async (n) =>
          parseReplicationInfo(`${n.options.host}:${n.options.port}`, await n.info('replication')),
        ),
    );
  }
  const node = `${client.stream?.remoteAddress ?? '?'}:${client.stream?.remotePort ?? '?'}`;
  return [parseReplicationInfo(node, await client.info('replication'))];
}

/**
 * `WAIT replicas timeoutMs` on every primary the client writes to; resolves with the fewest
 * replicas that confirmed. WAIT covers every write sent earlier on the same connection, so
 * this confirms the effects of held batches too.
 */
export async function waitForReplicas(
  client: RedisClient,
  replicas: number,
  timeoutMs: number,
): Promise<number> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  const acked = await Promise.all(nodes.map(async (n) => Number(await n.call('WAIT', replicas, timeoutMs))));
  return acked.length === 0 ? 0 : Math.min(...acked);
}

/**
 * Resolves when every primary accepts a write; rejects otherwise. PING is not enough: a
 * demoted node (READONLY), a full one (OOM) or a cluster with a failed shard still answers it.
 */
export async function probeWritable(client: RedisClient, probeKey: string): Promise<void> {
  // probeKey: KeyBuilder.writeProbeKey(), a hash tag of its own, never an entity's key.
  if (client instanceof Cluster) {
    const infos = await Promise.all(client.nodes('master').map((n) => n.call('CLUSTER', 'INFO')));
    if (infos.length === 0 || infos.some((i) => !/cluster_state:ok/.test(String(i))))
      throw new Error('cluster state is not ok on every master');
    await client.set(probeKey, String(Date.now()), 'PX', 10_000);
    return;
  }
  await client.set(probeKey, String(Date.now()), 'PX', 10_000);
}
