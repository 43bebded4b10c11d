/**
 * The rows of an undo file: one per changed contact, `id`, `email`, each changed
 * field's previous value (a value that was empty as UNDO_CLEAR_TOKEN), and for each
 * field `_set.<field>`: the value the run set. `_…` columns are ignored by the
 * import, so `update <undo file>` reads the file as before; `update` sees the
 * `_set.` columns and reverts conditionally: a field only where it still holds
 * the value the run set (`ROW_DRIFTED` otherwise, unless `--force`).
 *
 * One format for the undo files of `import`, `update` and `apply`.
 */
import type { FieldChange } from '../import/plan.js';
import { sameEmail } from '../import/clears.js';
import type { PlannedContact } from './plan-file.js';
import { createTokenizer } from '../csv/tokenize.js';
import { ConfigError } from '../errors.js';

export const UNDO_CLEAR_TOKEN = '#N/A';
export const SET_PREFIX = '_set.';
/** `_held.email`: the address the run made the primary, which the contact held before as a secondary one: the undo keeps it. */
export const HELD_EMAIL_COLUMN = '_held.email';
/** The organisation (`GET /me`) whose contacts the row holds: `update <undo file>` refuses a file of another one. */
export const ORGANIZATION_COLUMN = '_organization';

/**
 * Columns the undo file does not restore as fields: the id identifies the contact, the email is the
 * row's second column (restored when the run changed it), and the email list is no column Pylon
 * returns. An external id the run replaced is restored (PATCH sets `external_ids`), and one it added to a
 * contact that had none under the label is taken off again (the cell is the clear token, docs/import.md "Undo").
 */
const NOT_RESTORED = new Set(['id', 'email', 'emails']);
/** Columns whose cell goes with another's and is no change of its own: the label of the external id. */
const NOT_CHECKED = new Set(['external_id_label']);
/** Columns that set the account some other way: the undo row restores the account by its id (`account_id`). */
const ACCOUNT_SOURCES = new Set(['account_external_id', 'account_id_if_unset']);

/** `changedColumns`: `fieldColumns` are the columns the run changed (an undo file rebuilt from the journal), so an `email` among them changed. */
export function undoColumns(fieldColumns: readonly string[], organizationId?: string, changedColumns = false): string[] {
  const fields = [...new Set(fieldColumns.map((c) => (ACCOUNT_SOURCES.has(c) ? 'account_id' : c)).filter((c) => !NOT_RESTORED.has(c)))];
  // The email is a field the run can change only when a contact is matched by something other than its
  // email: by id, by external id, or by one of the row's secondary emails (the row's email becomes the primary one).
  const emailChanges = fieldColumns.includes('email') && (changedColumns || ['id', 'external_id', 'emails'].some((c) => fieldColumns.includes(c)));
  const setColumns = [...(emailChanges ? ['email'] : []), ...fields.filter((c) => !NOT_CHECKED.has(c))].map((c) => SET_PREFIX + c);
  return ['id', 'email', ...fields, ...setColumns, ...(emailChanges ? [HELD_EMAIL_COLUMN] : []), ...(organizationId ? [ORGANIZATION_COLUMN] : [])];
}

/**
 * Whether an undo row can put this change back: not an external id recorded without its label (the row
 * could not say which of the contact's ids to put back or take off).
 */
export function undoable(change: FieldChange): boolean {
  return change.column !== 'external_id' || change.label !== undefined;
}

