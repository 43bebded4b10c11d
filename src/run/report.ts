import { openCsvFile, type CsvFile } from '../output/csv-file.js';

/** Columns appended to the original ones in the error report. They start with `_`, so the report re-imports as it is. */
export const ERROR_COLUMNS = ['_line', '_error_code', '_error_field', '_error_message', '_http_status', '_request_id'] as const;
/** `_message`: why a row was skipped or failed (a skip's reason, a filter's reason, the error), and what a migration left out of it. */
export const RESULT_COLUMNS = ['_line', '_action', '_contact_id', 'email', '_request_id', '_message'] as const;

export interface ErrorRow {
  line: number;
  cells: readonly string[];
  code: string;
  field?: string;
  message: string;
  status?: number;
  requestId?: string;
}

export interface ResultRow {
  line: number;
  action: string;
  contactId?: string;
  email?: string;
  requestId?: string;
  /** Why the row was skipped or failed, and what the migration left out of it. */
  message?: string;
  changes?: string;
}

export type CsvReport<Row> = CsvFile<Row>;

/**
 * The error report: the input's columns in their order, then the `_` columns. An input that is itself
 * an error report already has `_line`, `_error_code`…: those are this run's to write, so the old ones
 * are left out rather than repeated; its `_line` is kept as the row's `_line` (the line in the original file).
 */
export function createErrorReport(path: string, inputHeader: readonly string[]): Promise<CsvReport<ErrorRow>> {
  const ours = new Set<string>(ERROR_COLUMNS);
  const kept = inputHeader.flatMap((name, index) => (ours.has(name.trim().toLowerCase()) ? [] : [index]));
  // A report imported again keeps its `_line`, the row's line in the original file, through every round of fix and re-import.
  const named = (name: string) => inputHeader.findIndex((h) => h.trim().toLowerCase() === name);
  const originalLine = named('_error_code') === -1 ? -1 : named('_line');
  return openCsvFile<ErrorRow>(path, [...kept.map((i) => inputHeader[i]!), ...ERROR_COLUMNS], (row) => {
    const cells = kept.map((i) => row.cells[i] ?? '');
    return [
      ...cells,
      (originalLine === -1 ? '' : row.cells[originalLine]?.trim()) || String(row.line),
      row.code,
      row.field ?? '',
      row.message,
      row.status === undefined ? '' : String(row.status),
      row.requestId ?? '',
    ];
  }, { skipEmpty: true }); // a run with nothing to report leaves no error report
}

export function createResultsReport(path: string, withChanges: boolean): Promise<CsvReport<ResultRow>> {
  const header = [...RESULT_COLUMNS, ...(withChanges ? ['_changes'] : [])];
  return openCsvFile<ResultRow>(path, header, (row) => [
    String(row.line),
    row.action,
    row.contactId ?? '',
    row.email ?? '',
    row.requestId ?? '',
    row.message ?? '',
    ...(withChanges ? [row.changes ?? ''] : []),
  ]);
}
