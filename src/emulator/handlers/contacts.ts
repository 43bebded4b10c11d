/** /contacts, /contacts/{id}, /contacts/search: store calls → Pylon envelopes. */
import type { Contact } from '../../pylon/types.js';
import { ApiError } from '../api-error.js';
import { decodeCursor, encodeCursor, parseBodyLimit, parseQueryLimit } from '../cursor.js';
import { CODES, MSG } from '../messages.js';
import { uuidLike } from '../request-id.js';
import { dataBody, emptyBody, pageBody } from '../respond.js';
import type { EmulatorContext, RequestInfo } from '../routes.js';
import { compileFilter, textMatcher } from '../search.js';
import type { ContactStore } from '../store.js';
import { parseContactWrite } from '../validate.js';

function notFound(): ApiError {
  return new ApiError(404, CODES.notFound, MSG.contactNotFound);
}

function one(store: ContactStore, id: string, requestId: string): string {
  return dataBody(store.json(store.positionOf(id) as number), requestId);
}

export function listContacts({ store, options }: EmulatorContext, req: RequestInfo): string {
  const limit = parseQueryLimit(req.query.get('limit'));
  const from = decodeCursor(req.query.get('cursor') ?? undefined);
  const page = store.page(from, limit);
  const items = page.positions.map((pos) => store.json(pos));
  return pageBody(items, page.hasNext ? encodeCursor(page.next) : undefined, options.lastPageCursor, req.requestId);
}

export function getContact({ store }: EmulatorContext, req: RequestInfo): string {
  if (!store.get(req.params.id)) throw notFound();
  return one(store, req.params.id, req.requestId);
}

function duplicate(existsId: string, email: string): ApiError {
  return new ApiError(400, CODES.alreadyExists, MSG.emailTaken(email), { existsId });
}

export function createContact({ store, org, options }: EmulatorContext, req: RequestInfo): string {
  const changes = parseContactWrite(req.body, org, 'create');
  if (req.fault?.exists !== undefined) {
    const holder = changes.email === undefined ? undefined : store.findByEmail(changes.email);
    const existsId = req.fault.exists === true ? holder?.id ?? uuidLike() : req.fault.exists;
    throw new ApiError(400, CODES.alreadyExists, MSG.duplicateForced, { existsId });
  }
  if (options.duplicateEmail === 'reject' && changes.email !== undefined) {
    const holder = store.duplicateOf([changes.email]);
    if (holder) throw duplicate(holder.id, changes.email);
  }
  const contact = store.create(changes);
  return one(store, contact.id, req.requestId);
}

export function patchContact({ store, org, options }: EmulatorContext, req: RequestInfo): string {
  const id = req.params.id;
  if (!store.get(id)) throw notFound();
  const changes = parseContactWrite(req.body, org, 'patch');
  const emails = changes.emails ?? (changes.email === undefined ? [] : [changes.email]);
  if (options.duplicateEmail === 'reject' && emails.length > 0) {
    const holder = store.duplicateOf(emails, id);
    if (holder) throw duplicate(holder.id, emails.find((e) => store.hasEmail(holder, e)) ?? emails[0]);
  }
  store.update(id, changes);
  return one(store, id, req.requestId);
}

export function deleteContact({ store }: EmulatorContext, req: RequestInfo): string {
  if (!store.delete(req.params.id)) throw notFound();
  return emptyBody(req.requestId);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function searchContacts({ store, options }: EmulatorContext, req: RequestInfo): string {
  if (!isObject(req.body)) throw new ApiError(400, CODES.invalidRequest, MSG.bodyNotObject);
  const body = req.body;
  const limit = parseBodyLimit(body.limit);
  const from = decodeCursor(body.cursor);
  const filter = body.filter === undefined || body.filter === null ? undefined : compileFilter(body.filter, store);
  const text = body.search_text ?? undefined;
  if (text !== undefined && typeof text !== 'string') throw new ApiError(400, CODES.invalidRequest, MSG.wrongType('search_text', 'a string'));
  const matchText = text ? textMatcher(text) : undefined;
  const test = (c: Contact) => (!filter || filter.test(c)) && (!matchText || matchText(c));

  const candidates = filter?.candidates();
  const found: number[] = [];
  let nextMatch: number | undefined;
  const visit = (pos: number): boolean => {
    const contact = store.at(pos);
    if (!contact || !test(contact)) return true;
    if (found.length < limit) {
      found.push(pos);
      return true;
    }
    nextMatch = pos;
    return false;
  };
  if (candidates) {
    let i = lowerBound(candidates, from);
    while (i < candidates.length && visit(candidates[i])) i++;
  } else {
    for (let pos = from, end = store.end; pos < end && visit(pos); pos++);
  }
  const items = found.map((pos) => store.json(pos));
  return pageBody(items, nextMatch === undefined ? undefined : encodeCursor(nextMatch), options.lastPageCursor, req.requestId);
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
