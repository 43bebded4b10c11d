/** /contacts, /contacts/{id}, /contacts/search: store calls → Pylon envelopes. */
import type { Contact } from '../../pylon/types.js';
import { ApiError } from '../api-error.js';
import { decodeCursor, encodeCursor, parseBodyLimit, parseQueryLimit } from '../cursor.js';
import { CODES, MSG } from '../messages.js';
import { uuidLike } from '../request-id.js';
import { dataBody, emptyBody, pageBody } from '../respond.js';
import type { EmulatorContext, RequestInfo } from '../context.js';
import { compileFilter, textMatcher } from '../search.js';
import type { ContactStore } from '../store.js';
import { parseContactWrite, type ContactChanges } from '../validate.js';
import type { PatchEmailMode } from '../options.js';

function notFound(): ApiError {
  return new ApiError(404, CODES.notFound, MSG.contactNotFound);
}

function one(store: ContactStore, id: string, requestId: string): string {
  return dataBody(store.json(store.positionOf(id) as number), requestId);
}

export function listContacts(app: EmulatorContext, req: RequestInfo): string {
  const { store, options } = app;
  const limit = parseQueryLimit(req.query.get('limit'), options.maxPageSize);
  const from = decodeCursor(req.query.get('cursor') ?? undefined);
  if (options.listChurn > 0) return churnPage(app, req, from, limit);
  if (options.listShuffle) return shuffledPage(app, req, from, limit);
  if (options.listLagMs > 0) return laggedPage(app, req, from, limit);
  const page = store.page(from, limit);
  const items = page.positions.map((pos) => store.json(pos));
  return pageBody(items, page.hasNext ? encodeCursor(page.next) : undefined, options, req.requestId);
}

/** The contact `/contacts/{id}` names: by its id, or with --contact-external-ids by an external id it holds. */
function idOf({ store, options }: EmulatorContext, id: string): string {
  if (store.get(id)) return id;
  const holder = options.contactExternalIds ? store.findByExternalId(id) : undefined;
  if (!holder) throw notFound();
  return holder.id;
}

export function getContact(app: EmulatorContext, req: RequestInfo): string {
  return one(app.store, idOf(app, req.params.id), req.requestId);
}

/**
 * --list-churn: the list is served newest first with offset cursors (as many
 * APIs do), and while it is walked (every request with a cursor) a contact is
 * created, then on the next page one already listed is deleted, until the
 * budget of each is spent. An insert makes the next page repeat a row; a
 * delete makes it skip one. O(contacts) per page: for small stores.
 */
function churnPage({ store, options, churn }: EmulatorContext, req: RequestInfo, from: number, limit: number): string {
  if (from > 0 && churn.done < options.listChurn * 2) {
    const live = liveNewestFirst(store);
    if (churn.done % 2 === 0) {
      const n = ++churn.inserted;
      const contact = store.create({ name: `Churn ${n}`, email: `churn-${n}@churn.example` });
      store.touch(contact.id, options.now());
    } else if (live.length > 0) {
      store.delete(store.at(live[Math.min(from - 1, live.length - 1) >> 1])!.id);
    }
    churn.done += 1;
  }
  return offsetPage(store, options, req, liveNewestFirst(store), from, limit);
}

/**
 * --list-lag-ms: the list in store order with offset cursors, without the
 * contacts created through the API less than the lag ago (an eventually
 * consistent list). O(contacts) per page: for small stores.
 */
function laggedPage({ store, options }: EmulatorContext, req: RequestInfo, from: number, limit: number): string {
  const now = options.now();
  return offsetPage(store, options, req, liveInOrder(store).filter((pos) => store.listable(pos, now, options.listLagMs)), from, limit);
}

/** List requests served per emulator, for --list-shuffle: each request sees the list in an order of its own. */
const shuffles = new WeakMap<EmulatorContext, number>();

/**
 * --list-shuffle: offset cursors over an order that changes on every request (a deterministic permutation of the
 * live contacts per request), as a server sorting on a value that ties or moves: a walk of several pages repeats
 * some contacts and never shows others. O(contacts) per page: for small stores.
 */
function shuffledPage(app: EmulatorContext, req: RequestInfo, from: number, limit: number): string {
  const { store, options } = app;
  const round = (shuffles.get(app) ?? 0) + 1;
  shuffles.set(app, round);
  // A hash of (position, request) mixed in every bit: each request's order is unrelated to the last one's.
  const rank = (pos: number) => {
    let h = Math.imul(pos + 1, 0x85ebca6b) ^ Math.imul(round, 0xc2b2ae35);
    h ^= h >>> 13;
    h = Math.imul(h, 0x27d4eb2f);
    return (h ^ (h >>> 16)) >>> 0;
  };
  return offsetPage(store, options, req, liveInOrder(store).sort((a, b) => rank(a) - rank(b)), from, limit);
}

/** The page at offset `from` of `positions` (the whole list in the order served), with the next offset as its cursor. */
function offsetPage(store: ContactStore, options: EmulatorContext['options'], req: RequestInfo, positions: readonly number[], from: number, limit: number): string {
  const items = positions.slice(from, from + limit).map((pos) => store.json(pos));
  const next = from + limit < positions.length ? encodeCursor(from + limit) : undefined;
  return pageBody(items, next, options, req.requestId);
}

/** The live contacts' positions, oldest first (the store's order). */
function liveInOrder(store: ContactStore): number[] {
  const out: number[] = [];
  for (let pos = 0; pos < store.end; pos++) if (store.at(pos)) out.push(pos);
  return out;
}

