/**
 * In-memory contact store. Contacts live in an insertion-ordered array with
 * tombstones (list order = creation order; a position never changes, so
 * cursors survive deletes), with indexes by id, lower-cased email (primary
 * and secondary), account id and external id. Each contact's JSON is cached
 * until it changes, so a page costs the page, not the store.
 */
import type { Contact, CustomFieldValue } from '../pylon/types.js';
import { ApiError } from './api-error.js';
import { applyChanges, DEFAULT_PORTAL_ROLE } from './contact-model.js';
import { CODES, MSG } from './messages.js';
import type { Org } from './org.js';
import { parseContactWrite, type ContactChanges } from './validate.js';

/** What `insert` accepts: the write shape, the read shape, or a mix (seed files, tests). */
export interface ContactSeed {
  id?: string;
  name: string;
  email?: string;
  /** Strings (first = primary unless `email` is given) or `{email, is_primary}`. */
  emails?: Array<string | { email: string; is_primary?: boolean }>;
  account_id?: string;
  account_external_id?: string;
  account?: { id: string };
  /** Read shape (`{slug: {slug, value|values}}`), a `{slug: value | values}` map, or the write array. */
  custom_fields?: Record<string, CustomFieldValue | string | string[]> | Array<{ slug: string; value?: string; values?: string[] }>;
  phone_numbers?: string[];
  primary_phone_number?: string;
  avatar_url?: string;
  external_ids?: Array<{ external_id: string; label?: string }>;
  integration_user_ids?: Array<{ id: string; source: string }>;
  portal_role?: string;
  portal_role_id?: string;
}

export interface EmailMatching {
  emailMatch: 'insensitive' | 'sensitive';
  matchSecondaryEmails: boolean;
  /** Whether an external id is unique per contact type (docs) or per (label, id); see options.ts. */
  externalIdTaken?: 'reject' | 'reject-plain' | 'per-label';
}

/** The external-id index's key: the bare id, or (label, id) under `per-label`. */
function externalIndexKey(ext: { external_id: string; label?: string }, perLabel: boolean): string {
  return perLabel ? (ext.label ?? '') + '\u001f' + ext.external_id : ext.external_id;
}

/** Positions per key; a single number saves memory for the common unique key. */
type PositionIndex = Map<string, number | number[]>;

function indexAdd(index: PositionIndex, key: string, pos: number): void {
  const cur = index.get(key);
  if (cur === undefined) index.set(key, pos);
  else if (typeof cur === 'number') index.set(key, [cur, pos]);
  else cur.push(pos);
}

function indexRemove(index: PositionIndex, key: string, pos: number): void {
  const cur = index.get(key);
  if (cur === undefined) return;
  if (typeof cur === 'number') {
    if (cur === pos) index.delete(key);
    return;
  }
  const rest = cur.filter((p) => p !== pos);
  if (rest.length === 0) index.delete(key);
  else index.set(key, rest.length === 1 ? rest[0] : rest);
}

function indexGet(index: PositionIndex, key: string): readonly number[] {
  const cur = index.get(key);
  return cur === undefined ? [] : typeof cur === 'number' ? [cur] : cur;
}

function seedToBody(seed: ContactSeed): Record<string, unknown> {
  const body: Record<string, unknown> = { ...seed };
  if (seed.account && seed.account_id === undefined && seed.account_external_id === undefined) body.account_id = seed.account.id;
  const cf = seed.custom_fields;
  if (cf && !Array.isArray(cf) && typeof cf === 'object') {
    body.custom_fields = Object.entries(cf).map(([slug, v]) => {
      if (typeof v === 'string') return { slug, value: v };
      if (Array.isArray(v)) return { slug, values: v };
      return { slug, value: v?.value, values: v?.values };
    });
  }
  return body;
}

export class ContactStore {
  private slots: Array<Contact | undefined> = [];
  private jsonCache: Array<string | undefined> = [];
  private byId = new Map<string, number>();
  private byEmail: PositionIndex = new Map();
  private byAccount = new Map<string, Set<number>>();
  private byExternalId = new Map<string, number>();
  /** When each position was last written through the API (search lag); absent = long ago. */
  private touchedAt = new Map<number, number>();
  private createdAt = new Map<number, number>();
  private live = 0;

