/**
 * How a row names the contact it is about: by Pylon id when it has one, else by
 * email, trimmed and lower-cased. The one place that builds and reads the
 * `i:<id>` / `e:<email>` key format shared by the lookup, the duplicate index,
 * the contact spool and the undo merge.
 */
export type LookupKey = string;

/**
 * Migrations (issue 13): a row carrying its source system's id looks up
 * `x:<external id>` first and its email second, as one composite key
 * `x:<external id>\ne:<email>`; the first part that finds a contact decides.
 */
export const externalIdKey = (externalId: string): LookupKey => 'x:' + externalId;
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
export const emailKey = (email: string): LookupKey => 'e:' + email.trim().toLowerCase();

export function keyFor(row: { id?: string; email?: string | null; external_id?: string }): LookupKey | undefined {
  if (row.id) return idKey(row.id);
  if (row.external_id) return externalIdKey(row.external_id) + (row.email ? KEY_SEPARATOR + emailKey(row.email) : '');
  if (row.email) return emailKey(row.email);
  return undefined;
}

/** One part of a key (see keyParts). */
export function parseKey(key: LookupKey): { kind: 'id' | 'email' | 'external'; value: string } {
  return { kind: key.startsWith('i:') ? 'id' : key.startsWith('x:') ? 'external' : 'email', value: key.slice(2) };
}

/** Every key a contact answers to: its emails, its external ids, and its id when rows carry ids. */
export function keysOfContact(
  contact: { id: string; email?: string | null; emails?: readonly string[] | null; external_ids?: ReadonlyArray<{ external_id: string }> | null },
  byId: boolean,
): LookupKey[] {
  const keys = new Set<LookupKey>();
  if (contact.email) keys.add(emailKey(contact.email));
  for (const e of contact.emails ?? []) keys.add(emailKey(e));
  if (byId) keys.add(idKey(contact.id));
  for (const e of contact.external_ids ?? []) keys.add(externalIdKey(e.external_id));
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