function liveNewestFirst(store: ContactStore): number[] {
  return liveInOrder(store).reverse();
}

function duplicate(existsId: string, email: string, plain: boolean): ApiError {
  return new ApiError(400, CODES.alreadyExists, MSG.emailTaken(email), plain ? {} : { existsId });
}

export function createContact({ store, org, options }: EmulatorContext, req: RequestInfo): string {
  const changes = parseContactWrite(req.body, org, 'create', options);
  if (req.fault?.exists !== undefined) {
    const holder = changes.email === undefined ? undefined : store.findByEmail(changes.email);
    const existsId = req.fault.exists === true ? holder?.id ?? uuidLike() : req.fault.exists;
    throw new ApiError(400, CODES.alreadyExists, MSG.duplicateForced, { existsId });
  }
  if (options.duplicateEmail !== 'allow' && changes.email !== undefined) {
    const holder = store.duplicateOf([changes.email]);
    if (holder && options.duplicateEmail === 'merge') {
      const { email: _email, ...rest } = changes;
      store.update(holder.id, rest);
      store.touch(holder.id, options.now());
      return one(store, holder.id, req.requestId);
    }
    if (holder) throw duplicate(holder.id, changes.email, options.duplicateEmail === 'reject-plain');
  }
  const contact = store.create(changes);
  store.touch(contact.id, options.now());
  store.noteCreated(contact.id, options.now());
  return one(store, contact.id, req.requestId);
}

/**
 * POST /import/contacts (spec: "Imports a new contact", 20/min): name and email
 * required; account_id, avatar_url, custom_fields, portal_role, phone numbers.
 * Other fields are ignored (Pylon's convention for unknown fields). How it
 * differs from POST /contacts is undocumented: here it answers like a create,
 * including the duplicate-email switch.
 */
export function importContact(app: EmulatorContext, req: RequestInfo): string {
  const body = isObject(req.body) ? req.body : undefined;
  if (!body) throw new ApiError(400, CODES.invalidRequest, MSG.bodyNotObject);
  const allowed = ['name', 'email', 'account_id', 'avatar_url', 'custom_fields', 'portal_role', 'phone_numbers', 'primary_phone_number'];
  const kept = Object.fromEntries(Object.entries(body).filter(([k]) => allowed.includes(k)));
  return createContact({ ...app, options: { ...app.options, createEmail: 'required' } }, { ...req, body: kept });
}

/** --patch-email demote/add: PATCH `email` as the list it leaves (replace: the model's own rule, contact-model.ts). */
function patchEmailAs(mode: PatchEmailMode, base: Contact, changes: ContactChanges): ContactChanges {
  const { email, ...rest } = changes;
  if (mode === 'replace' || email === undefined || changes.emails !== undefined) return changes;
  const current = base.emails ?? [];
  const others = current.filter((e) => e.toLowerCase() !== email.toLowerCase());
  if (mode === 'demote') return { ...rest, emails: [email, ...others] };
  return { ...rest, emails: current.length === 0 ? [email] : others.length < current.length ? current : [...current, email] };
}

export function patchContact(app: EmulatorContext, req: RequestInfo): string {
  const { store, org, options } = app;
  const id = idOf(app, req.params.id);
  const changes = patchEmailAs(options.patchEmail, store.get(id)!, parseContactWrite(req.body, org, 'patch', options));
  const emails = changes.emails ?? (changes.email === undefined ? [] : [changes.email]);
  if (options.duplicateEmail !== 'allow' && emails.length > 0) {
    const holder = store.duplicateOf(emails, id);
    if (holder) throw duplicate(holder.id, emails.find((e) => store.hasEmail(holder, e)) ?? emails[0], options.duplicateEmail === 'reject-plain');
  }
  store.update(id, changes);
  store.touch(id, options.now());
  return one(store, id, req.requestId);
}

export function deleteContact(app: EmulatorContext, req: RequestInfo): string {
  if (!app.store.delete(idOf(app, req.params.id))) throw notFound();
  return emptyBody(req.requestId);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function searchContacts({ store, options }: EmulatorContext, req: RequestInfo): string {
  if (!isObject(req.body)) throw new ApiError(400, CODES.invalidRequest, MSG.bodyNotObject);
  const body = req.body;
  const limit = parseBodyLimit(body.limit, options.maxPageSize);
  const from = decodeCursor(body.cursor);
  const lenient = options.validation === 'lenient';
  // Lenient: `filter: {}` reads as no filter (the S4 spec makes filter optional).
  const noFilter = body.filter === undefined || body.filter === null || (lenient && isObject(body.filter) && Object.keys(body.filter).length === 0);
  const filter = noFilter ? undefined : compileFilter(body.filter, store, { lenient, maxValues: options.searchMaxValues });
  const text = body.search_text ?? undefined;
  if (text !== undefined && typeof text !== 'string') throw new ApiError(400, CODES.invalidRequest, MSG.wrongType('search_text', 'a string'));
  const matchText = text ? textMatcher(text) : undefined;
  const now = options.now();
  const lag = options.searchLagMs;
  const test = (c: Contact, pos: number) => (!filter || filter.test(c)) && (!matchText || matchText(c)) && store.searchable(pos, now, lag);

  const candidates = filter?.candidates();
  const found: number[] = [];
  let nextMatch: number | undefined;
  const visit = (pos: number): boolean => {
    const contact = store.at(pos);
    if (!contact || !test(contact, pos)) return true;
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
  return pageBody(items, nextMatch === undefined ? undefined : encodeCursor(nextMatch), options, req.requestId);
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
