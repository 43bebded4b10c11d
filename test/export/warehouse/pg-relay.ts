import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** A TCP relay in front of PostgreSQL whose connections can be cut (new ones still go through). */
export async function relay(upstream: URL) {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    const remote = connect(Number(upstream.port), upstream.hostname);
    for (const s of [socket, remote]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    socket.pipe(remote).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    /** Connections accepted so far. */
    accepted: () => accepted,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