  constructor(
    readonly org: Org,
    readonly matching: EmailMatching,
    private readonly newId: () => string,
  ) {}

  get size(): number {
    return this.live;
  }

  /** One past the last position ever used (positions are never reused). */
  get end(): number {
    return this.slots.length;
  }

  /** Adds a contact given in any seed shape; validates like a create (read-only fields allowed). Throws ApiError. */
  insert(seed: ContactSeed): Contact {
    const changes = parseContactWrite(seedToBody(seed), this.org, 'seed');
    if (changes.email !== undefined && changes.emails !== undefined) {
      const primary = changes.email;
      changes.emails = [primary, ...changes.emails.filter((e) => e.toLowerCase() !== primary.toLowerCase())];
    }
    return this.create(changes);
  }

  /** Creates a contact from validated changes. Throws ApiError 400 on a taken id or external id. */
  create(changes: ContactChanges): Contact {
    const id = changes.id ?? this.newId();
    if (this.byId.has(id)) throw new ApiError(400, CODES.alreadyExists, MSG.idTaken(id), { existsId: id });
    this.checkExternalIds(changes, undefined);
    const base: Contact = { id, name: '', emails: [], portal_role: DEFAULT_PORTAL_ROLE };
    return this.append(applyChanges(base, changes, this.org));
  }

  /** Adds an already-built contact in the read shape (trusted: random seeding). Its id must be new. */
  append(contact: Contact): Contact {
    const pos = this.slots.length;
    this.slots.push(contact);
    this.jsonCache.push(undefined);
    this.byId.set(contact.id, pos);
    this.indexContact(contact, pos);
    this.live += 1;
    return contact;
  }

  /** Records an API write of the contact at `pos` at time `now` (for --search-lag-ms). */
  touch(id: string, now: number): void {
    const pos = this.byId.get(id);
    if (pos !== undefined) this.touchedAt.set(pos, now);
  }

  /** Records an API create of the contact at `pos` at time `now` (for --list-lag-ms). */
  noteCreated(id: string, now: number): void {
    const pos = this.byId.get(id);
    if (pos !== undefined) this.createdAt.set(pos, now);
  }

  /** Whether the list already shows the contact at `pos`: created more than `lagMs` before `now` (or seeded). */
  listable(pos: number, now: number, lagMs: number): boolean {
    if (lagMs <= 0) return true;
    const at = this.createdAt.get(pos);
    return at === undefined || now - at >= lagMs;
  }

  /** Whether search already sees the contact at `pos`: written more than `lagMs` before `now`. */
  searchable(pos: number, now: number, lagMs: number): boolean {
    if (lagMs <= 0) return true;
    const at = this.touchedAt.get(pos);
    return at === undefined || now - at >= lagMs;
  }

  /** A fresh contact id (deterministic for the emulator's seed). */
  nextId(): string {
    return this.newId();
  }

  /** Applies validated changes; undefined when the id is unknown. */
  update(id: string, changes: ContactChanges): Contact | undefined {
    const pos = this.byId.get(id);
    if (pos === undefined) return undefined;
    const before = this.slots[pos] as Contact;
    this.checkExternalIds(changes, id);
    const after = applyChanges(before, changes, this.org);
    this.unindexContact(before, pos);
    this.slots[pos] = after;
    this.jsonCache[pos] = undefined;
    this.indexContact(after, pos);
    return after;
  }

  delete(id: string): boolean {
    const pos = this.byId.get(id);
    if (pos === undefined) return false;
    this.unindexContact(this.slots[pos] as Contact, pos);
    this.slots[pos] = undefined;
    this.jsonCache[pos] = undefined;
    this.byId.delete(id);
    this.live -= 1;
    return true;
  }

  get(id: string): Contact | undefined {
    const pos = this.byId.get(id);
    return pos === undefined ? undefined : this.slots[pos];
  }

  positionOf(id: string): number | undefined {
    return this.byId.get(id);
  }

  at(pos: number): Contact | undefined {
    return this.slots[pos];
  }

  /** The contact's JSON, cached until it changes. */
  json(pos: number): string {
    let text = this.jsonCache[pos];
    if (text === undefined) {
      text = JSON.stringify(this.slots[pos]);
      this.jsonCache[pos] = text;
    }
    return text;
  }

  /** Live contacts in list order. */
  *all(): IterableIterator<Contact> {
    for (const contact of this.slots) if (contact) yield contact;
  }

