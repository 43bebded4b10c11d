/**
 * The request pipeline. Every API request goes through the same phases:
 * read body → latency → route match → auth → 404 → rate limit → fault →
 * parse JSON → handler → respond(). Inspection routes under /_emulator/
 * skip auth, limits, faults and the counters.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EndpointKey } from './options.js';
import { ApiError } from './api-error.js';
import { FAULT_HEADER } from './faults.js';
import { inspect } from './handlers/inspect.js';
import { CODES, MSG } from './messages.js';
import { nextRequestId } from './request-id.js';
import { errorBody, respond, type Headers } from './respond.js';
import { matchRoute } from './routes.js';
import type { EmulatorContext, PipelineDeps } from './context.js';

export const INSPECT_PREFIX = '/_emulator/';
export type { PipelineDeps } from './context.js';

/** Waits without keeping the process alive once the server is closed. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => (tooLarge ? reject(new ApiError(413, CODES.invalidRequest, MSG.bodyTooLarge(maxBytes))) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function parseJson(raw: Buffer | undefined): unknown {
  if (!raw || raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError(400, CODES.invalidJson, MSG.invalidJson);
  }
}

function authenticate(header: string | undefined, tokens: readonly string[]): void {
  const match = header === undefined ? null : /^Bearer +(\S+)\s*$/i.exec(header);
  if (!match) throw new ApiError(401, CODES.invalidAuthorizationHeader, MSG.authHeader);
  if (!tokens.includes(match[1])) throw new ApiError(401, CODES.invalidApiToken, MSG.invalidToken);
}

function retryHeaders(options: EmulatorContext['options'], seconds: string): Headers {
  const mode = options.retryAfterHeader;
  // --retry-after-format: Retry-After may be an HTTP date (RFC 9110); X-Retry-After is seconds.
  const format = options.retryAfterFormat;
  const standard =
    format === 'date' ? new Date(options.now() + Number(seconds) * 1000).toUTCString() : format === 'past-date' ? new Date(options.now() - 3_600_000).toUTCString() : seconds;
  if (mode === 'retry-after') return { 'retry-after': standard };
  if (mode === 'x-retry-after') return { 'x-retry-after': seconds };
  return { 'retry-after': standard, 'x-retry-after': seconds };
}

const CONTACT_ENDPOINTS: ReadonlySet<string> = new Set(['list', 'get', 'create', 'patch', 'search']);

/** --create-answer empty-data / no-id: the create's answer without the contact's id (`{"data": {}}`, or the contact less its `id`). */
function withoutId(body: string, answer: 'empty-data' | 'no-id'): string {
  const parsed = JSON.parse(body) as { data?: Record<string, unknown> };
  if (answer === 'empty-data') parsed.data = {};
  else delete parsed.data?.id;
  return JSON.stringify(parsed);
}

/** --custom-fields-shape array: each contact's `custom_fields` map answered as the write shape's `[{slug, value|values}]`. */
function customFieldsAsArray(body: string): string {
  const parsed = JSON.parse(body) as { data?: unknown };
  const reshape = (c: unknown) => {
    if (typeof c === 'object' && c !== null && 'custom_fields' in c) {
      const contact = c as { custom_fields: unknown };
      if (typeof contact.custom_fields === 'object' && contact.custom_fields !== null) contact.custom_fields = Object.values(contact.custom_fields);
    }
  };
  if (Array.isArray(parsed.data)) parsed.data.forEach(reshape);
  else reshape(parsed.data);
  return JSON.stringify(parsed);
}

