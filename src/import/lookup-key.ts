/**
 * How a row names the contact it is about: by Pylon id when it has one, else by
 * email, trimmed and lower-cased. The one place that builds and reads the
 * `i:<id>` / `e:<email>` key format shared by the lookup, the duplicate index,
 * the contact spool and the undo merge.
 */
export type LookupKey = string;

export const idKey = (id: string): LookupKey => 'i:' + id;
export const emailKey = (email: string): LookupKey => 'e:' + email.trim().toLowerCase();

export function keyFor(row: { id?: string; email?: string | null }): LookupKey | undefined {
  if (row.id) return idKey(row.id);
  if (row.email) return emailKey(row.email);
  return undefined;
}

export function parseKey(key: LookupKey): { kind: 'id' | 'email'; value: string } {
  return { kind: key.startsWith('i:') ? 'id' : 'email', value: key.slice(2) };
}

/** Every key a contact answers to: its emails, and its id when rows carry ids. */
export function keysOfContact(contact: { id: string; email?: string | null; emails?: readonly string[] | null }, byId: boolean): LookupKey[] {
  const keys = new Set<LookupKey>();
  if (contact.email) keys.add(emailKey(contact.email));
  for (const e of contact.emails ?? []) keys.add(emailKey(e));
  if (byId) keys.add(idKey(contact.id));
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
