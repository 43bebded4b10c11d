import { Agent as HttpAgent, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import got, { type Response } from 'got';
import { checkToken, DEFAULT_RATES, ENDPOINTS, redact, type EndpointKey } from '../config.js';
import { InternalError } from '../errors.js';
import { paginate, PaginationError } from './paginate.js';
import type { ApiPage, ApiResult, ClientStats, PylonClient, RequestOptions } from './api.js';
import { PylonApiError, RequestAbortedError, buildApiError, isRefusal, type CallSite, type FailureReport, type HttpMethod } from './errors.js';
import { createPacer, type BucketStats, type PacerEvent } from './rate-limit.js';
import {
  DEFAULT_RETRY,
  classifyTransportError,
  decideRetry,
  describeFailure,
  isIdempotent,
  isTransient,
  mayHaveApplied,
  parseRateLimitRemaining,
  parseRetryAfter,
  type Failure,
  type RetryOptions,
} from './retry.js';
import type { Account, Contact, CustomFieldDefinition, CustomFieldValue, Me } from './types.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

export type ClientEvent =
  | PacerEvent
  | { type: 'retry'; endpoint: EndpointKey; method: HttpMethod; path: string; attempt: number; delayMs: number; reason: string }
  | { type: 'rate-limited'; endpoint: EndpointKey; retryAfterMs?: number }
  /** The server refused a page size (a 400 or 422 about `limit`): this endpoint is asked for `to` a page from now on. */
  /** A page without `pagination.has_next_page`: its cursor is read instead (said once). */
  | { type: 'no-has-next-page'; endpoint: EndpointKey; method: HttpMethod; path: string }
  | { type: 'page-size'; endpoint: EndpointKey; method: HttpMethod; path: string; from: number; to: number; status?: number; reason: string };

export interface PylonClientOptions {
  baseUrl: string;
  token: string;
  /** Per-request timeout (connect, response and whole request), default 30000. */
  timeoutMs?: number;
  /** Requests per window for each endpoint (default DEFAULT_RATES); 0 or Infinity leaves it unpaced. */
  rates?: Partial<Record<EndpointKey, number>>;
  /** The server's rate-limit window, default 60000 (tests use small windows). */
  windowMs?: number;
  /** Pacing margin, a fraction of the nominal spacing (default 0.025). */
  pacingMargin?: number;
  retry?: Partial<RetryOptions>;
  onEvent?: (event: ClientEvent) => void;
  /** Called before each write (create, PATCH, delete) goes out, retries included; a throw rejects the call, unsent. */
  beforeWrite?: () => void;
  /** Jitter source for backoff, default Math.random. */
  random?: () => number;
}

export interface PylonClientHandle extends PylonClient {
  /** Pacer state per endpoint bucket. */
  pacing(): Record<EndpointKey, BucketStats>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

/** Most pages `listCustomFields` follows before it assumes a pagination loop. */
const MAX_CUSTOM_FIELD_PAGES = 1000;

interface Call {
  site: CallSite;
  url: string;
  searchParams?: Record<string, string | number | undefined>;
  json?: unknown;
  /** Called each time the request leaves the pacer, just before it goes on the wire. */
  onSent?: () => void;
}

interface Success {
  body: Record<string, unknown>;
  requestId: string;
  status: number;
}

type Exchange = { response: Response<string> } | { error: unknown };

const WRITES: ReadonlySet<EndpointKey> = new Set(['create', 'patch', 'delete']);

/**
 * A 400's words about the `limit` parameter itself ("limit must be between 1 and 100", "invalid limit", "'limit' is too
 * large", "limit: must be ≤ 100"), not any sentence holding the word: "filter values exceed the limit of 25" or "rate limit"
 * is another error, surfaced as it is rather than answered by asking for smaller pages.
 */
const LIMIT_REFUSED =
  /(?<!\b(?:rate|values?|filter|size|length|character|request|body)\s)(?:["'`]limit["'`]|\blimit\b(?!\s+of\b))\s*(?:[:=]|must\b|should\b|is\b|has\b|exceeds?\b|cannot\b|can't\b|may\b|out of range\b|too\b|not\b|parameter\b)|\b(?:invalid|bad|maximum|max)\s+(?:value\s+(?:for|of)\s+)?(?:the\s+)?(?:["'`]limit["'`]|limit\b)(?!\s+of\b)/i;

/**
 * The page size to try after `error` refused `size`, or undefined when the error is not a
 * refused page size. Pylon's docs allow 1–999, but a server (or proxy) may cap it lower and
 * say so in a 400 about `limit` (LIMIT_REFUSED; the caller only asks when its request carried one): the largest number below `size` the message names (N-1 for
 * "less than N"), else half of `size`.
 */
export function smallerPageSize(error: unknown, size: number): number | undefined {
  if (!isRefusal(error) || size <= 1) return undefined;
  // Pylon's own words when it sent some: the CLI's message also holds the status and request id.
  const text = error.errors.length > 0 ? error.errors.join(' ') : error.message.replace(/\b(?:with|returned) \d{3}\b|\(request_id [^)]*\)/g, '');
  if (!LIMIT_REFUSED.test(text)) return undefined;
  const named = [...text.matchAll(/(less than\s+)?(\d+)/gi)]
    .map((m) => Number(m[2]) - (m[1] ? 1 : 0))
    .filter((n) => Number.isSafeInteger(n) && n >= 1 && n < size);
  return named.length > 0 ? Math.max(...named) : Math.max(1, Math.floor(size / 2));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function stringField(body: unknown, key: string): string | undefined {
  const value = isObject(body) ? body[key] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

type HttpFailure = NonNullable<FailureReport['http']>;

/**
 * What a non-2xx answer says, and the wait a 429/503 asks for. Pylon's docs show `{errors: [..], code, exists_id}`;
 * third-party clients also read `{message}` and `{error: {message, code}}` (or `error` as a string), and list items
 * may be `{message}` objects: whichever a server sends, its words, code and `exists_id` are kept.
 */
function readErrorAnswer(status: number, headers: IncomingHttpHeaders, body: unknown, requestId: string | undefined): HttpFailure {
  const nested = isObject(body) && isObject(body.error) ? body.error : undefined;
  const list = isObject(body) && Array.isArray(body.errors) ? (body.errors as unknown[]) : [];
  const listed = list.map((e) => (typeof e === 'string' ? e : stringField(e, 'message'))).filter((e): e is string => !!e);
  const message = stringField(body, 'message') ?? stringField(nested, 'message') ?? stringField(body, 'error');
  // A server may name the field it refused (`field` or `param`, on the body, its `error` or an `errors[]` item): kept for _error_field.
  const field = [body, nested, ...list].map((b) => stringField(b, 'field') ?? stringField(b, 'param')).find((f) => f !== undefined);
  return {
    status,
    envelope: isObject(body) && (Array.isArray(body.errors) || message !== undefined),
    contentType: headerText(headers['content-type'])?.split(';')[0],
    errors: listed.length > 0 ? listed : message ? [message] : [],
    pylonCode: stringField(body, 'code') ?? stringField(nested, 'code'),
    requestId,
    existsId: stringField(body, 'exists_id') ?? stringField(nested, 'exists_id'),
    ...(field === undefined ? {} : { field }),
    retryAfterMs: status === 429 || status === 503 ? parseRetryAfter(headers) : undefined,
  };
}

/**
 * A contact as the CLI reads it: `custom_fields` keyed by slug. Pylon answers that map, but
 * a server may answer the write shape, an array of `{slug, value}` / `{slug, values}`; taken
 * as no custom fields, every export would leave `custom.*` empty and every re-import write again.
 */
export function readContact(contact: Contact): Contact {
  const fields: unknown = contact.custom_fields;
  if (!Array.isArray(fields)) return contact;
  const map: Record<string, CustomFieldValue> = {};
  for (const entry of fields) {
    if (isObject(entry) && typeof entry.slug === 'string' && entry.slug !== '') map[entry.slug] = entry as unknown as CustomFieldValue;
  }
  return { ...contact, custom_fields: map };
}

const contactResult = (result: ApiResult<Contact>): ApiResult<Contact> => ({ ...result, data: readContact(result.data) });
const contactsPage = (result: ApiPage<Contact>): ApiPage<Contact> => ({ ...result, data: result.data.map(readContact) });

function segment(value: string, what: string): string {
  if (typeof value !== 'string' || value === '') throw new InternalError(`${what} must be a non-empty string`);
  return encodeURIComponent(value);
}

export function createPylonClient(options: PylonClientOptions): PylonClientHandle {
  const { token } = options;
  // A token no header can carry would fail each attempt in Node, retried as a lost connection, and one
  // too short to be real could not be kept out of messages: both refused before any call.
  checkToken(token, 'The API token', 'token');
  const origin = new URL(options.baseUrl).origin;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  const random = options.random ?? Math.random;
  const emit = options.onEvent ?? (() => {});
  const clean = (text: string) => redact(text, token);
  const pacer = createPacer({
    rates: { ...DEFAULT_RATES, ...options.rates },
    windowMs: options.windowMs ?? 60_000,
    margin: options.pacingMargin,
    onEvent: emit,
  });
  const stats: ClientStats = {
    calls: Object.fromEntries(ENDPOINTS.map((e) => [e, 0])) as Record<EndpointKey, number>,
    retries: 0,
    rateLimited: 0,
  };
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  const http = got.extend({
    prefixUrl: options.baseUrl,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'user-agent': `pylon-contacts/${version}`,
    },
    timeout: { connect: timeoutMs, response: timeoutMs, request: timeoutMs },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
    agent: agents,
  });

  async function exchange(call: Call): Promise<Exchange> {
    const searchParams = call.searchParams
      ? Object.fromEntries(Object.entries(call.searchParams).filter(([, v]) => v !== undefined) as Array<[string, string | number]>)
      : undefined;
    try {
      const response = await http(call.url, { method: call.site.method, searchParams, json: call.json });
      return { response: response as Response<string> };
    } catch (error) {
      return { error };
    }
  }

  function aborted(site: CallSite, signal: AbortSignal | undefined): RequestAbortedError {
    const reason: unknown = signal?.reason;
    return new RequestAbortedError(site, clean(reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason)));
  }

  async function wait(site: CallSite, ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await sleep(ms, undefined, { signal });
    } catch {
      throw aborted(site, signal);
    }
  }

  /** Sends a call under the pacing and retry policy; resolves with a 2xx JSON object body. */
  async function send(call: Call, signal: AbortSignal | undefined): Promise<Success> {
    const { site } = call;
    const { endpoint } = site;
    let retries = 0;
    let appliedEarlier = false;
    for (;;) {
      let sentAt: number;
      try {
        sentAt = await pacer.acquire(endpoint, signal);
      } catch {
        throw aborted(site, signal);
      }
      // A write that must not go out (the audit log can no longer take the run's record) is stopped here, unsent.
      if (endpoint === 'create' || endpoint === 'patch' || endpoint === 'delete') options.beforeWrite?.();
      stats.calls[endpoint] += 1;
      // A journal notes the send here: a request still waiting for its slot was never sent.
      call.onSent?.();
      const outcome = await exchange(call);
      let failure: Failure;
      let http: HttpFailure | undefined;
      if ('response' in outcome) {
        const { statusCode: status, headers } = outcome.response;
        const remaining = parseRateLimitRemaining(headers);
        if (remaining !== undefined) pacer.observe(endpoint, remaining, sentAt);
        const body = parseJson(outcome.response.body);
        const requestId = stringField(body, 'request_id') ?? headerText(headers['x-request-id']);
        if (status >= 200 && status < 300) {
          if (isObject(body)) return { body, requestId: requestId ?? '', status };
          // A write answered 2xx happened, whatever the body (a 204 has none): the caller reads the contact back if it needs it.
          if (WRITES.has(endpoint)) return { body: {}, requestId: requestId ?? '', status };
          throw badResponse(site, status, `the body is not a JSON object`, requestId);
        }
        http = readErrorAnswer(status, headers, body, requestId);
        failure = { kind: 'status', status, retryAfterMs: http.retryAfterMs };
      } else {
        const error = outcome.error as { code?: string; name?: string; event?: string };
        failure = classifyTransportError(error.code, error.name === 'TimeoutError' ? (error.event ?? 'request') : undefined);
      }
      if (WRITES.has(endpoint) && mayHaveApplied(failure)) appliedEarlier = true;
      const decision = decideRetry({ endpoint, failure, retriesDone: retries, options: retry, random });
      const rateLimited = failure.kind === 'status' && failure.status === 429;
      if (rateLimited) {
        stats.rateLimited += 1;
        pacer.pause(endpoint, decision.retry ? decision.delayMs : (http?.retryAfterMs ?? 0));
        emit({ type: 'rate-limited', endpoint, retryAfterMs: http?.retryAfterMs });
      }
      if (!decision.retry) {
        throw buildApiError({
          site,
          origin,
          retries,
          maybeApplied: appliedEarlier,
          retryable: isTransient(failure) && (isIdempotent(endpoint) || !mayHaveApplied(failure)),
          stop: decision.reason,
          redact: clean,
          http,
          transport:
            failure.kind === 'status'
              ? undefined
              : { kind: failure.kind, code: describeFailure(failure), timeoutMs, cause: (outcome as { error: unknown }).error },
        });
      }
      retries += 1;
      stats.retries += 1;
      emit({ type: 'retry', endpoint, method: site.method, path: site.path, attempt: retries, delayMs: decision.delayMs, reason: decision.reason });
      // After a 429 the pacer holds the whole bucket for the delay; the next acquire waits for it.
      if (!rateLimited) await wait(site, decision.delayMs, signal);
    }
  }

  function badResponse(site: CallSite, status: number, detail: string, requestId: string | undefined): PylonApiError {
    return new PylonApiError({
      ...site,
      code: 'PYLON_BAD_RESPONSE',
      message: clean(`${site.method} ${site.path} returned ${status} with an unexpected body: ${detail}${requestId ? ` (request_id ${requestId})` : ''}`),
      status,
      requestId,
      maybeApplied: WRITES.has(site.endpoint),
      retryable: false,
    });
  }

  async function single<T>(call: Call, signal?: AbortSignal): Promise<ApiResult<T>> {
    const { body, requestId, status } = await send(call, signal);
    if (!isObject(body.data)) throw badResponse(call.site, status, 'no `data` object', requestId);
    return { data: body.data as T, requestId };
  }

  /** Whether a missing `pagination.has_next_page` was said (once a run: the server is the same). */
  let omittedFlagSaid = false;

  async function page<T>(call: Call, signal?: AbortSignal): Promise<ApiPage<T>> {
    const { body, requestId, status } = await send(call, signal);
    const pagination = body.pagination;
    if (!Array.isArray(body.data)) throw badResponse(call.site, status, 'no `data` array', requestId);
    const flag = isObject(pagination) ? pagination.has_next_page : undefined;
    if (!isObject(pagination) || (flag !== undefined && flag !== null && typeof flag !== 'boolean')) {
      throw badResponse(call.site, status, 'no `pagination.has_next_page`', requestId);
    }
    const cursor = pagination.cursor;
    if (cursor !== undefined && cursor !== null && typeof cursor !== 'string') {
      throw badResponse(call.site, status, '`pagination.cursor` is not a string', requestId);
    }
    if (typeof flag === 'boolean') return { data: body.data as T[], cursor, hasNextPage: flag, requestId };
    // The schema requires the flag, but a server that leaves it out still says where the list goes on:
    // a non-empty cursor is a next page, none (absent, null or "") the end.
    if (!omittedFlagSaid) {
      omittedFlagSaid = true;
      emit({ type: 'no-has-next-page', ...call.site });
    }
    return { data: body.data as T[], cursor, hasNextPage: typeof cursor === 'string' && cursor !== '', requestId };
  }

  const site = (method: HttpMethod, endpoint: EndpointKey, path: string): CallSite => ({ method, endpoint, path });

  /** The largest page size each endpoint took after refusing a larger one (smallerPageSize); later calls ask for at most that. */
  const pageCaps: Partial<Record<EndpointKey, number>> = {};

  /** A page call whose `limit` is stepped down, and remembered, when the server refuses it. */
  async function sizedPage<T>(callSite: CallSite, limit: number | undefined, make: (limit: number | undefined) => Call, signal?: AbortSignal): Promise<ApiPage<T>> {
    const cap = pageCaps[callSite.endpoint];
    let size = limit === undefined || cap === undefined ? limit : Math.min(limit, cap);
    for (;;) {
      try {
        return await page<T>(make(size), signal);
      } catch (error) {
        const next = size === undefined ? undefined : smallerPageSize(error, size);
        if (next === undefined || size === undefined) throw error;
        pageCaps[callSite.endpoint] = next;
        emit({ type: 'page-size', ...callSite, from: size, to: next, status: (error as PylonApiError).status, reason: clean((error as PylonApiError).errors.join('; ') || (error as Error).message) });
        size = next;
      }
    }
  }

  return {
    stats,
    pacing: () => pacer.stats(),
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },

    me: (o?: RequestOptions) => single<Me>({ site: site('GET', 'me', '/me'), url: 'me' }, o?.signal),

    listContacts: ({ cursor, limit }, o) => {
      const callSite = site('GET', 'list', '/contacts');
      return sizedPage<Contact>(callSite, limit, (size) => ({ site: callSite, url: 'contacts', searchParams: { limit: size, cursor } }), o?.signal).then(contactsPage);
    },

    searchContacts: ({ filter, search_text, cursor, limit }, o) => {
      const callSite = site('POST', 'search', '/contacts/search');
      return sizedPage<Contact>(callSite, limit, (size) => ({ site: callSite, url: 'contacts/search', json: { filter, ...(search_text === undefined ? {} : { search_text }), cursor, limit: size } }), o?.signal).then(contactsPage);
    },

    getContact: (id, o) =>
      single<Contact>({ site: site('GET', 'get', '/contacts/{id}'), url: `contacts/${segment(id, 'contact id')}` }, o?.signal).then(contactResult),

    async createContact(body, o) {
      const call = { site: site('POST', 'create', '/contacts'), url: 'contacts', json: body, onSent: o?.onSent };
      const answer = await send(call, o?.signal);
      const data = answer.body.data;
      // A 2xx that does not say which contact it made (204, `{}`, `{"data": {}}`, a contact without its id) did create one:
      // an error that may have been applied, as a lost answer is; the caller finds the contact by email, or says it cannot.
      if (!isObject(data) || typeof data.id !== 'string' || data.id === '') {
        throw badResponse(call.site, answer.status, isObject(data) ? 'no contact id in `data`' : 'no `data` object', answer.requestId);
      }
      return contactResult({ data: data as unknown as Contact, requestId: answer.requestId });
    },

    async updateContact(id, body, o) {
      const call = { site: site('PATCH', 'patch', '/contacts/{id}'), url: `contacts/${segment(id, 'contact id')}`, json: body, onSent: o?.onSent };
      const answer = await send(call, o?.signal);
      if (isObject(answer.body.data)) return { data: readContact(answer.body.data as unknown as Contact), requestId: answer.requestId };
      // A 2xx without the contact (204, or 200 with `{}`) is a PATCH that happened: the contact is read back
      // (callers check what the server kept), or, if that read fails, taken to be what was sent.
      try {
        const read = await single<Contact>({ site: site('GET', 'get', '/contacts/{id}'), url: call.url }, o?.signal);
        return { data: readContact(read.data), requestId: answer.requestId || read.requestId };
      } catch {
        return { data: readContact({ ...body, id } as unknown as Contact), requestId: answer.requestId };
      }
    },

    async deleteContact(id, o) {
      const call = { site: site('DELETE', 'delete', '/contacts/{id}'), url: `contacts/${segment(id, 'contact id')}` };
      const { requestId } = await send(call, o?.signal);
      return { requestId };
    },

    async listCustomFields(o) {
      const fields: CustomFieldDefinition[] = [];
      const callSite = site('GET', 'customFields', '/custom-fields');
      const fetch = (cursor: string | undefined) => page<CustomFieldDefinition>({ site: callSite, url: 'custom-fields', searchParams: { object_type: 'contact', cursor } }, o?.signal);
      try {
        for await (const result of paginate(fetch, { maxPages: MAX_CUSTOM_FIELD_PAGES, signal: o?.signal })) fields.push(...result.data);
      } catch (error) {
        if (!(error instanceof PaginationError)) throw error;
        const problem = { 'missing-cursor': 'has_next_page is true but no cursor was sent', 'repeated-cursor': 'the server sent a cursor it had sent before', 'page-limit': `more than ${MAX_CUSTOM_FIELD_PAGES} pages` }[error.reason];
        throw new PylonApiError({ ...callSite, code: 'PYLON_PAGINATION', message: `GET /custom-fields pagination stopped: ${problem}`, requestId: error.requestId });
      }
      return fields;
    },

    getAccount: (idOrExternalId, o) =>
      single<Account>({ site: site('GET', 'accounts', '/accounts/{id}'), url: `accounts/${segment(idOrExternalId, 'account id')}` }, o?.signal),

    listAccounts: ({ cursor, limit }, o) => {
      const callSite = site('GET', 'accounts', '/accounts');
      return sizedPage<Account>(callSite, limit, (size) => ({ site: callSite, url: 'accounts', searchParams: { limit: size, cursor } }), o?.signal);
    },

    // A write: paced in the create bucket and, like a contact create, retried only on 429.
    createAccount: (body, o) => single<Account>({ site: site('POST', 'create', '/accounts'), url: 'accounts', json: body }, o?.signal),
  };
}