export function createPipeline(deps: PipelineDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { app, stats, limiter, faults, jitter } = deps;
  const { options } = app;

  const send = (res: ServerResponse, status: number, body: string, requestId: string, headers: Headers) => {
    stats.status[status] = (stats.status[status] ?? 0) + 1;
    if (status === 429) stats.rateLimited += 1;
    respond(res, status, body, requestId, headers);
  };

  const drop = (req: IncomingMessage, res: ServerResponse) => {
    res.destroy();
    req.socket.destroy();
  };

  async function handleApi(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> {
    const requestId = nextRequestId();
    const headers: Headers = {};
    try {
      const raw = await readBody(req, options.maxBodyBytes);
      const delay = options.latencyMs + (options.jitterMs > 0 ? Math.round(jitter.next() * options.jitterMs) : 0);
      if (delay > 0) await sleep(delay);
      const method = req.method ?? 'GET';
      const match = matchRoute(method, path);
      const endpoint: EndpointKey | 'unknown' = match?.route.endpoint ?? 'unknown';
      stats.requests[endpoint] = (stats.requests[endpoint] ?? 0) + 1;
      authenticate(req.headers.authorization, options.tokens);
      if (!match) throw new ApiError(404, CODES.notFound, MSG.routeNotFound(method, path));

      const rate = limiter.take(match.route.endpoint);
      if (rate.limit !== undefined && options.remainingHeader) headers['x-rate-limit-remaining'] = rate.remaining ?? 0;
      if (!rate.allowed) {
        Object.assign(headers, retryHeaders(options, String(rate.retryAfterSeconds)));
        throw new ApiError(429, CODES.rateLimited, MSG.rateLimited(match.route.endpoint, rate.limit ?? 0));
      }

      const headerValue = req.headers[FAULT_HEADER];
      const fault = faults.decide(Array.isArray(headerValue) ? headerValue.join(';') : headerValue);
      if (fault) {
        stats.faultsInjected += 1;
        if (fault.slowMs) await sleep(fault.slowMs);
        if (fault.drop === 'before') return drop(req, res);
        if (fault.status !== undefined) {
          if (fault.retryAfter !== undefined) Object.assign(headers, retryHeaders(options, fault.retryAfter));
          throw new ApiError(fault.status, faultCode(fault.status), MSG.faultStatus(fault.status));
        }
      }

      const body = match.route.body ? parseJson(raw) : undefined;
      const out = match.route.handler(app, { params: match.params, query: new URLSearchParams(query), body, requestId, fault });
      if (fault?.drop === 'after') return drop(req, res);
      const shaped = options.customFieldsShape === 'array' && CONTACT_ENDPOINTS.has(match.route.endpoint) && path.startsWith('/contacts') ? customFieldsAsArray(out) : out;
      // --patch-answer / --create-answer: a write that succeeded answered without the contact.
      const answer = match.route.endpoint === 'patch' ? options.patchAnswer : match.route.endpoint === 'create' && method === 'POST' && path === '/contacts' ? options.createAnswer : 'contact';
      if (answer === 'no-content') send(res, 204, '', requestId, headers);
      else if (answer === 'empty-data' || answer === 'no-id') send(res, 200, withoutId(shaped, answer), requestId, headers);
      else send(res, 200, answer === 'empty' ? '{}' : shaped, requestId, headers);
    } catch (error) {
      const apiError =
        error instanceof ApiError ? error : new ApiError(500, CODES.internalError, MSG.internal(error instanceof Error ? error.message : String(error)));
      send(res, refusalStatus(apiError, options), errorBody(apiError, requestId, options.errorBody), requestId, headers);
    }
  }

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    if (path.startsWith(INSPECT_PREFIX)) {
      inspect(deps, req, res, path.slice(INSPECT_PREFIX.length), new URLSearchParams(query));
      return;
    }
    stats.inFlight += 1;
    if (stats.inFlight > stats.maxInFlight) stats.maxInFlight = stats.inFlight;
    let counted = true;
    res.once('close', () => {
      if (counted) stats.inFlight -= 1;
      counted = false;
    });
    void handleApi(req, res, path, query);
  };
}

/** --validation-status / --duplicate-status: the status a 400 refusal is answered with (forced faults keep theirs). */
function refusalStatus(error: ApiError, options: { validationStatus: number; duplicateStatus: number }): number {
  if (error.status !== 400) return error.status;
  if (error.code === CODES.alreadyExists) return options.duplicateStatus;
  if (error.code === CODES.invalidRequest || error.code === CODES.invalidJson) return options.validationStatus;
  return error.status;
}

function faultCode(status: number): string {
  if (status === 429) return CODES.rateLimited;
  if (status === 401) return CODES.invalidApiToken;
  if (status === 404) return CODES.notFound;
  if (status === 500) return CODES.internalError;
  if (status === 502) return CODES.badGateway;
  if (status === 503) return CODES.serviceUnavailable;
  return CODES.emulatorFault;
}
