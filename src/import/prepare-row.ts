import type { RecordItem } from '../csv/read.js';
import type { InputItem } from '../input/index.js';
import type { ColumnPlan } from './columns.js';
import { keyOfCells, type DuplicateIndex } from './dedupe.js';
import type { RowIssue } from './desired.js';
import type { ChunkRow } from './dispatch.js';
import type { Journal, JournalOutcome } from './journal.js';
import type { RowRef } from './ledger.js';
import { keyFor } from './lookup.js';
import type { ImportOptions } from './options.js';
import { validateRow, type ValidationContext } from './validate.js';

/** What a row read from the file comes to before any call: an outcome already known, or a row to look up. */
export type PreparedRow =
  | { kind: 'replay'; row: RowRef; previous: JournalOutcome }
  | { kind: 'skip'; row: RowRef; message: string }
  | { kind: 'fail'; row: RowRef; issue: RowIssue }
  | { kind: 'lookup'; row: ChunkRow };

export interface RowPreparation {
  columns: ColumnPlan;
  validation: ValidationContext;
  duplicates: DuplicateIndex;
  journal?: Journal;
  options: Pick<ImportOptions, 'mode' | 'onDuplicate' | 'set'>;
  /** Cells in the file's header (to name the extra cells of a ragged row). */
  headerWidth: number;
}

/**
 * Everything that happens to a row without a call, in order: an outcome an
 * earlier run journaled, a row the map filters out or cannot build, a malformed
 * or undecodable record, validation, the key that finds its contact, and
 * in-file duplicates. Pure but for the duplicate index it feeds.
 */
export function createRowPreparer({ columns, validation, duplicates, journal, options, headerWidth }: RowPreparation): (item: RecordItem & InputItem) => PreparedRow {
  const setCells = Object.values(options.set);
  return (item) => {
    const cells = setCells.length > 0 ? [...item.cells, ...setCells] : item.cells;
    // Reports keep the row as read (a migration's source columns, not the transformed ones).
    const row: RowRef = item.notes ? { line: item.line, cells: item.source ?? item.cells, notes: item.notes } : { line: item.line, cells: item.source ?? item.cells };
    const previous = journal?.previous.get(item.line);
    if (previous) {
      // The duplicate index sees replayed rows too: later rows are judged as in one uninterrupted run.
      const replayedKey = keyOfCells(cells, columns);
      if (replayedKey) duplicates.decide(item.line, replayedKey);
      return { kind: 'replay', row, previous };
    }
    if (item.skip !== undefined) return { kind: 'skip', row, message: item.skip };
    if (item.issue) return { kind: 'fail', row, issue: item.issue };
    if (item.error) {
      const extra = item.cells.length > headerWidth ? `; cells beyond the header: ${JSON.stringify(item.cells.slice(headerWidth))}` : '';
      return { kind: 'fail', row, issue: { code: item.error.code === 'ROW_ENCODING' || item.error.code === 'ROW_XLSX_LOST_DIGITS' ? item.error.code : 'ROW_MALFORMED', message: `${item.error.message} (${item.error.code})${extra}` } };
    }
    const { desired, issues } = validateRow(cells, columns, validation);
    const withEmail = { ...row, email: desired.email };
    if (issues.length > 0) return { kind: 'fail', row: withEmail, issue: { ...issues[0]!, message: issues.map((i) => i.message).join('; ') } };
    const key = keyFor(desired);
    if (!key && options.mode !== 'create') {
      return { kind: 'fail', row, issue: { code: 'ROW_EMAIL_REQUIRED', field: 'email', message: 'An email (or id) is needed to find the contact; this row has neither' } };
    }
    const decision = key ? duplicates.decide(item.line, key) : { keep: true as const };
    if (!decision.keep) {
      const by = desired.id ? 'id' : 'email';
      return { kind: 'fail', row: withEmail, issue: { code: 'ROW_DUPLICATE_IN_FILE', field: by, message: `Duplicate of line ${decision.duplicateOf} (same ${by}; --on-duplicate ${options.onDuplicate})` } };
    }
    return { kind: 'lookup', row: { line: item.line, cells: row.cells, desired, key, ...(row.notes ? { notes: row.notes } : {}) } };
  };
}
