import { openCsvFile, type CsvFile } from '../output/csv-file.js';
import type { FieldChange } from './plan.js';

/** Marks, in an undo file, a field that was empty before the run: applying the file clears it again. */
export const UNDO_CLEAR_TOKEN = '#N/A';

/** The undo file: one row per changed contact with the values it had before, in a form `update` applies directly. */
export interface UndoWriter {
  write(contact: { id: string; email?: string | null }, changes: readonly FieldChange[]): Promise<void>;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

/** Fields an undo file cannot restore through `update`: the email is its key, and an account is restored by id. */
const NOT_RESTORED = new Set(['id', 'email', 'emails', 'account_external_id']);

export async function createUndoWriter(path: string, fieldColumns: readonly string[]): Promise<UndoWriter> {
  const columns = ['id', 'email', ...fieldColumns.filter((c) => !NOT_RESTORED.has(c))];
  const file: CsvFile<string[]> = await openCsvFile<string[]>(path, columns, (cells) => cells);
  return {
    async write(contact, changes) {
      const cells = columns.map(() => '');
      cells[0] = contact.id;
      cells[1] = contact.email ?? '';
      for (const change of changes) {
        const i = columns.indexOf(change.column === 'account_external_id' ? 'account_id' : change.column);
        if (i > 1) cells[i] = change.from === '' ? UNDO_CLEAR_TOKEN : change.from;
        if (change.column === 'email') cells[1] = change.from;
      }
      await file.write(cells);
    },
    commit: () => file.commit(),
    discard: () => file.discard(),
  };
}
