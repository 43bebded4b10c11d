import type { Contact } from '../pylon/types.js';
import type { DesiredContact, RowIssue } from './desired.js';
import { DEFAULT_EXTERNAL_ID_LABEL } from './lookup-key.js';

/**
 * External ids are (label, id) pairs: a row's id is the same person only as a
 * contact holding that id under the row's label. Pylon keeps an external id once
 * per contact type whatever its label, so a contact holding the row's id under
 * another label is another system's record: the row fails and names it, and no
 * write goes out. Pure: given the contacts the lookup (or Pylon's refusal) found.
 */
export function externalIdConflict(desired: Pick<DesiredContact, 'external_id' | 'external_id_label'>, contacts: Iterable<Contact | undefined>): RowIssue | undefined {
  const id = desired.external_id;
  if (!id) return undefined;
  const label = desired.external_id_label || DEFAULT_EXTERNAL_ID_LABEL;
  for (const contact of contacts) {
    const held = contact?.external_ids?.find((e) => e.external_id === id);
    if (!contact || !held || (held.label ?? '') === label) continue;
    const heldLabel = held.label ?? '';
    const why =
      heldLabel.toLowerCase() === label.toLowerCase()
        ? `the labels differ only in case, and labels are compared exactly (Pylon documents no case rule); if both name one system, import with --external-id-label "${heldLabel}"`
        : 'Pylon keeps an external id once per contact, whatever its label, so this row would take over another system\'s record; nothing was written';
    return {
      code: 'ROW_EXTERNAL_ID_TAKEN',
      field: 'external_id',
      message: `External id ${id} (label "${label}") is held by contact ${contact.id} under label "${heldLabel}": ${why}`,
    };
  }
  return undefined;
}
