import { setImmediate as nextTurn } from 'node:timers/promises';
import { counted } from '../plural.js';
import type { ApiPage } from './api.js';
import { PylonCliError } from '../errors.js';

const DEFAULT_MAX_PAGES = 100_000;
/** Event-loop turns given to the next page's request before this page goes to the consumer (two: the client's nextTick steps take more than one). */
const PREFETCH_TURNS = 2;

/** Fetches one page; `cursor` is undefined for the first page. */
export type FetchPage<T> = (cursor: string | undefined) => Promise<ApiPage<T>>;

export interface PaginateOptions {
  /** Most pages to request before stopping with PYLON_PAGINATION (a runaway-loop guard); default 100,000. */
  maxPages?: number;
  signal?: AbortSignal;
  /**
   * Request the next page as soon as a page arrives, while the consumer works on
   * this one (export: fetching overlaps writing). At most one page ahead.
   */
  prefetch?: boolean;
}

/** Where the loop is: read it after a failure to learn where the export stopped. */
export interface PaginationState {
  /** Pages received. */
  pages: number;
  /** The cursor of the page being (or last) requested; undefined for the first page. */
  cursor: string | undefined;
}

/** A pagination answer that would make a naive loop repeat, skip or never end. */
export class PaginationError extends PylonCliError {
  readonly cursor: string | undefined;
  readonly page: number;
  /** Which guard stopped the loop. */
  readonly reason: 'page-limit' | 'missing-cursor' | 'repeated-cursor';
  readonly requestId?: string;
  constructor(message: string, cursor: string | undefined, page: number, reason: PaginationError['reason'], requestId?: string) {
    super('PYLON_PAGINATION', message);
    this.name = 'PaginationError';
    this.cursor = cursor;
    this.page = page;
    this.reason = reason;
    this.requestId = requestId;
  }
}

/**
 * Follows Pylon's cursor until `has_next_page` is false, yielding each page.
 * The last page may carry `""`, `null` or no cursor at all: all three end the loop.
 * Guards: a cursor seen before (a cycle), `has_next_page: true` without a cursor,
 * and more than `maxPages` pages. Pulls one page at a time: the next request is
 * sent only when the consumer asks for more (or, with `prefetch`, as soon as the
 * previous page arrives). The one pagination loop of the tool: every paged read
 * (export, list lookup, search batches, custom fields, `update --where`) uses it.
 */
export async function* paginate<T>(fetchPage: FetchPage<T>, options: PaginateOptions = {}, state: PaginationState = { pages: 0, cursor: undefined }): AsyncGenerator<ApiPage<T>> {
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  const seen = new Set<string>();
  let ahead: Promise<ApiPage<T>> | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    if (state.pages >= maxPages) {
      throw new PaginationError(
        `Stopped after ${counted(state.pages, 'page')} without reaching the last one (the limit is ${maxPages}; raise --max-pages if the org really is that large)`,
        state.cursor,
        state.pages,
        'page-limit',
      );
    }
    const page = await (ahead ?? fetchPage(state.cursor));
    ahead = undefined;
    state.pages += 1;
    if (options.prefetch && page.hasNextPage && typeof page.cursor === 'string' && page.cursor !== '' && !seen.has(page.cursor) && state.pages < maxPages) {
      ahead = fetchPage(page.cursor);
      // Awaited on the next turn; a consumer that stops first must not leave an unhandled rejection.
      ahead.catch(() => undefined);
      // The consumer's work on this page is one long chain of promise jobs, and Node runs process.nextTick
      // callbacks (where the HTTP client hands a kept-alive socket to the request and writes it) only once
      // that chain pauses: without these turns the request left only after the page was done, and the
      // walk waited for every page. Measured in bench/RESULTS.md (bench:export-csv-speed).
      for (let turn = 0; turn < PREFETCH_TURNS; turn += 1) await nextTurn();
    }
    yield page;
    if (!page.hasNextPage) return;
    const next = page.cursor;
    if (typeof next !== 'string' || next === '') {
      throw new PaginationError(
        `Page ${state.pages} says there is a next page but gives no cursor (${next === undefined ? 'absent' : JSON.stringify(next)}; request_id ${page.requestId})`,
        state.cursor,
        state.pages,
        'missing-cursor',
        page.requestId,
      );
    }
    if (seen.has(next)) {
      throw new PaginationError(`Page ${state.pages} returned a cursor already followed: the server is looping (request_id ${page.requestId})`, state.cursor, state.pages, 'repeated-cursor', page.requestId);
    }
    seen.add(next);
    state.cursor = next;
  }
}