/** The cells of one contact's undo row (a change `undoable` refuses is left out). */
export function undoCells(columns: readonly string[], contactId: string, email: string | null | undefined, changes: readonly FieldChange[], organizationId?: string): string[] {
  const cells = columns.map(() => '');
  const org = columns.indexOf(ORGANIZATION_COLUMN);
  if (org >= 0 && organizationId) cells[org] = organizationId;
  cells[0] = contactId;
  cells[1] = email ?? '';
  for (const raw of changes) {
    // An account set by its external id is restored by the account id it replaced, and checked against the one it set.
    // (`from` is the old account's external id: never an account id, so without the ids there is nothing to restore.)
    if (raw.column === 'account_external_id' && !raw.accountId) continue;
    if (!undoable(raw)) continue;
    // The previous external id goes back under the label it was held under.
    const label = raw.column === 'external_id' ? columns.indexOf('external_id_label') : -1;
    if (label >= 0) cells[label] = raw.label!;
    const change = raw.column === 'account_external_id' ? { column: 'account_id', ...raw.accountId! } : raw;
    const i = columns.indexOf(change.column);
    if (i > 1) cells[i] = change.from === '' ? UNDO_CLEAR_TOKEN : change.from;
    // A contact that had no address: the clear token, so that the undo says it cannot take the address off (ROW_CANNOT_CLEAR) rather than skip it.
    if (change.column === 'email') cells[1] = change.from === '' ? UNDO_CLEAR_TOKEN : change.from;
    // An account id set that is not known (`to` empty) is left unchecked.
    const s = raw.column === 'account_external_id' && change.to === '' ? -1 : columns.indexOf(SET_PREFIX + change.column);
    if (s >= 0) cells[s] = change.to === '' ? UNDO_CLEAR_TOKEN : change.to;
    const held = change.column === 'email' && raw.held ? columns.indexOf(HELD_EMAIL_COLUMN) : -1;
    if (held >= 0) cells[held] = raw.held!;
  }
  return cells;
}

/** Whether a CSV header is that of an undo file that records the values set (conditional undo). */
export function isConditionalUndo(header: readonly string[]): boolean {
  return header.includes('id') && header.some((h) => h.startsWith(SET_PREFIX));
}

/**
 * One undo row as a planned change: each restored field goes from the value the
 * run set (`from`) back to the previous one (`to`). A field with no recorded
 * value set is reverted without the check (`unchecked`).
 */
export function plannedFromUndoRow(header: readonly string[], cells: readonly string[]): PlannedContact | undefined {
  const cell = (name: string) => {
    const i = header.indexOf(name);
    return i < 0 ? '' : (cells[i] ?? '');
  };
  const id = cell('id').trim();
  if (!id) return undefined;
  const changes: PlannedContact['changes'] = [];
  for (const column of header) {
    if (column === 'id' || column.startsWith('_')) continue;
    if (column === 'email' && cell(SET_PREFIX + 'email') === '') continue; // email is there to read; restored only when the run changed it
    const previous = cell(column);
    if (previous === '') continue;
    const set = cell(SET_PREFIX + column);
    const to = previous === UNDO_CLEAR_TOKEN ? '' : previous;
    if (set === '') changes.push({ column, from: '', to, unchecked: true });
    else if (column === 'email' && cell(HELD_EMAIL_COLUMN) !== '' && sameEmail(cell(HELD_EMAIL_COLUMN), set)) changes.push({ column, from: set, to, held: cell(HELD_EMAIL_COLUMN) });
    else changes.push({ column, from: set === UNDO_CLEAR_TOKEN ? '' : set, to });
  }
  return { id, email: (cell('email') !== UNDO_CLEAR_TOKEN && cell('email')) || undefined, changes };
}

/**
 * The header and rows of an undo file's text, each row with the physical line it
 * starts on (the header is line 1, a value's quoted line breaks count), the line
 * numbers the reports of `update` and `import` use; records of blank cells are left
 * out, as the import's reader leaves them out. A malformed row stops the run
 * before anything is sent: read wrongly, it would revert the wrong values.
 */
export function readUndoRows(text: string, name: string): { header: string[]; rows: Array<{ line: number; cells: string[] }> } {
  const tokenizer = createTokenizer({ delimiter: ',' });
  const [header, ...rows] = [...tokenizer.push(text.replace(/^\uFEFF/, '')), ...tokenizer.end()];
  const bad = [header, ...rows].find((r) => r?.error);
  if (bad) throw new ConfigError('CSV_MALFORMED', `${name}, line ${bad.line}: ${bad.error!.message}. Nothing was changed: fix that line and run again.`, { option: '<file>' });
  // A record of blank cells (`,,,` rows a spreadsheet leaves at the end) is no row, as in the import's reader.
  const data = rows.filter(({ cells }) => cells.some((cell) => cell.trim() !== ''));
  return { header: header?.cells ?? [], rows: data.map(({ line, cells }) => ({ line, cells })) };
}
