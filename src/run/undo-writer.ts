import { openCsvFile, type CsvFile } from '../output/csv-file.js';
import type { FieldChange } from '../import/plan.js';
import { UNDO_CLEAR_TOKEN, undoable, undoCells, undoColumns } from '../update/undo-rows.js';

/** Marks, in an undo file, a field that was empty before the run: applying the file clears it again. */
export { UNDO_CLEAR_TOKEN };

/**
 * The undo file: one row per changed contact with the values it had before, in a form `update` applies directly.
 * [ops: issue 12] The row format, with the `_set.<field>` columns conditional undo reads, is update/undo-rows.ts
 * (shared with `apply`).
 */
export interface UndoWriter {
  write(contact: { id: string; email?: string | null }, changes: readonly FieldChange[]): Promise<void>;
  /** Contacts whose external id change was recorded without its label (an older version's journal): their rows leave it out (it stays), and the summary says so. */
  readonly externalIdsAdded: number;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

/**
 * `skipEmpty`: a run that changed no contact leaves no undo file (only a header would be in it). `changedColumns`:
 * `fieldColumns` are the columns the run changes, found by id (apply), so an `email` among them is a change.
 */
export async function createUndoWriter(path: string, fieldColumns: readonly string[], organizationId?: string, options: { skipEmpty?: boolean; changedColumns?: boolean } = {}): Promise<UndoWriter> {
  const columns = undoColumns(fieldColumns, organizationId, options.changedColumns);
  const file: CsvFile<string[]> = await openCsvFile<string[]>(path, columns, (cells) => cells, { keepPartialOnFailure: true, skipEmpty: options.skipEmpty });
  let externalIdsAdded = 0;
  return {
    write(contact, changes) {
      if (changes.some((c) => !undoable(c))) externalIdsAdded++;
      return file.write(undoCells(columns, contact.id, contact.email, changes, organizationId));
    },
    get externalIdsAdded() {
      return externalIdsAdded;
    },
    commit: () => file.commit(),
    discard: () => file.discard(),
  };
}
