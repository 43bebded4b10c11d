import type { Contact } from '../pylon/types.js';
import type { DesiredContact, RowIssue } from './desired.js';
import { DEFAULT_EXTERNAL_ID_LABEL } from './lookup-key.js';

/**
 * External ids are (label, id) pairs: a row's id is the same person only as a
 * contact holding that id under the row's label. Pylon keeps an external id once
 * per contact type whatever its label, so a contact holding the row's id under
 * another label is another system's record: the row fails and names it, and no
 * write goes out. When that contact is the one the row's own email or id finds,
 * the message says that instead: it already holds the id under another label. Pure: given the contacts the lookup (or Pylon's refusal) found.
 */
export function externalIdConflict(desired: Pick<DesiredContact, 'external_id' | 'external_id_label' | 'email' | 'id'>, contacts: Iterable<Contact | undefined>): RowIssue | undefined {
  const id = desired.external_id;
  if (!id) return undefined;
  const label = desired.external_id_label || DEFAULT_EXTERNAL_ID_LABEL;
  for (const contact of contacts) {
    const held = contact?.external_ids?.find((e) => e.external_id === id);
    if (!contact || !held || (held.label ?? '') === label) continue;
    const heldLabel = held.label ?? '';
    const sameButCase = heldLabel.toLowerCase() === label.toLowerCase();
    const caseWhy = `the labels differ only in case, and labels are compared exactly (Pylon documents no case rule); if both name one system, import with --external-id-label "${heldLabel}"`;
    // The contact the row's own email or id finds: not another person's record, but this one already holding the id under another label.
    const by = ownedBy(desired, contact);
    if (by) {
      return {
        code: 'ROW_EXTERNAL_ID_TAKEN',
        field: 'external_id',
        message: sameButCase
          ? `Contact ${contact.id}, which this row's ${by} finds, already holds external id ${id} under label "${heldLabel}", not "${label}": ${caseWhy}`
          : `Contact ${contact.id}, which this row's ${by} finds, already holds external id ${id} under label "${heldLabel}"; Pylon keeps an external id once per contact, whatever its label, so it cannot hold ${id} under "${label}" too, and nothing was written. ` +
            `If "${label}" and "${heldLabel}" name one system, import with --external-id-label "${heldLabel}"; otherwise update this contact from this row by its ${by} alone (import the row without --external-id-column)`,
      };
    }
    const why = sameButCase ? caseWhy : 'Pylon keeps an external id once per contact, whatever its label, so this row would take over another system\'s record; nothing was written';
    return {
      code: 'ROW_EXTERNAL_ID_TAKEN',
      field: 'external_id',
      message: `External id ${id} (label "${label}") is held by contact ${contact.id} under label "${heldLabel}": ${why}`,
    };
  }
  return undefined;
}

/** Whether `contact` is the one the row's id or email (primary or secondary, compared lower-cased) finds, and by which. */
function ownedBy(desired: Pick<DesiredContact, 'email' | 'id'>, contact: Contact): 'id' | 'email' | undefined {
  if (desired.id && desired.id === contact.id) return 'id';
  const email = desired.email?.trim().toLowerCase();
  if (!email) return undefined;
  return [contact.email, ...(contact.emails ?? [])].some((e) => e?.trim().toLowerCase() === email) ? 'email' : undefined;
}

/**
 * Words that say an id is held already (the emulator's `A contact with external id "X" already exists`, and the usual
 * ways of saying it): a refusal that merely names the row's id (a validation of the id itself, an id sent twice in one
 * request, `used more than once`) is about something else and keeps Pylon's own code.
 */
const TAKEN = /\b(already (exists?|in use|taken|used|assigned|held)|is taken|in use|held by|belongs to|another contact|must be unique|not unique|duplicate key)\b/i;

/** Whether `words` name `id` whole: `100` is not named by `ACC-1001` or `1001`. */
function namesWhole(words: string, id: string): boolean {
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}_-])${escaped}($|[^\\p{L}\\p{N}_-])`, 'u').test(words);
}

/**
 * A write Pylon refused because another contact holds the row's external id, without naming that contact (no
 * `exists_id`: a server like `--external-id-taken reject-plain`, and a holder a lookup by search cannot see, since
 * search cannot filter on external ids): ROW_EXTERNAL_ID_TAKEN, as when the holder is known, rather than a plain
 * ROW_API_REJECTED. Told by the refusal's words naming an external id, the row's id whole, and saying it is taken
 * (TAKEN); a refusal that merely names the id (a validation of it) is not this. `contactId`: the contact an
 * update was for, the row's own (its email or id finds it), which the message names as such.
 */
export function unnamedExternalIdHolder(
  desired: Pick<DesiredContact, 'external_id' | 'external_id_label' | 'id'>,
  api: { status?: number; existsId?: string; errors: readonly string[]; message: string } | undefined,
  contactId?: string,
): RowIssue | undefined {
  const id = desired.external_id;
  if (!id || !api || api.existsId || api.status === undefined || api.status < 400 || api.status >= 500) return undefined;
  const words = api.errors.join('; ') || api.message;
  if (!/external[ _-]?ids?\b/i.test(words) || !TAKEN.test(words) || !namesWhole(words, id)) return undefined;
  const label = desired.external_id_label || DEFAULT_EXTERNAL_ID_LABEL;
  const refused = contactId ? `the update of contact ${contactId}, which this row's ${desired.id ? 'id' : 'email'} finds,` : 'the create';
  return {
    code: 'ROW_EXTERNAL_ID_TAKEN',
    field: 'external_id',
    message:
      `External id ${id} (label "${label}") is held by another contact: Pylon refused ${refused} (${words}) without naming that contact, and a lookup by search cannot find contacts by external id; nothing was written. ` +
      'Run the import with --lookup list to have the holder named, or import the row without --external-id-column',
  };
}
