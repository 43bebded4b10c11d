/**
 * Test helpers for the emulator: boot a fresh one on 127.0.0.1:0 and always
 * close it, plus a tiny JSON client over Node's global fetch.
 */
import { createEmulator, type Emulator, type EmulatorOptionsInput } from '../../src/emulator/index.js';

export async function withEmulator<T>(options: EmulatorOptionsInput, fn: (emulator: Emulator) => Promise<T>): Promise<T> {
  const emulator = await createEmulator(options);
  try {
    return await fn(emulator);
  } finally {
    await emulator.close();
  }
}

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined when the body is not JSON (see `text`). */
  body: T;
  text: string;
}

export interface CallOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (bad JSON tests). */
  rawBody?: string;
  /** Defaults to the emulator's token; `null` sends no Authorization header. */
  token?: string | null;
  headers?: Record<string, string>;
}

export async function call<T = any>(emulator: Pick<Emulator, 'url' | 'token'>, method: string, path: string, options: CallOptions = {}): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const token = options.token === undefined ? emulator.token : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(emulator.url + path, { method, headers, body });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A client bound to one emulator: `api.get('/contacts')`, `api.post('/contacts', {name})`. */
export function client(emulator: Pick<Emulator, 'url' | 'token'>) {
  return {
    get: <T = any>(path: string, options?: CallOptions) => call<T>(emulator, 'GET', path, options),
    post: <T = any>(path: string, body?: unknown, options?: CallOptions) => call<T>(emulator, 'POST', path, { ...options, body }),
    patch: <T = any>(path: string, body?: unknown, options?: CallOptions) => call<T>(emulator, 'PATCH', path, { ...options, body }),
    delete: <T = any>(path: string, options?: CallOptions) => call<T>(emulator, 'DELETE', path, options),
  };
}

/** Follows `GET /contacts` (or a search body) page by page; returns every row and the page bodies. */
export async function collectPages(emulator: Pick<Emulator, 'url' | 'token'>, first: { search?: Record<string, unknown>; limit: number }) {
  const api = client(emulator);
  const rows: any[] = [];
  const pages: any[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 100_000; guard++) {
    const res = first.search
      ? await api.post('/contacts/search', { ...first.search, limit: first.limit, cursor })
      : await api.get(`/contacts?limit=${first.limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (res.status !== 200) throw new Error(`page ${pages.length + 1} failed with ${res.status}: ${res.text}`);
    pages.push(res.body);
    rows.push(...res.body.data);
    if (!res.body.pagination.has_next_page) return { rows, pages };
    cursor = res.body.pagination.cursor;
  }
  throw new Error('pagination did not end');
}
