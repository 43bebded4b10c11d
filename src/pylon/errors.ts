import { isLoopbackHost, type EndpointKey } from '../config.js';
import { PylonCliError, type ErrorCode } from '../errors.js';
import { TLS_CODES } from './retry.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Where a failed call went: method, endpoint bucket and templated path (`/contacts/{id}`, never a query string). */
export interface CallSite {
  method: HttpMethod;
  endpoint: EndpointKey;
  path: string;
}

export interface PylonApiErrorInit extends CallSite {
  code: ErrorCode;
  message: string;
  status?: number;
  pylonCode?: string;
  errors?: string[];
  requestId?: string;
  existsId?: string;
  /** The request field the server named as wrong (a `field` or `param` attribute of its error body), if it named one. */
  field?: string;
  maybeApplied?: boolean;
  retryable?: boolean;
  /** Only a sanitised error (see `sanitizeCause`): got's errors hold the request options, headers included. */
  cause?: Error;
}

/**
 * A failed call to Pylon. Built only from Pylon's error envelope and the call site:
 * got's request and response objects are never attached, so the token cannot leak
 * through `util.inspect`, JSON or a log line. Messages are redacted by the client.
 */
export class PylonApiError extends PylonCliError {
  readonly status?: number;
  readonly method: HttpMethod;
  readonly endpoint: EndpointKey;
  readonly path: string;
  /** Pylon's machine-readable `code` from the body, e.g. `invalid_api_token`, `rate_limited`. */
  readonly pylonCode?: string;
  readonly errors: string[];
  readonly requestId?: string;
  /** The ID of the object that already exists, on a duplicate error. */
  readonly existsId?: string;
  /** The request field the server's error body named (`field` or `param`); Pylon's envelope has none, its message may name it. */
  readonly field?: string;
  /** True when this call (or an earlier attempt of it) may have taken effect on the server. */
  readonly maybeApplied: boolean;
  /** True when the failure was transient (5xx, 429, network, timeout): trying later may succeed. */
  readonly retryable: boolean;

  constructor(init: PylonApiErrorInit) {
    super(init.code, init.message, init.cause === undefined ? {} : { cause: init.cause });
    this.name = 'PylonApiError';
    this.status = init.status;
    this.method = init.method;
    this.endpoint = init.endpoint;
    this.path = init.path;
    this.pylonCode = init.pylonCode;
    this.errors = init.errors ?? [];
    this.requestId = init.requestId;
    this.existsId = init.existsId;
    this.field = init.field;
    this.maybeApplied = init.maybeApplied ?? false;
    this.retryable = init.retryable ?? false;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      status: this.status,
      method: this.method,
      endpoint: this.endpoint,
      path: this.path,
      pylonCode: this.pylonCode,
      errors: this.errors,
      requestId: this.requestId,
      existsId: this.existsId,
      field: this.field,
      maybeApplied: this.maybeApplied,
      retryable: this.retryable,
    };
  }
}

/**
 * A request the server refused as invalid or conflicting, so the same request gets the same answer:
 * Pylon's spec documents 400; no source says it never answers 422 (validation) or 409 (a duplicate),
 * and clients map both (pylon-api.md §3, §10 q4). Every check for "refused" goes through this.
 */
export const REFUSAL_STATUSES: ReadonlySet<number> = new Set([400, 409, 422]);

export function isRefusal(error: unknown): error is PylonApiError {
  return error instanceof PylonApiError && error.status !== undefined && REFUSAL_STATUSES.has(error.status);
}

/** Waiting for a pacing slot or a retry delay was aborted; nothing was sent for this attempt. */
export class RequestAbortedError extends PylonCliError {
  readonly method: HttpMethod;
  readonly endpoint: EndpointKey;
  readonly path: string;
  /** `why` must already be redacted. */
  constructor(site: CallSite, why: string) {
    super('RUN_ABORTED', `${site.method} ${site.path} not sent: ${why}`);
    this.name = 'AbortError';
    this.method = site.method;
    this.endpoint = site.endpoint;
    this.path = site.path;
  }
}

/**
 * A copy of a low-level error that keeps only its name, code and (redacted) message:
 * safe to attach as `cause`.
 */
export function sanitizeCause(error: unknown, redactText: (text: string) => string): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const copy = new Error(redactText(source.message));
  copy.name = source.name;
  const code = (source as { code?: unknown }).code;
  if (typeof code === 'string') Object.defineProperty(copy, 'code', { value: code, enumerable: true });
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}

/** What the client knows about a failed call when it gives up. */
export interface FailureReport {
  site: CallSite;
  /** Origin of the base URL, for network messages (`https://api.usepylon.com`). */
  origin: string;
  /** Retries made before giving up. */
  retries: number;
  maybeApplied: boolean;
  retryable: boolean;
  /** Why the retry policy stopped. */
  stop: 'not-retryable' | 'unsafe-write' | 'exhausted' | 'retry-after-too-long';
  redact: (text: string) => string;
  /** An HTTP answer. */
  http?: {
    status: number;
    /** The body was Pylon's error envelope (`errors` array). */
    envelope: boolean;
    contentType?: string;
    errors: string[];
    pylonCode?: string;
    requestId?: string;
    existsId?: string;
    field?: string;
    retryAfterMs?: number;
  };
  /** No HTTP answer: connection never made, lost, or timed out. */
  transport?: { kind: 'connect' | 'network' | 'timeout'; code: string; timeoutMs: number; cause: unknown };
}

