/**
 * A real node:http server on 127.0.0.1:0 whose answers a test scripts request by
 * request. It records every request it receives (method, path, headers, body,
 * arrival time on the performance.now() clock, requests in flight on arrival).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface ScriptedResponse {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string is sent as-is (content-type text/html unless set). */
  body?: unknown;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Destroy the socket instead of answering. */
  destroy?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  pathname: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The body parsed as JSON, or undefined. */
  body: unknown;
  /** performance.now() when the request was received. */
  arrivedAt: number;
  /** Requests in flight at this server, this one included. */
  inFlight: number;
}

export type Responder = (request: RecordedRequest, index: number) => ScriptedResponse | Promise<ScriptedResponse>;

export interface ScriptedServer {
  url: string;
  requests: RecordedRequest[];
  /** Answers for the next requests, in order; when empty the fallback answers. */
  enqueue(...responses: ScriptedResponse[]): void;
  fallback: Responder;
  readonly maxInFlight: number;
  close(): Promise<void>;
}

let requestCounter = 0;

export function ok(data: unknown, extra: Record<string, unknown> = {}): ScriptedResponse {
  return { body: { data, request_id: `req_${++requestCounter}`, ...extra } };
}

export function page(data: unknown[], cursor: string | null, hasNextPage: boolean): ScriptedResponse {
  return ok(data, { pagination: { cursor, has_next_page: hasNextPage } });
}

export function fail(status: number, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): ScriptedResponse {
  return { status, headers, body: { errors: [message], request_id: `req_${++requestCounter}`, ...extra } };
}

function send(res: ServerResponse, response: ScriptedResponse): void {
  const body = response.body;
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = {
    'content-type': typeof body === 'string' ? 'text/html' : 'application/json',
    ...response.headers,
  };
  res.writeHead(response.status ?? 200, headers);
  res.end(text);
}

export async function createScriptedServer(fallback: Responder = () => ok({ id: 'c_1' })): Promise<ScriptedServer> {
  const queue: ScriptedResponse[] = [];
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const state = { fallback };

  const server = createServer((req, res) => {
    const arrivedAt = performance.now();
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const inFlightNow = inFlight;
    let done = false;
    const finish = () => {
      if (!done) inFlight -= 1;
      done = true;
    };
    res.on('close', finish);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // Recorded as soon as the head is parsed: a client that gives up before sending the body still shows here.
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      pathname: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      rawBody: '',
      body: undefined,
      arrivedAt,
      inFlight: inFlightNow,
    };
    const index = requests.push(recorded) - 1;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      recorded.rawBody = Buffer.concat(chunks).toString('utf8');
      try {
        recorded.body = recorded.rawBody ? JSON.parse(recorded.rawBody) : undefined;
      } catch {
        recorded.body = undefined;
      }
      void (async () => {
        const response = queue.length > 0 ? queue.shift()! : await state.fallback(recorded, index);
        if (response.delayMs) await new Promise((resolve) => setTimeout(resolve, response.delayMs));
        if (response.destroy) {
          req.socket.destroy();
          finish();
          return;
        }
        if (!res.writable || res.destroyed) return;
        send(res, response);
      })();
    });
  });

  server.on('connection', (socket) => socket.on('error', () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...responses) => void queue.push(...responses),
    get fallback() {
      return state.fallback;
    },
    set fallback(responder: Responder) {
      state.fallback = responder;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
