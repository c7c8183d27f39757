/** Held acks (held-acks.ts): each rule of its header, with fakes and an injected clock. */
import type { Message } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { HeldAcks } from '../../../src/worker/held-acks.ts';
import type { ReplicationState } from '../../../src/worker/replication-health.ts';
import { NO_METRICS } from '../../../src/metrics/worker-metrics.ts';

const msg = (id: string): Message => ({ MessageId: id, ReceiptHandle: `rh-${id}` });

function harness(options: { confirm: boolean | 'throws'; state: ReplicationState; ackFails?: boolean }) {
  let now = 1_000;
  const acked: { queue: string; ids: string[] }[] = [];
  const extended: string[] = [];
  const degraded: string[] = [];
  let confirmedAt: number | undefined;
  const held = new HeldAcks({
    confirm: () =>
      options.confirm === 'throws' ? Promise.reject(new Error('down')) : Promise.resolve(options.confirm),
    replicationState: () => options.state,
    onConfirmed: (at) => (confirmedAt = at),
    ack: (queue, messages) => {
      if (options.ackFails === true) return Promise.reject(new Error('SQS down'));
      acked.push({ queue, ids: messages.map((m) => m.MessageId ?? '') });
      return Promise.resolve(new Set(messages.map((m) => m.MessageId ?? '')));
    },
    extend: (_queue, messages) => {
      extended.push(...messages.map((m) => m.MessageId ?? ''));
      return Promise.resolve();
    },
    visibilityTimeoutS: 30,
    extendEveryMs: 10_000,
    maxHoldMs: 60_000,
    maxHeld: 3,
    metrics: { ...NO_METRICS, degradedAcks: (_q, reason) => degraded.push(reason) },
    logger: pino({ level: 'silent' }),
    now: () => now,
  });
  return {
    held,
    acked,
    extended,
    degraded,
    confirmedAt: () => confirmedAt,
    advance: (ms: number) => (now += ms),
  };
}

describe('HeldAcks', () => {
  it('acks every held message once a WAIT confirms, and moves the replay anchor', async () => {
    const h = harness({ confirm: true, state: 'lagging' });
    h.held.hold('promotions', [msg('a'), msg('b')]);

    await h.held.tick();

    expect(h.acked).toEqual([{ queue: 'promotions', ids: ['a', 'b'] }]);
    expect(h.held.size).toBe(0);
    expect(h.confirmedAt()).toBe(1_000);
    expect(h.degraded).toEqual([]);
  });

  it('acks as degraded (no-replica) when nothing is attached, without a WAIT', async () => {
    const h = harness({ confirm: false, state: 'no-replica' });
    h.held.hold('promotions', [msg('a')]);

    await h.held.tick();

    expect(h.acked).toEqual([{ queue: 'promotions', ids: ['a'] }]);
    expect(h.degraded).toEqual(['no-replica']);
  });

  it('keeps holding while a replica is attached but silent, extending visibility, never redelivering', async () => {
    const h = harness({ confirm: false, state: 'lagging' });
    h.held.hold('promotions', [msg('a')]);

    await h.held.tick();
    h.advance(5_000);
    await h.held.tick();
    h.advance(6_000);
    await h.held.tick();

    expect(h.acked).toEqual([]);
    expect(h.held.size).toBe(1);
    // Extended at once (the time left since the receive is unknown), then every 10 s.
    expect(h.extended).toEqual(['a', 'a']);
  });

  it('acks as degraded (hold-expired) what was held past maxHoldMs', async () => {
    const h = harness({ confirm: 'throws', state: 'lagging' });
    h.held.hold('promotions', [msg('old')]);
    h.advance(50_000);
    h.held.hold('promotions', [msg('new')]);
    h.advance(10_000);

    await h.held.tick();

    expect(h.acked).toEqual([{ queue: 'promotions', ids: ['old'] }]);
    expect(h.degraded).toEqual(['hold-expired']);
    expect(h.held.size).toBe(1);
  });

  it('acks the oldest as degraded (hold-full) beyond maxHeld', async () => {
    const h = harness({ confirm: false, state: 'lagging' });
    h.held.hold('promotions', [msg('1'), msg('2'), msg('3'), msg('4'), msg('5')]);

    await h.held.tick();

    expect(h.acked).toEqual([{ queue: 'promotions', ids: ['1', '2'] }]);
    expect(h.degraded).toEqual(['hold-full']);
  });

  it('keeps a message whose delete failed, for the next tick', async () => {
    const h = harness({ confirm: true, state: 'healthy', ackFails: true });
    h.held.hold('promotions', [msg('a')]);

    await h.held.tick();

    expect(h.held.size).toBe(1);
  });
});
