/** The Redis gate (redis-gate.ts): opens once, probes until a write is accepted, closes. */
import { afterEach, describe, expect, it, vi } from 'vitest';
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
    // Polled: a stall of a loaded runner can put the probes' timers after a fixed sleep's.
    await vi.waitFor(() => expect(events).toContain('close'), { timeout: 2_000, interval: 10 });

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

describe('RedisGate after a recovery', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('probes at once when a connection is ready again, without waiting out its interval', async () => {
    // Prepare: a long interval, so only probeNow can close the gate within the test.
    vi.useFakeTimers();
    let writable = false;
    const gate = new RedisGate({
      probe: () => (writable ? Promise.resolve() : Promise.reject(new Error('ECONNREFUSED'))),
      probeIntervalMs: 10_000,
    });
    gate.reportUnavailable('connection lost');

    // Act: the new primary is reachable; the connection reports ready.
    writable = true;
    gate.probeNow();
    await vi.advanceTimersByTimeAsync(0);

    // Assess
    expect(gate.isOpen).toBe(false);
    gate.dispose();
  });

  it('runs one probe at a time however often it is told', async () => {
    vi.useFakeTimers();
    let probes = 0;
    let answer: () => void = () => undefined;
    const gate = new RedisGate({
      probe: () => {
        probes++;
        return new Promise<void>((r) => (answer = r));
      },
      probeIntervalMs: 100,
    });
    gate.reportUnavailable('down');

    gate.probeNow();
    gate.probeNow();
    await vi.advanceTimersByTimeAsync(500);
    expect(probes).toBe(1);
    answer();
    await vi.advanceTimersByTimeAsync(0);

    expect(gate.isOpen).toBe(false);
    gate.dispose();
  });

  it('does not probe when it is closed', async () => {
    let probes = 0;
    const gate = new RedisGate({ probe: () => Promise.resolve(++probes), probeIntervalMs: 5 });

    gate.probeNow();
    await settle(20);

    expect(probes).toBe(0);
    gate.dispose();
  });

  it('tells every batch waiting in hand when it closes (one signal per outage)', async () => {
    let writable = false;
    const gate = new RedisGate({
      probe: () => (writable ? Promise.resolve() : Promise.reject(new Error('down'))),
      probeIntervalMs: 5,
    });
    gate.reportUnavailable('down');
    const first = gate.whenClosed();
    const second = gate.whenClosed();
    let told = 0;
    void first.then(() => told++);
    void second.then(() => told++);
    await settle(20);
    expect(told).toBe(0);

    writable = true;
    await vi.waitFor(() => expect(told).toBe(2), { timeout: 2_000, interval: 10 });

    expect(told).toBe(2);
    expect(first).toBe(second);
    gate.dispose();
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
