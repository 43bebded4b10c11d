import type { EndpointKey } from '../config.js';
import type {
  Account,
  AccountCreate,
  Contact,
  ContactCreate,
  ContactPatch,
  CustomFieldDefinition,
  Filter,
  Me,
} from './types.js';

/** A single-object answer: the data and Pylon's request_id (quote it to Pylon support). */
export interface ApiResult<T> {
  data: T;
  requestId: string;
}

/** One page of a cursor-paginated answer. `cursor` is exactly what the server sent. */
export interface ApiPage<T> {
  data: T[];
  cursor: string | null | undefined;
  hasNextPage: boolean;
  requestId: string;
}

export interface ClientStats {
  /** Requests sent per endpoint, retries included. */
  calls: Record<EndpointKey, number>;
  /** Requests sent again after a 429, 5xx or network error. */
  retries: number;
  /** 429 answers received. */
  rateLimited: number;
}

export interface RequestOptions {
  /** Aborts waiting for a pacing slot or a retry delay (a request already sent is let finish). */
  signal?: AbortSignal;
  /** Writes: called each time the request leaves the client's pacer, just before it is sent (a journal's `sent` entry). */
  onSent?: () => void;
}

/**
 * Everything the import, export and update need from Pylon. Implemented over got
 * in client.ts. Failures reject with PylonApiError (src/pylon/errors.ts).
 */
export interface PylonClient {
  me(options?: RequestOptions): Promise<ApiResult<Me>>;
  listContacts(params: { cursor?: string; limit?: number }, options?: RequestOptions): Promise<ApiPage<Contact>>;
  /** `search_text` (spec S4): Pylon's text search, intersected with the filter. */
  searchContacts(params: { filter?: Filter; search_text?: string; cursor?: string; limit?: number }, options?: RequestOptions): Promise<ApiPage<Contact>>;
  getContact(id: string, options?: RequestOptions): Promise<ApiResult<Contact>>;
  /** Retried only on 429. A timeout, network error or 5xx rejects with `maybeApplied: true`. */
  createContact(body: ContactCreate, options?: RequestOptions): Promise<ApiResult<Contact>>;
  updateContact(id: string, body: ContactPatch, options?: RequestOptions): Promise<ApiResult<Contact>>;
  deleteContact(id: string, options?: RequestOptions): Promise<{ requestId: string }>;
  /** All contact custom-field definitions (follows pages). */
  listCustomFields(options?: RequestOptions): Promise<CustomFieldDefinition[]>;
  getAccount(idOrExternalId: string, options?: RequestOptions): Promise<ApiResult<Account>>;
  listAccounts(params: { cursor?: string; limit?: number }, options?: RequestOptions): Promise<ApiPage<Account>>;
  /** POST /accounts (migrations' --create-accounts). Paced and retried like a contact create (only on 429). Optional: test doubles need not implement it. */
  createAccount?(body: AccountCreate, options?: RequestOptions): Promise<ApiResult<Account>>;
  readonly stats: ClientStats;
  /** Closes idle keep-alive connections (optional: test doubles need not implement it). */
  close?(): void;
}
