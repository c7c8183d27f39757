/**
 * The auditor's admin port as the dashboard reads it: `/metrics` and `/snapshot.json` need
 * the admin token, and the dashboard's poller turns the auditor's counters into the
 * consistency panel's points (checks, inconsistent, ratio, nines per family and window).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders } from '../../../src/admin/admin-token.ts';
import { startAuditor, type Auditor } from '../../../src/auditor/index.ts';
import { createRedisConnection, type RedisConnection } from '../../../src/adapters/redis/redis-connection.ts';
import { encodeStored } from '../../../src/client/cached-value.ts';
import { createKeyBuilder } from '../../../src/core/key-builder.ts';
import { FleetPoller } from '../../../src/dashboard/fleet-poller.ts';
import { productUpdated } from '../../support/events.ts';
import { cleanup, eventually, namespace, sentinelConfig } from '../redis/redis-test-kit.ts';

describe('auditor admin port and the dashboard consistency panel', () => {
  const ns = namespace();
  const keys = createKeyBuilder({ namespace: ns, locales: ['en-US'] });
  let conn: RedisConnection;
  let auditor: Auditor;
  let url: string;

  beforeAll(async () => {
    conn = createRedisConnection(sentinelConfig());
    auditor = await startAuditor({
      redis: sentinelConfig(),
      namespace: ns,
      locales: ['en-US'],
      windowsMs: [100, 300],
      recheckDelayMs: 100,
      adminPort: 0,
      logger: pino({ level: 'silent' }),
    });
    url = `http://127.0.0.1:${auditor.adminPort}`;
  });
  afterAll(async () => {
    await auditor.close();
    await cleanup(conn.client, ns);
    await conn.close();
  });

  it('refuses /metrics and /snapshot.json without the token, serves health without', async () => {
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/snapshot.json`)).status).toBe(401);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('feeds the consistency panel: one stale product of two, at both windows', async () => {
    // Prepare: product 1 cached at an old version, product 2 not cached.
    const key = keys.valueKey({ family: 'product', tenant: 'default', id: 'B0DASH0001', locale: 'en-US' });
    await conn.client.set(key, encodeStored({ found: true, data: {}, version: 1, storedAtMs: Date.now() }));
    auditor.observe(JSON.stringify(productUpdated('B0DASH0001', { version: 2 })));
    auditor.observe(JSON.stringify(productUpdated('B0DASH0002', { version: 2 })));
    await eventually(() => auditor.snapshot().checked === 4, 5_000, 'four checks');

    // Act
    const point = await new FleetPoller({ targets: [], auditors: [url], lagWindowSeconds: 10 }).tick();
    const snapshot = (await (await fetch(`${url}/snapshot.json`, { headers: adminHeaders() })).json()) as {
      inconsistent: number;
    };

    // Assess
    expect(point.auditors).toEqual([{ url, up: true }]);
    expect(point.consistency).toEqual({
      'product 100ms': { checked: 2, inconsistent: 1, ratio: 0.5, nines: 0.3, lowerBound: false },
      'product 300ms': { checked: 2, inconsistent: 1, ratio: 0.5, nines: 0.3, lowerBound: false },
    });
    expect(snapshot.inconsistent).toBe(2);
  });
});
