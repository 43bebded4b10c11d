import type { RecordItem } from '../csv/read.js';
import type { InputItem } from '../input/index.js';
import type { ColumnPlan } from './columns.js';
import { duplicateKeysOfCells, externalIdOfCells, type DuplicateIndex } from './dedupe.js';
import type { RowIssue } from './desired.js';
import type { ChunkRow } from './dispatch.js';
import type { Journal, JournalOutcome } from '../run/journal.js';
import type { RowRef } from '../run/ledger.js';
import { DEFAULT_EXTERNAL_ID_LABEL, duplicateKeysFor, keyFor, labelledKeyOf } from './lookup-key.js';
import type { ImportOptions } from './options.js';
import { unvalidatedEmail, validateRow, type ValidationContext } from './validate.js';
import type { ReportedDuplicate } from './write-policy.js';

/** What a row read from the file comes to before any call: an outcome already known, or a row to look up. */
export type PreparedRow =
  | { kind: 'replay'; row: RowRef; previous: JournalOutcome; judged: () => FreshRow }
  | { kind: 'skip'; row: RowRef; message: string }
  | { kind: 'fail'; row: RowRef; issue: RowIssue }
  | { kind: 'lookup'; row: ChunkRow };

/** What a row comes to when no earlier run has its outcome. */
export type FreshRow = Exclude<PreparedRow, { kind: 'replay' }>;

export interface RowPreparation {
  columns: ColumnPlan;
  validation: ValidationContext;
  duplicates: DuplicateIndex;
  journal?: Journal;
  options: Pick<ImportOptions, 'mode' | 'onDuplicate' | 'set'> & {
    /** This host was seen to take an external id another contact holds under another label (clears.ts ServerMemory). */
    externalIdsPerLabel?: boolean;
  };
  /** Cells in the file's header as read, not a migration's output columns (to name the extra cells of a ragged row, which is the row as read). */
  headerWidth: number;
  /** Where an error report being imported again keeps its `_error_code`, `_line` and `_error_message` (in the rows as read), if it is one. */
  report?: { code: number; line: number | undefined; message?: number };
}

const MALFORMED_IN_REPORT = 'This row was malformed in the file this error report came from';

/** The `_error_code`, `_line` and `_error_message` columns of an error report (run/report.ts ERROR_COLUMNS), if the header has them. */
export function reportColumnsOf(header: readonly string[]): RowPreparation['report'] {
  const at = (name: string) => {
    const i = header.findIndex((h) => h.trim().toLowerCase() === name);
    return i === -1 ? undefined : i;
  };
  const code = at('_error_code');
  return code === undefined ? undefined : { code, line: at('_line'), message: at('_error_message') };
}

/**
 * What an error report says of a row that failed ROW_DUPLICATE_IN_FILE: its line in the file the report came from, the
 * line of the row it duplicated there and why (`same email`, …), read from its message. A report of such a report keeps
 * the original lines: its message (dispatch.ts) names them, as its `_line` does (report.ts keeps an imported report's `_line`).
 */
export function reportedDuplicateOf(cells: readonly string[], report: NonNullable<RowPreparation['report']>): ReportedDuplicate {
  const line = (report.line === undefined ? '' : cells[report.line]?.trim()) || '?';
  const message = report.message === undefined ? '' : (cells[report.message]?.trim() ?? '');
  const again = /^This row \(line (\S+) of the file this error report came from\) was a duplicate of line (\d+) there(?: \((same [^)]*)\))?/.exec(message);
  if (again) return { line: again[1]!, of: again[2], ...(again[3] ? { same: again[3] } : {}) };
  const first = /^Duplicate of line (\d+) \((same [^;)]*)/.exec(message);
  return first ? { line, of: first[1], same: first[2] } : { line };
}

/**
 * Everything that happens to a row without a call, in order: an outcome an
 * earlier run journaled, a row the map filters out or cannot build, a malformed
 * or undecodable record, validation, the key that finds its contact, and
 * in-file duplicates. Pure but for the duplicate index it feeds.
 */
