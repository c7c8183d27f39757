/**
 * scripts/lib/toxiproxy-client.ts against a real Toxiproxy server (built once per machine by
 * scripts/lib/toxiproxy.sh) in front of a TCP echo server of the test's own.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  latency,
  resetPeer,
  startToxiproxy,
  timeout,
  type Proxy,
  type ToxiproxyServer,
} from '../../../src/local/toxiproxy-client.ts';

let echo: Server;
let echoPort: number;
let toxi: ToxiproxyServer;
let proxy: Proxy;

/** One round trip of `payload` through a fresh connection; ms, or the error it met. */
async function roundTrip(port: number, payload = 'ping', limitMs = 2_000): Promise<number | Error> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket: Socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(new Error('no answer'));
    }, limitMs);
    socket.once('connect', () => socket.write(payload));
    socket.once('data', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(performance.now() - started);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      resolve(err);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(new Error('closed'));
    });
  });
}

beforeAll(async () => {
  echo = createServer((s) => s.on('data', (d) => s.write(d)).on('error', () => undefined));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as { port: number }).port;
  toxi = await startToxiproxy();
  proxy = await toxi.createProxy('echo', { host: '127.0.0.1', port: echoPort });
}, 120_000);

afterAll(async () => {
  await toxi?.stop();
  await new Promise((r) => echo?.close(r));
});

describe('Toxiproxy client', () => {
  it('proxies to the upstream, and a latency toxic delays replies until removed', async () => {
    expect((await toxi.version()).length).toBeGreaterThan(0);
    const plain = await roundTrip(proxy.listen.port);
    expect(plain).toBeTypeOf('number');
    await toxi.addToxic('echo', latency({ latencyMs: 150, stream: 'downstream' }));
    const slow = await roundTrip(proxy.listen.port);
    expect(slow).toBeGreaterThanOrEqual(145);
    await toxi.removeToxic('echo', 'latency-downstream');
    // The fastest of three: one stall of a busy runner is not the toxic's 150 ms.
    const after: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ms = await roundTrip(proxy.listen.port);
      after.push(typeof ms === 'number' ? ms : Infinity);
    }
    expect(Math.min(...after)).toBeLessThan(100);
  });

  it('a timeout toxic of 0 holds every byte until removed; reset_peer cuts the connection', async () => {
    await toxi.addToxic('echo', timeout({ timeoutMs: 0, stream: 'upstream' }));
    expect(await roundTrip(proxy.listen.port, 'held', 500)).toBeInstanceOf(Error);
    await toxi.removeToxic('echo', 'timeout-upstream');
    expect(await roundTrip(proxy.listen.port)).toBeTypeOf('number');
    await toxi.addToxic('echo', resetPeer({ timeoutMs: 0, stream: 'upstream' }));
    expect(await roundTrip(proxy.listen.port)).toBeInstanceOf(Error);
    await toxi.removeToxic('echo', 'reset_peer-upstream');
    expect(await roundTrip(proxy.listen.port)).toBeTypeOf('number');
  });

  it('a disabled proxy refuses connections; enabled again, it answers', async () => {
    await toxi.setEnabled('echo', false);
    expect(await roundTrip(proxy.listen.port)).toBeInstanceOf(Error);
    await toxi.setEnabled('echo', true);
    expect(await roundTrip(proxy.listen.port)).toBeTypeOf('number');
  });

  it('rejects what Toxiproxy cannot take, and removing what is not there is harmless', async () => {
    expect(() => latency({ latencyMs: 0.4, stream: 'downstream' })).toThrow(/whole/);
    expect(() => timeout({ timeoutMs: 0, stream: 'upstream', toxicity: 2 })).toThrow(/toxicity/);
    await toxi.removeToxic('echo', 'no-such-toxic');
    await toxi.deleteProxy('no-such-proxy');
    await toxi.deleteProxy('echo');
    expect(await roundTrip(proxy.listen.port)).toBeInstanceOf(Error);
  });
});
