import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import type { HostPort } from '../../../src/adapters/redis/redis-connection.ts';

/** A loopback server that accepts connections and never answers: a hung Redis. */
export async function silentServer(): Promise<{ address: HostPort; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    address: { host: '127.0.0.1', port: address.port },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
