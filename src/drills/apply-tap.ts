/**
 * The drill's view of which events the fleet applied, and when: it listens to the L1
 * broadcast channel, where every applied batch is announced with its event ids and the
 * Redis time of the publish, right after its deletes (docs/l1-broadcast.md). Pub/sub loses
 * messages while a subscriber is disconnected, so the tap subscribes on EVERY node of the
 * group directly (a PUBLISH on the primary is also delivered to the replica's subscribers):
 * when the primary dies, the replica's subscription has already heard what it acknowledged,
 * and after the promotion it hears the rest.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { parseBroadcast } from '../adapters/redis/broadcast-message.ts';
import type { HostPort } from '../local/endpoint-proxy.ts';

export interface ApplyTap {
  /** Event id -> Redis time (ms) of the first broadcast that named it. */
  readonly appliedAt: ReadonlyMap<string, number>;
  /** Broadcasts heard (after de-duplication across nodes: by channel sequence). */
  broadcasts(): number;
  close(): void;
}

export async function startApplyTap(
  nodes: readonly HostPort[],
  channel: string,
  access: Pick<RedisOptions, 'password' | 'tls'> = {},
): Promise<ApplyTap> {
  const appliedAt = new Map<string, number>();
  const seen = new Set<number>();
  const clients = nodes.map((n) => {
    const c = new Redis({
      ...access,
      host: n.host,
      port: n.port,
      lazyConnect: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: null,
      retryStrategy: () => 200,
      connectionName: 'drill-apply-tap',
    });
    c.on('error', () => undefined);
    c.on('message', (_channel: string, raw: string) => {
      const m = parseBroadcast(raw);
      if (m?.type !== 'invalidate') return;
      seen.add(m.seq);
      for (const id of m.eventIds) if (!appliedAt.has(id)) appliedAt.set(id, m.publishedAtMs);
    });
    return c;
  });
  try {
    await Promise.all(
      clients.map(async (c) => {
        await c.connect();
        await c.subscribe(channel);
      }),
    );
  } catch (err) {
    for (const c of clients) c.disconnect();
    throw err;
  }
  return {
    appliedAt,
    broadcasts: () => seen.size,
    close() {
      for (const c of clients) c.disconnect();
    },
  };
}
