import type { ApiPage } from './api.js';
import { PylonCliError } from '../errors.js';

const DEFAULT_MAX_PAGES = 100_000;

/** Fetches one page; `cursor` is undefined for the first page. */
export type FetchPage<T> = (cursor: string | undefined) => Promise<ApiPage<T>>;

export interface PaginateOptions {
  /** Most pages to request before stopping with PYLON_PAGINATION (a runaway-loop guard); default 100,000. */
  maxPages?: number;
  signal?: AbortSignal;
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
  constructor(message: string, cursor: string | undefined, page: number) {
    super('PYLON_PAGINATION', message);
    this.name = 'PaginationError';
    this.cursor = cursor;
    this.page = page;
  }
}

/**
 * Follows Pylon's cursor until `has_next_page` is false, yielding each page.
 * The last page may carry `""`, `null` or no cursor at all: all three end the loop.
 * Guards: a cursor seen before (a cycle), `has_next_page: true` without a cursor,
 * and more than `maxPages` pages. Pulls one page at a time: the next request is
 * sent only when the consumer asks for more.
 */
export async function* paginate<T>(fetchPage: FetchPage<T>, options: PaginateOptions = {}, state: PaginationState = { pages: 0, cursor: undefined }): AsyncGenerator<ApiPage<T>> {
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  const seen = new Set<string>();
  for (;;) {
    options.signal?.throwIfAborted();
    if (state.pages >= maxPages) {
      throw new PaginationError(
        `Stopped after ${state.pages} pages without reaching the last one (the limit is ${maxPages}; raise --max-pages if the org really is that large)`,
        state.cursor,
        state.pages,
      );
    }
    const page = await fetchPage(state.cursor);
    state.pages += 1;
    yield page;
    if (!page.hasNextPage) return;
    const next = page.cursor;
    if (typeof next !== 'string' || next === '') {
      throw new PaginationError(
        `Page ${state.pages} says there is a next page but gives no cursor (${next === undefined ? 'absent' : JSON.stringify(next)}; request_id ${page.requestId})`,
        state.cursor,
        state.pages,
      );
    }
    if (seen.has(next)) {
      throw new PaginationError(`Page ${state.pages} returned a cursor already followed: the server is looping (request_id ${page.requestId})`, state.cursor, state.pages);
    }
    seen.add(next);
    state.cursor = next;
  }
}
