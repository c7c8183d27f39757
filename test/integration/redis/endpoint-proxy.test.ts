/**
 * The "primary endpoint" stand-in: a retarget moves new connections only, as a DNS switch
 * does; open ones stay on the node they reached until that node (or the proxy) drops them.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { startEndpointProxy, type EndpointProxy, type HostPort } from '../../support/endpoint-proxy.ts';

/** A node that answers every line with its own name. */
async function namedServer(name: string): Promise<{ server: Server; at: HostPort }> {
  const server = createServer((s) => s.on('data', () => s.write(`${name}\n`)).on('error', () => undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { server, at: { host: '127.0.0.1', port: address.port } };
}

async function open(at: HostPort): Promise<Socket> {
  const s = connect(at);
  await once(s, 'connect');
  return s;
}

async function ask(s: Socket): Promise<string> {
  const reply = once(s, 'data');
  s.write('who?\n');
  const [data] = (await reply) as [Buffer];
  return data.toString().trim();
}

describe('endpoint proxy', () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('sends new connections to the new target and leaves open ones where they are', async () => {
    // Prepare
    const a = await namedServer('a');
    const b = await namedServer('b');
    const proxy: EndpointProxy = await startEndpointProxy({ target: a.at });
    cleanup.push(
      () => a.server.close(),
      () => b.server.close(),
      () => proxy.close(),
    );
    const before = await open(proxy.endpoint);
    cleanup.push(() => before.destroy());
    expect(await ask(before)).toBe('a');

    // Act
    proxy.retarget(b.at);
    const after = await open(proxy.endpoint);
    cleanup.push(() => after.destroy());

    // Assess
    expect(await ask(after)).toBe('b');
    expect(await ask(before)).toBe('a');
    expect(proxy.target()).toEqual(b.at);
    expect(proxy.retargetedAt()).toBeGreaterThan(0);
    expect(proxy.connections().map((c) => c.target.port)).toEqual([a.at.port, b.at.port]);

    // Dropping the connections on the old node closes them; the others stay.
    before.on('error', () => undefined); // a reset, as from a node that went away
    const closed = new Promise((r) => before.once('close', r));
    expect(proxy.dropConnections(a.at)).toBe(1);
    await closed;
    expect(await ask(after)).toBe('b');
  });

  it('closes the client side when the target refuses, and refuses non-loopback targets', async () => {
    const dead = await namedServer('gone');
    await new Promise((r) => dead.server.close(r));
    const proxy = await startEndpointProxy({ target: dead.at });
    cleanup.push(() => proxy.close());
    const s = connect(proxy.endpoint);
    s.on('error', () => undefined);
    await once(s, 'close');
    expect(proxy.connections()).toEqual([]);
    expect(() => proxy.retarget({ host: '10.0.0.1', port: 6379 })).toThrow(/loopback/);
  });
});
