/**
 * The only place that writes an HTTP response, plus the builders of Pylon's
 * envelopes. Bodies are assembled from cached per-contact JSON strings, so a
 * 999-row page is one string concatenation.
 */
import type { ServerResponse } from 'node:http';
import type { ApiError } from './api-error.js';
import type { ErrorBodyShape, HasNextPage, LastPageCursor } from './options.js';

export type Headers = Record<string, string | number>;

const JSON_TYPE = 'application/json; charset=utf-8';

/** Writes status, headers and body (JSON unless a content type is given) and ends the response. */
export function respond(res: ServerResponse, status: number, body: string, requestId: string, headers: Headers = {}, contentType = JSON_TYPE): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
    ...headers,
  });
  res.end(body);
}

/** `{data, request_id}` from already-serialized data. */
export function dataBody(dataJson: string, requestId: string): string {
  return `{"data":${dataJson},"request_id":"${requestId}"}`;
}

/**
 * `{data: [...], pagination: {cursor, has_next_page}, request_id}`; the last page's cursor follows
 * --last-page-cursor, and --has-next-page absent leaves the flag out.
 */
export function pageBody(
  items: readonly string[],
  nextCursor: string | undefined,
  options: { lastPageCursor: LastPageCursor; hasNextPage: HasNextPage },
  requestId: string,
): string {
  const lastPage = options.lastPageCursor;
  const flag = (value: boolean) => (options.hasNextPage === 'absent' ? '' : `${value}`);
  let pagination: string;
  if (nextCursor !== undefined) pagination = `{"cursor":"${nextCursor}","has_next_page":${flag(true)}}`;
  else if (lastPage === 'empty') pagination = `{"cursor":"","has_next_page":${flag(false)}}`;
  else if (lastPage === 'null') pagination = `{"cursor":null,"has_next_page":${flag(false)}}`;
  else pagination = `{"has_next_page":${flag(false)}}`;
  if (options.hasNextPage === 'absent') pagination = pagination.replace(/,?"has_next_page":\}$/, '}');
  return `{"data":[${items.join(',')}],"pagination":${pagination},"request_id":"${requestId}"}`;
}

/** `{request_id}` (delete). */
export function emptyBody(requestId: string): string {
  return `{"request_id":"${requestId}"}`;
}

/**
 * `{errors, request_id, code, exists_id?}` (Pylon's docs), or with --error-body the shapes third-party clients read:
 * `message` → `{message, code, request_id, exists_id?}`, `nested` → `{error: {message, code, exists_id?}, request_id}`.
 */
export function errorBody(error: ApiError, requestId: string, shape: ErrorBodyShape = 'pylon'): string {
  const extra = error.existsId === undefined ? {} : { exists_id: error.existsId };
  const message = error.errors.join('; ');
  if (shape === 'message') return JSON.stringify({ message, code: error.code, request_id: requestId, ...extra });
  if (shape === 'nested') return JSON.stringify({ error: { message, code: error.code, ...extra }, request_id: requestId });
  return JSON.stringify({ errors: error.errors, request_id: requestId, code: error.code, ...extra });
}
