/** A proxy in front of the emulator that holds chosen requests: a run of the built CLI waits there, at a known point (never by time). */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';

export interface Stall {
  url: string;
  /** Resolves when a request `matches` picked has arrived (and is held). */
  reached: Promise<void>;
  /** Lets every later request through, and the held ones too unless `drop` (they are cut off, never sent on). */
  release(options?: { drop?: boolean }): void;
  /** Holds the requests `matches` picks from now on (after a release), at the same address: `reached` is the new point's. */
  rearm(matches: (method: string, path: string) => boolean): void;
}

/** A proxy in front of the emulator that holds the requests `matches` picks until released: a run waits there, at a known point. */
export async function stallProxy(t: ExecutionContext, target: { url: string }, matches: (method: string, path: string) => boolean): Promise<Stall> {
  const upstream = new URL(target.url);
  let stalling = true;
  let arrived!: () => void;
  let reached = new Promise<void>((resolve) => (arrived = resolve));
  const held: Array<{ forward: () => void; drop: () => void }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = () => {
        const out = request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        out.on('error', () => res.destroy());
        out.end(Buffer.concat(chunks));
      };
      if (stalling && matches(req.method ?? 'GET', req.url ?? '/')) {
        held.push({ forward, drop: () => res.destroy() });
        arrived();
      } else forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get reached() {
      return reached;
    },
    release({ drop = false } = {}) {
      stalling = false;
      for (const h of held.splice(0)) (drop ? h.drop : h.forward)();
    },
    rearm(next) {
      matches = next;
      reached = new Promise<void>((resolve) => (arrived = resolve));
      stalling = true;
    },
  };
}