const OTHER_REGION: Record<string, string> = {
  'api.usepylon.com': '--region eu (or --base-url https://api.eu.usepylon.com)',
  'api.eu.usepylon.com': '--region us (or --base-url https://api.usepylon.com)',
};

function httpCode(status: number, envelope: boolean): ErrorCode {
  if (status === 401) return 'PYLON_AUTH';
  if (status === 403) return 'PYLON_FORBIDDEN';
  if (status === 429) return 'PYLON_RATE_LIMITED';
  return envelope ? 'PYLON_HTTP' : 'PYLON_BAD_RESPONSE';
}

function httpHint(report: FailureReport, status: number, pylonCode: string | undefined): string {
  const afterRetries = report.retries > 0 ? ` after ${report.retries} ${report.retries === 1 ? 'retry' : 'retries'}` : '';
  if (status === 401 && pylonCode === 'wrong_region_token') {
    const host = new URL(report.origin).host;
    return `. The token belongs to another Pylon region: try ${OTHER_REGION[host] ?? '--region or --base-url'}`;
  }
  if (status === 401) {
    // On loopback it is the emulator (plain http goes nowhere else): its token is the one it printed, not a Pylon admin's.
    const where = isLoopbackHost(new URL(report.origin).hostname) ? 'against the emulator, use the token it prints (pylon-emulator-token unless its --token names another)' : 'Pylon admins create tokens under Settings → API Tokens';
    return `. Check the API token (PYLON_API_TOKEN or --token); ${where}`;
  }
  if (status === 403) return '. The token is not allowed to do this';
  if (report.stop === 'retry-after-too-long' && report.http?.retryAfterMs !== undefined) {
    return `. The server asked to wait ${Math.ceil(report.http.retryAfterMs / 1000)} s, longer than the ${status === 429 ? 'rate-limit ' : ''}maximum; try again later`;
  }
  if (status === 429) return `. Still rate limited${afterRetries}; lower --rate or try again later`;
  return afterRetries;
}

/** Builds the error for a call the client gives up on. Message grammar: `PATCH /contacts/{id} failed with 400: <errors[0]> (request_id abc)`. */

/**
 * A connect failure a user can act on, said in words (the code kept for a search). `afterRetries`
 * is the " (after N retries)" the message ends with otherwise: a refusal puts it before its
 * sentences, so the question that ends them ends the message.
 */
function connectFailure(origin: string, code: string, afterRetries: string): string {
  if (code === 'ENOTFOUND') return `could not connect to ${origin}: host name not found (ENOTFOUND): check the network or --base-url${afterRetries}`;
  if (code === 'ECONNREFUSED') {
    // Usually a local server (the emulator, a proxy) that is not running, or the wrong port in the URL.
    const url = new URL(origin);
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return `could not connect to ${origin}${afterRetries}: the connection was refused (ECONNREFUSED), so nothing accepts connections on ${url.hostname} port ${port}. Is the server running, and is the URL right (--base-url or PYLON_BASE_URL)?`;
  }
  if (TLS_CODES.has(code)) {
    // https:// to a plain-http server (a local emulator or proxy): its answer is not a TLS handshake.
    const url = new URL(origin);
    return `could not connect to ${origin}: the server does not speak TLS (https) at that address (${code}); it looks like a plain-http server. If it is one (a local emulator or proxy), use http://${url.host} (--base-url or PYLON_BASE_URL)${afterRetries}`;
  }
  return `could not connect to ${origin}: ${code}${afterRetries}`;
}

export function buildApiError(report: FailureReport): PylonApiError {
  const { site, redact } = report;
  const common = {
    ...site,
    maybeApplied: report.maybeApplied,
    retryable: report.retryable,
  };
  const appliedNote = report.maybeApplied ? '; the request may have been applied' : '';
  if (report.http) {
    const h = report.http;
    const errors = h.errors.map(redact);
    const detail = errors[0] ?? (h.envelope ? 'no error message' : `unexpected ${h.contentType ?? 'non-JSON'} response, not Pylon's error envelope`);
    const requestNote = h.requestId ? ` (request_id ${h.requestId})` : '';
    const message = `${site.method} ${site.path} failed with ${h.status}: ${detail}${requestNote}${httpHint(report, h.status, h.pylonCode)}${appliedNote}`;
    return new PylonApiError({
      ...common,
      code: httpCode(h.status, h.envelope),
      message: redact(message),
      status: h.status,
      pylonCode: h.pylonCode,
      errors,
      requestId: h.requestId,
      existsId: h.existsId,
      field: h.field,
    });
  }
  const t = report.transport!;
  const afterRetries = report.retries > 0 ? ` (after ${report.retries} ${report.retries === 1 ? 'retry' : 'retries'})` : '';
  const what =
    t.kind === 'connect'
      ? connectFailure(report.origin, t.code, afterRetries)
      : t.kind === 'network'
        ? `connection to ${report.origin} lost: ${t.code}${afterRetries}`
        : `no response from ${report.origin} within ${t.timeoutMs} ms${afterRetries}`;
  return new PylonApiError({
    ...common,
    code: t.kind === 'timeout' ? 'PYLON_TIMEOUT' : 'PYLON_NETWORK',
    message: redact(`${site.method} ${site.path} failed: ${what}${appliedNote}`),
    cause: sanitizeCause(t.cause, redact),
  });
}