export function createRowPreparer({ columns, validation, duplicates, journal, options, headerWidth, report }: RowPreparation): (item: RecordItem & InputItem) => PreparedRow {
  const setCells = Object.values(options.set);
  // A read-only view of the duplicate index: a replayed row is judged again without claiming anything twice.
  const peek: DuplicateIndex = {
    decide: (line, key) => duplicates.peek(line, key),
    peek: (line, key) => duplicates.peek(line, key),
    firstLine: (key) => duplicates.firstLine(key),
    claimExternalId: () => undefined,
    firstLineOfExternalId: (externalId) => duplicates.firstLineOfExternalId(externalId),
  };
  return (item) => {
    const cells = setCells.length > 0 ? [...item.cells, ...setCells] : item.cells;
    // Reports keep the row as read (a migration's source columns, not the transformed ones).
    const row: RowRef = item.notes ? { line: item.line, cells: item.source ?? item.cells, notes: item.notes } : { line: item.line, cells: item.source ?? item.cells };
    const previous = journal?.previous.get(item.line);
    if (previous) {
      // The duplicate index sees replayed rows too: later rows are judged as in one uninterrupted run.
      for (const { key } of duplicateKeysOfCells(cells, columns)) duplicates.decide(item.line, key);
      const externalId = externalIdOfCells(cells, columns);
      if (externalId) duplicates.claimExternalId(item.line, externalId);
      // What the row came to in the run that did it (written, or failed as an in-file duplicate…): asked again, recording
      // nothing, when the summary counts by it (the account match counts only rows that were written, as an uninterrupted run does).
      return { kind: 'replay', row, previous, judged: () => fresh(item, cells, row, peek) };
    }
    return fresh(item, cells, row, duplicates);
  };

  function fresh(item: RecordItem & InputItem, cells: readonly string[], row: RowRef, duplicates: DuplicateIndex): FreshRow {
    // A row claims its email and ids among the file's duplicates whether it is imported or fails (a failed row is fixed and imported
    // again from the report, and must not find its contact taken by a later row meanwhile); a row the map leaves out claims nothing.
    // scanDuplicates (the pre-pass of --on-duplicate last|error) counts the same rows.
    const claim = () => {
      for (const { key } of duplicateKeysOfCells(cells, columns)) duplicates.decide(item.line, key);
      const externalId = externalIdOfCells(cells, columns);
      if (externalId) duplicates.claimExternalId(item.line, externalId);
    };
    // A row that is not validated names its email in the reports too, where its email cell can be found: the map reads it
    // from a row as read (`source`); otherwise it is the email column's cell.
    const unvalidated = (): RowRef => {
      const email = item.source ? item.email : columns.indexOf.email === undefined ? undefined : unvalidatedEmail(cells[columns.indexOf.email], item.cells.length === headerWidth);
      return email === undefined ? row : { ...row, email };
    };
    if (item.skip !== undefined) return { kind: 'skip', row: unvalidated(), message: item.skip };
    if (item.issue) {
      // A line repeating the header holds no email or id of a contact (its cells are the column names).
      if (item.issue.code !== 'ROW_REPEATED_HEADER') claim();
      const email = columns.indexOf.email === undefined ? undefined : cells[columns.indexOf.email]?.trim() || undefined;
      return { kind: 'fail', row: email === undefined ? row : { ...row, email }, issue: item.issue };
    }
    if (item.error) {
      // An encoding, lost-digits, uncalculated-formula or field-twice error is about one cell, not the row's width (and a migration's source row is wider than the transformed header).
      const code =
        item.error.code === 'ROW_ENCODING' || item.error.code === 'ROW_XLSX_LOST_DIGITS' || item.error.code === 'ROW_XLSX_FORMULA_NO_VALUE' || item.error.code === 'ROW_FIELD_TWICE' ? item.error.code : 'ROW_MALFORMED';
      const extra = code === 'ROW_MALFORMED' && item.cells.length > headerWidth ? `; cells beyond the header: ${JSON.stringify(item.cells.slice(headerWidth))}` : '';
      // The reader's code is named when it is not the row's own (ROW_MALFORMED covers several); the results file already starts with the row's.
      const reader = item.error.code === code ? '' : ` (${item.error.code})`;
      const field = item.error.field === undefined ? {} : { field: item.error.field };
      return { kind: 'fail', row: unvalidated(), issue: { code, ...field, message: `${item.error.message}${reader}${extra}` } };
    }
    // A row an error report says was malformed, imported again from that report: the report kept only the cells under the
    // header (the extra ones are in its message) and the others may sit under the wrong columns, so it fails again until
    // someone has looked at it and emptied its _error_code cell, as a reported duplicate does.
    if (report && row.cells[report.code]?.trim() === 'ROW_MALFORMED') {
      const line = (report.line === undefined ? '' : row.cells[report.line]?.trim()) || '?';
      const earlier = report.message === undefined ? '' : (row.cells[report.message]?.trim() ?? '');
      // A report of a report keeps the first message: it names the original line and the cells that were dropped.
      const message = earlier.startsWith(MALFORMED_IN_REPORT)
        ? earlier
        : `${MALFORMED_IN_REPORT} (line ${line}${earlier ? `: ${earlier}` : ''}). The report kept only the cells under the header, so cells may be missing or under the wrong columns: check the row against that line, fix its cells, then empty its _error_code cell and import the report again`;
      return { kind: 'fail', row: unvalidated(), issue: { code: 'ROW_MALFORMED', message } };
    }
    const { desired, issues } = validateRow(cells, columns, validation);
    // A plain file's external_id without a label of its own (no external_id_label column, or an empty cell) takes
    // --external-id-label's (ColumnPlan): the flag was silently ignored, and the id went under `import`.
    if (desired.external_id && !desired.external_id_label && columns.defaultExternalIdLabel) desired.external_id_label = columns.defaultExternalIdLabel;
    // A number the migration dropped may be one the contact holds (the source's number, mangled on the way): not removed for it.
    if (item.phonesDropped && desired.phone_numbers) desired.phones_incomplete = true;
    const withEmail = { ...row, email: desired.email };
    if (issues.length > 0) {
      claim();
      return { kind: 'fail', row: withEmail, issue: { ...issues[0]!, message: issues.map((i) => i.message).join('; ') } };
    }
    // An import keyed by external id: a row without one would be matched by email alone (issue 18).
    if (columns.indexOf.external_id !== undefined && !desired.external_id && !desired.id) {
      claim();
      const label = cells[columns.indexOf.external_id_label ?? -1]?.trim() || columns.defaultExternalIdLabel || DEFAULT_EXTERNAL_ID_LABEL;
      return {
        kind: 'fail',
        row: withEmail,
        issue: { code: 'ROW_EXTERNAL_ID_MISSING', field: 'external_id', message: `No external id (${label}) in this row: rows of this import are matched by their source id, and without one the row could take over another record by its email alone; fill it in, or (records the source gives no id, such as Intercom leads) import such rows with --mode create and a copy of the preset without "externalId", which creates new contacts and never changes an existing one` },
      };
    }
    const key = keyFor(desired);
    if (!key && options.mode !== 'create') {
      claim();
      return { kind: 'fail', row, issue: { code: 'ROW_EMAIL_REQUIRED', field: 'email', message: 'An email (or id) is needed to find the contact; this row has neither' } };
    }
    // One email, one row: a row is a duplicate when its id, its email (or a secondary one) or its (label, external id) is another row's.
    // Every key of the row is given to the index, even after one made it a duplicate: which later rows are duplicates
    // must not depend on the order of a row's keys, and must be the same in a resumed run (replayed rows give all theirs).
    let duplicate: { duplicateOf: number; by: string } | undefined;
    for (const { key: duplicateKey, by } of duplicateKeysFor(desired)) {
      const decision = duplicates.decide(item.line, duplicateKey);
      if (!decision.keep && !duplicate) duplicate = { duplicateOf: decision.duplicateOf, by };
    }
    if (desired.external_id) duplicates.claimExternalId(item.line, desired.external_id);
    if (duplicate) {
      const { duplicateOf, by } = duplicate;
      const field = by === 'external id' ? 'external_id' : by === 'secondary email' ? 'emails' : by;
      // A secondary email finds a contact as the email does: one email, one row, whichever column holds it in either row.
      const same = by === 'secondary email' ? 'email: one of its secondary emails is an email of that row' : by;
      return { kind: 'fail', row: withEmail, issue: { code: 'ROW_DUPLICATE_IN_FILE', field, message: `Duplicate of line ${duplicateOf} (same ${same}; --on-duplicate ${options.onDuplicate})` } };
    }
    // Pylon keeps an external id once per contact, whatever its label: of two rows carrying one id under two labels, the
    // first row's contact takes it and the other's write is refused (the server answers only once the first is in, so the
    // outcome would hang on the order the writes land). Decided here, before any call: the dry run counts what the real run
    // does. A host seen to keep ids per label takes both.
    // A row naming its contact by Pylon id keys no (label, id) pair among the duplicates: it is left to the server.
    const idFirst = desired.external_id && !desired.id && !options.externalIdsPerLabel ? duplicates.firstLineOfExternalId(desired.external_id) : undefined;
    if (idFirst !== undefined && idFirst !== item.line && idFirst !== duplicates.firstLine(labelledKeyOf(desired)!)) {
      const label = desired.external_id_label || DEFAULT_EXTERNAL_ID_LABEL;
      return {
        kind: 'fail',
        row: withEmail,
        issue: {
          code: 'ROW_EXTERNAL_ID_TAKEN',
          field: 'external_id',
          message: `External id ${desired.external_id} (label "${label}") is also line ${idFirst}'s, under another label: Pylon keeps an external id once per contact, whatever its label, so line ${idFirst}'s contact takes it and this row would be refused; nothing was sent. If the two labels name one system, spell them the same (labels are compared exactly); if they are two systems' records, import this row without its external id or with another one`,
        },
      };
    }
    const reportedDuplicate = report && row.cells[report.code]?.trim() === 'ROW_DUPLICATE_IN_FILE' ? reportedDuplicateOf(row.cells, report) : undefined;
    return { kind: 'lookup', row: { line: item.line, cells: row.cells, desired, key, ...(row.notes ? { notes: row.notes } : {}), ...(reportedDuplicate ? { reportedDuplicate } : {}) } };
  }
}
