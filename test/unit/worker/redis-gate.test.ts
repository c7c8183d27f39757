/** The Redis gate (redis-gate.ts): opens once, probes until a write is accepted, closes. */
import { describe, expect, it } from 'vitest';
import { visibilityBackoffS } from '../../../src/core/retry-backoff.ts';
import { RedisGate } from '../../../src/worker/redis-gate.ts';

/** Resolves after the pending timers and promise callbacks have run. */
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RedisGate', () => {
  it('opens once however many failures are reported, and closes when the probe succeeds', async () => {
    // Prepare: the probe fails twice, then succeeds.
    let probes = 0;
    const gate = new RedisGate({
      probe: () => (++probes <= 2 ? Promise.reject(new Error('READONLY')) : Promise.resolve()),
      probeIntervalMs: 5,
    });
    const events: string[] = [];
    gate.on('open', () => events.push('open'));
    gate.on('close', () => events.push('close'));

    // Act
    gate.reportUnavailable('a');
    gate.reportUnavailable('b');
    await settle(60);

    // Assess
    expect(events).toEqual(['open', 'close']);
    expect(probes).toBe(3);
    expect(gate.isOpen).toBe(false);
    gate.dispose();
  });

  it('stays open while writes are refused (a node that still answers PING)', async () => {
    const gate = new RedisGate({ probe: () => Promise.reject(new Error('OOM')), probeIntervalMs: 5 });
    const closes: number[] = [];
    gate.on('close', (ms) => closes.push(ms));

    gate.reportUnavailable('OOM command not allowed');
    await settle(50);

    expect(gate.isOpen).toBe(true);
    expect(closes).toEqual([]);
    gate.dispose();
  });

  it('neither opens nor probes after dispose', async () => {
    let probes = 0;
    const gate = new RedisGate({ probe: () => Promise.resolve(++probes), probeIntervalMs: 5 });
    gate.dispose();

    gate.reportUnavailable('late');
    await settle(30);

    expect(gate.isOpen).toBe(false);
    expect(probes).toBe(0);
  });
});

describe('visibilityBackoffS', () => {
  const policy = { baseS: 2, maxS: 300 };

  it.each([
    { receiveCount: 1, random: 0.999, expected: 2 },
    { receiveCount: 2, random: 0.999, expected: 4 },
    { receiveCount: 5, random: 0.999, expected: 32 },
    { receiveCount: 20, random: 0.999, expected: 300 },
    { receiveCount: 3, random: 0, expected: 2 },
    { receiveCount: 0, random: 0.5, expected: 2 },
  ])('receive $receiveCount, random $random -> $expected s', ({ receiveCount, random, expected }) => {
    expect(visibilityBackoffS(receiveCount, policy, () => random)).toBe(expected);
  });

  it('never goes below the base nor above the cap, for any receive count', () => {
    for (let n = 1; n <= 64; n++) {
      for (const r of [0, 0.25, 0.5, 0.999]) {
        const s = visibilityBackoffS(n, policy, () => r);
        expect(s).toBeGreaterThanOrEqual(policy.baseS);
        expect(s).toBeLessThanOrEqual(policy.maxS);
      }
    }
  });
});