  /** Positions of live contacts from `from` on, at most `limit`, plus the position to resume at. */
  page(from: number, limit: number): { positions: number[]; next: number; hasNext: boolean } {
    const positions: number[] = [];
    let pos = from;
    const end = this.slots.length;
    while (pos < end && positions.length < limit) {
      if (this.slots[pos] !== undefined) positions.push(pos);
      pos += 1;
    }
    while (pos < end && this.slots[pos] === undefined) pos += 1;
    return { positions, next: pos, hasNext: pos < end };
  }

  /** Whether the contact has `email` under the emailMatch / matchSecondaryEmails switches. */
  hasEmail(contact: Contact, email: string): boolean {
    const own = this.matching.matchSecondaryEmails ? contact.emails ?? [] : contact.email ? [contact.email] : [];
    if (this.matching.emailMatch === 'sensitive') return own.includes(email);
    const lower = email.toLowerCase();
    return own.some((e) => e.toLowerCase() === lower);
  }

  /** Positions whose emails may match (a superset: callers re-check with hasEmail). */
  emailCandidates(email: string): readonly number[] {
    return indexGet(this.byEmail, email.toLowerCase());
  }

  accountCandidates(accountId: string): ReadonlySet<number> {
    return this.byAccount.get(accountId) ?? new Set();
  }

  /** Every live contact matching the email under the switches, in list order. */
  findAllByEmail(email: string): Contact[] {
    return [...this.emailCandidates(email)]
      .sort((a, b) => a - b)
      .map((pos) => this.slots[pos] as Contact)
      .filter((c) => this.hasEmail(c, email));
  }

  /** The contact holding `externalId` under any label (--contact-external-ids). */
  findByExternalId(externalId: string): Contact | undefined {
    if (this.matching.externalIdTaken !== 'per-label') {
      const pos = this.byExternalId.get(externalId);
      return pos === undefined ? undefined : this.at(pos);
    }
    for (const contact of this.all()) if (contact.external_ids?.some((e) => e.external_id === externalId)) return contact;
    return undefined;
  }

  findByEmail(email: string): Contact | undefined {
    return this.findAllByEmail(email)[0];
  }

  /** The first other contact holding one of `emails` (duplicate check), if any. */
  duplicateOf(emails: readonly string[], exceptId?: string): Contact | undefined {
    for (const email of emails) {
      const hit = this.findAllByEmail(email).find((c) => c.id !== exceptId);
      if (hit) return hit;
    }
    return undefined;
  }

  clear(): void {
    this.slots = [];
    this.jsonCache = [];
    this.byId.clear();
    this.byEmail.clear();
    this.byAccount.clear();
    this.byExternalId.clear();
    this.touchedAt.clear();
    this.live = 0;
  }

  private checkExternalIds(changes: ContactChanges, selfId: string | undefined): void {
    const policy = this.matching.externalIdTaken ?? 'reject';
    for (const ext of changes.external_ids ?? []) {
      const pos = this.byExternalId.get(externalIndexKey(ext, policy === 'per-label'));
      const owner = pos === undefined ? undefined : this.slots[pos];
      if (owner && owner.id !== selfId) {
        throw new ApiError(400, CODES.alreadyExists, MSG.externalIdTaken(ext.external_id), policy === 'reject-plain' ? {} : { existsId: owner.id });
      }
    }
  }

  private indexContact(contact: Contact, pos: number): void {
    for (const email of contact.emails ?? []) indexAdd(this.byEmail, email.toLowerCase(), pos);
    if (contact.account) {
      let set = this.byAccount.get(contact.account.id);
      if (!set) this.byAccount.set(contact.account.id, (set = new Set()));
      set.add(pos);
    }
    for (const ext of contact.external_ids ?? []) this.byExternalId.set(externalIndexKey(ext, this.matching.externalIdTaken === 'per-label'), pos);
  }

  private unindexContact(contact: Contact, pos: number): void {
    for (const email of contact.emails ?? []) indexRemove(this.byEmail, email.toLowerCase(), pos);
    if (contact.account) this.byAccount.get(contact.account.id)?.delete(pos);
    for (const ext of contact.external_ids ?? []) this.byExternalId.delete(externalIndexKey(ext, this.matching.externalIdTaken === 'per-label'));
  }
}
