/**
 * A TCP gateway on one fixed port in front of an emulator: it can be taken
 * down (every connection is reset, as when Pylon is unreachable) and pointed
 * at another upstream, while the export keeps one base URL (and so one host).
 */
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Gateway {
  url: string;
  /** True: every connection is reset at once. */
  down: boolean;
  /** Where connections go (`http://127.0.0.1:port`). */
  upstream: string;
  close(): Promise<void>;
}

export async function createGateway(upstream: string): Promise<Gateway> {
  const sockets = new Set<Socket>();
  const gateway = { down: false, upstream } as Gateway;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (gateway.down) {
      socket.resetAndDestroy();
      return;
    }
    const target = new URL(gateway.upstream);
    const remote = connect(Number(target.port), target.hostname);
    sockets.add(remote);
    remote.on('close', () => sockets.delete(remote));
    socket.pipe(remote).pipe(socket);
    socket.on('error', () => remote.destroy());
    remote.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gateway.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gateway.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return gateway;
}
