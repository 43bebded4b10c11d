import type { PylonClient } from '../pylon/api.js';
import { paginate } from '../pylon/paginate.js';
import { emailKey, keysOfContact } from './lookup-key.js';

/** An email this run created a contact for, held by more than one contact. */
export interface CreatedDuplicate {
  email: string;
  line: number;
  ids: string[];
}

/**
 * After a run in which some creates were uncertain (sent more than once, or
 * reconciled after a timeout), checks each of those emails: on a server that
 * accepts duplicate emails, a create that landed after every check would show
 * here as a second contact. Returns the emails held by more than one contact.
 */
export async function verifyNoDuplicates(client: PylonClient, emails: ReadonlyMap<string, number>, batchSize: number, signal?: AbortSignal): Promise<CreatedDuplicate[]> {
  const found: CreatedDuplicate[] = [];
  const list = [...emails.keys()];
  for (let i = 0; i < list.length; i += batchSize) {
    const batch = list.slice(i, i + batchSize);
    const values = [...new Set(batch.flatMap((e) => [e.trim(), e.trim().toLowerCase()]))];
    const filter = { field: 'email', operator: 'in' as const, values };
    const holders = new Map<string, Set<string>>();
    for await (const page of paginate((cursor) => client.searchContacts({ filter, limit: 999, ...(cursor ? { cursor } : {}) }, { signal }), { signal })) {
      for (const contact of page.data) {
        for (const key of keysOfContact(contact, false)) {
          let ids = holders.get(key);
          if (!ids) holders.set(key, (ids = new Set()));
          ids.add(contact.id);
        }
      }
    }
    for (const email of batch) {
      const ids = holders.get(emailKey(email));
      if (ids && ids.size > 1) found.push({ email, line: emails.get(email)!, ids: [...ids] });
    }
  }
  return found;
}
