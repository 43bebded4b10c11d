/**
 * How a row names the contact it is about: by Pylon id when it has one, else by
 * email, trimmed and lower-cased. The one place that builds and reads the
 * `i:<id>` / `e:<email>` key format shared by the lookup, the duplicate index,
 * the contact spool and the undo merge.
 */
export type LookupKey = string;

/** Label of an external id given without one. */
export const DEFAULT_EXTERNAL_ID_LABEL = 'import';

/**
 * Migrations (issues 13, 18): an external id is a (label, id) pair. A row carrying
 * its source system's id looks up `x:<label>\u001f<id>` first and its email
 * second, as one composite key `x:…\ne:<email>`; the first part that finds a
 * contact decides. Labels are compared exactly, as written: Pylon documents no
 * case rule for them, so `Zendesk` and `zendesk` are two systems (a contact
 * holding the id under the other spelling is a conflict, never a match).
 */
export const externalIdKey = (label: string, externalId: string): LookupKey => 'x:' + label + '\u001f' + externalId;
/**
 * Pylon keeps an external id once per object type, whatever its label: `h:<id>`
 * finds the contact holding it under any label, to name the conflict before a
 * write (the list lookup answers it from memory; search cannot filter on ids).
 */
export const heldExternalIdKey = (externalId: string): LookupKey => 'h:' + externalId;
export const KEY_SEPARATOR = '\n';

/** A key's alternatives, in the order they are tried (one for plain keys). */
export function keyParts(key: LookupKey): LookupKey[] {
  return key.includes(KEY_SEPARATOR) ? key.split(KEY_SEPARATOR) : [key];
}

/** The first alternative that finds something decides. */
export function matchFirst<M extends { kind: string }>(key: LookupKey, find: (part: LookupKey) => M): M {
  let match: M | undefined;
  for (const part of keyParts(key)) {
    match = find(part);
    if (match.kind !== 'none') return match;
  }
  return match!;
}

export const idKey = (id: string): LookupKey => 'i:' + id;
/** An email's key: NFC and lower case, so a decomposed `rene\u0301@…` and `René@…` are one address. */
export const emailKey = (email: string): LookupKey => 'e:' + email.trim().normalize('NFC').toLowerCase();

export interface KeyedRow {
  id?: string;
  email?: string | null;
  /** Secondary emails (an `emails` column): matching only, when the row's email and id find no contact. */
  emails?: readonly string[];
  external_id?: string;
  external_id_label?: string;
}

export function keyFor(row: KeyedRow): LookupKey | undefined {
  if (row.id) return idKey(row.id);
  if (row.external_id) return labelledKeyOf(row)! + (row.email ? KEY_SEPARATOR + emailKey(row.email) : '');
  if (row.email) return emailKey(row.email);
  return undefined;
}

/** The row's (label, id) key, when it carries an external id. */
export function labelledKeyOf(row: KeyedRow): LookupKey | undefined {
  return row.external_id ? externalIdKey(row.external_id_label || DEFAULT_EXTERNAL_ID_LABEL, row.external_id) : undefined;
}

/**
 * The row's secondary emails as keys, without its primary email and without
 * repeats: what finds its contact when its email (and external id) find none.
 */
export function secondaryKeysOf(row: KeyedRow): LookupKey[] {
  if (row.id || !row.emails?.length) return [];
  const keys = new Set(row.emails.map(emailKey));
  if (row.email) keys.delete(emailKey(row.email));
  return [...keys];
}

/**
 * The keys that make two rows of one file the same contact: its id; else its
 * email (one email, one row, whatever the external ids), its secondary emails
 * (they can find a contact too, so each is one row's) and its (label, id) pair.
 */
export function duplicateKeysFor(row: KeyedRow): Array<{ key: LookupKey; by: 'id' | 'email' | 'secondary email' | 'external id' }> {
  if (row.id) return [{ key: idKey(row.id), by: 'id' }];
  const keys: Array<{ key: LookupKey; by: 'id' | 'email' | 'secondary email' | 'external id' }> = [];
  if (row.email) keys.push({ key: emailKey(row.email), by: 'email' });
  for (const key of secondaryKeysOf(row)) keys.push({ key, by: 'secondary email' });
  const labelled = labelledKeyOf(row);
  if (labelled) keys.push({ key: labelled, by: 'external id' });
  return keys;
}

/** One part of a key (see keyParts). */
export function parseKey(key: LookupKey): { kind: 'id' | 'email' | 'external' | 'held'; value: string } {
  const kind = key.startsWith('i:') ? 'id' : key.startsWith('x:') ? 'external' : key.startsWith('h:') ? 'held' : 'email';
  return { kind, value: key.slice(2) };
}

/** Every key a contact answers to: its emails, its external ids (with their label, and bare), and its id when rows carry ids. */
export function keysOfContact(
  contact: { id: string; email?: string | null; emails?: readonly string[] | null; external_ids?: ReadonlyArray<{ external_id: string; label?: string }> | null },
  byId: boolean,
): LookupKey[] {
  const keys = new Set<LookupKey>();
  if (contact.email) keys.add(emailKey(contact.email));
  for (const e of contact.emails ?? []) keys.add(emailKey(e));
  if (byId) keys.add(idKey(contact.id));
  for (const e of contact.external_ids ?? []) {
    keys.add(externalIdKey(e.label ?? '', e.external_id));
    keys.add(heldExternalIdKey(e.external_id));
  }
  return [...keys];
}

/**
 * Keys another index already holds exactly: the list lookup's contact index, which
 * gives each key it holds a slot number of its own. Rows whose key is there keep
 * their lines by that slot (4–8 bytes a slot) instead of storing the key again, so
 * a re-run against a listed organisation does not pay for two indexes of the same
 * emails. Which structure a key lands in depends only on the key: decisions are
 * the same either way.
 */
export interface HeldKeySlots {
  /** Slot numbers are below this. */
  readonly slots: number;
  /** Keys held (to size the table for the others). */
  readonly held: number;
  /** The key's slot, or -1 when it is not held. */
  slotOf(key: string): number;
}
