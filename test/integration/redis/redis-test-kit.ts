/**
 * Helpers for the Redis adapter tests: clients on the local stack, keys built by hand in
 * the key contract's shape under a random namespace per test, plan builders, and polling.
 */
import { Redis } from 'ioredis';
import { asCacheKey, asFenceKey } from '../../../src/core/identifiers.ts';
import type { CacheKey, FenceKey } from '../../../src/core/identifiers.ts';
import type { EntityEffect, FamilyName, InvalidationPlan } from '../../../src/core/invalidation-plan.ts';
import type { L1Channel } from '../../../src/adapters/redis/broadcast-message.ts';
import type { HostPort, RedisClient, RedisConfig } from '../../../src/adapters/redis/redis-connection.ts';
import { stack, testPrefix } from '../../support/stack.ts';
import { stackAccess } from '../../support/redis-access.ts';

/** A random namespace standing in for `mc`, so each test owns its keys. */
export function namespace(): string {
  return testPrefix('rt');
}

/** Key builders in the contract's shape, under namespace `ns`. */
export function keysOf(ns: string) {
  return {
    product: (asin: string, locale: string): CacheKey =>
      asCacheKey(`${ns}:{acme:product:${asin}}:v1:${locale}`),
    productFence: (asin: string): FenceKey => asFenceKey(`${ns}:{acme:product:${asin}}:fence`),
    promo: (section: string): CacheKey => asCacheKey(`${ns}:{acme:promo:${section}}:v1`),
    promoFence: (section: string): FenceKey => asFenceKey(`${ns}:{acme:promo:${section}}:fence`),
    reco: (user: string, gen: string, asin: string): CacheKey =>
      asCacheKey(`${ns}:{acme:reco:${user}}:g${gen}:${asin}`),
    recoGen: (user: string): FenceKey => asFenceKey(`${ns}:{acme:reco:${user}}:gen`),
    channel: (): L1Channel => ({ channel: `${ns}:l1`, seqKey: `${ns}:{l1}:seq` }),
  };
}

/** One entity effect. */
export function effect(
  family: FamilyName,
  fence: FenceKey,
  unlink: readonly CacheKey[],
  critical = family === 'promo',
): EntityEffect {
  const tag = /\{([^}]*)\}/.exec(fence)?.[1] ?? '';
  return { family, slotTag: tag, unlink, fence, fenceTtlMs: 3_600_000, critical };
}

/** A plan over `effects` with a broadcast listing their keys and fences. */
export function planOf(
  effects: readonly EntityEffect[],
  eventIds: readonly string[] = ['evt-1'],
): InvalidationPlan {
  return {
    decisions: [],
    effects,
    broadcast: {
      keys: effects.flatMap((e) => e.unlink),
      fences: effects.map((e) => e.fence),
      eventIds,
      originTimeMs: Date.now() - 50,
    },
    critical: effects.some((e) => e.critical),
  };
}

/** The stack's Sentinel-managed pair: a Sentinel failover (another test's) may have swapped roles. */
export function sentinelConfig(): RedisConfig {
  const { sentinels, sentinelName } = stack().redis;
  return { mode: 'sentinel', sentinels, name: sentinelName, tuning: stackAccess().tuning };
}

/** A plain ioredis client of the stack's Sentinel pair (a test's admin connection). */
export function sentinelAdmin(config: RedisConfig = sentinelConfig()): Redis {
  if (config.mode !== 'sentinel') throw new Error('sentinelAdmin needs a sentinel config');
  return new Redis({
    ...stackAccess().sentinel,
    sentinels: config.sentinels.map((s) => ({ ...s })),
    name: config.name,
  });
}

/** The current primary and replica of the Sentinel pair, asked from a Sentinel. */
export async function currentPair(): Promise<{ primary: HostPort; replica: HostPort }> {
  const { primary, replica, sentinels, sentinelName } = stack().redis;
  const sentinel = new Redis({ ...stackAccess().node, ...sentinels[0], maxRetriesPerRequest: 2 });
  try {
    const [host, port] = (await sentinel.call('SENTINEL', 'get-master-addr-by-name', sentinelName)) as [
      string,
      string,
    ];
    const current = { host, port: Number(port) };
    const isConfiguredPrimary = current.host === primary.host && current.port === primary.port;
    return { primary: current, replica: isConfiguredPrimary ? replica : primary };
  } finally {
    sentinel.disconnect();
  }
}

/** Every key under `ns` (SCAN, fine for a test's handful of keys), sorted. */
export async function keysUnder(client: RedisClient, ns: string): Promise<string[]> {
  const found = new Set<string>();
  const nodes = 'nodes' in client ? client.nodes('master') : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${ns}:*`, 'COUNT', 1000);
      cursor = next;
      for (const k of batch) found.add(k);
    } while (cursor !== '0');
  }
  return [...found].sort();
}

/** Deletes every key under `ns`. */
export async function cleanup(client: RedisClient, ns: string): Promise<void> {
  for (const key of await keysUnder(client, ns)) await client.unlink(key);
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
