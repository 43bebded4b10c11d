/**
 * A real HTTP proxy in front of an emulator that forwards chosen page requests
 * with an `x-emulator-fault` header, so the emulator
 * itself answers the failure (Pylon's envelope, a real request_id). Lets a test
 * break an export in the middle and keep it broken.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultProxy {
  url: string;
  /** GET /contacts and POST /contacts/search requests seen. */
  pageRequests: number;
  close(): Promise<void>;
}

/** `failFromPage`: every page request from this one (1-based) on fails; `failPages`: exactly these page requests fail. */
export async function createFaultProxy(target: string, options: { fault: string; failFromPage?: number; failPages?: number[] }): Promise<FaultProxy> {
  const upstream = new URL(target);
  const state = { pageRequests: 0 };
  const server = createServer((req, res) => {
    const isPage = (req.method === 'GET' && req.url?.startsWith('/contacts?')) || (req.method === 'POST' && req.url === '/contacts/search');
    if (isPage) state.pageRequests += 1;
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: upstream.host };
    const fails = options.failPages?.includes(state.pageRequests) || (options.failFromPage !== undefined && state.pageRequests >= options.failFromPage);
    if (isPage && fails) headers['x-emulator-fault'] = options.fault;
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get pageRequests() {
      return state.pageRequests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
