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
  }, { skipEmpty: true, bom: true }); // a run with nothing to report leaves no error report; the BOM: see CsvFileOptions
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
  ]); // no BOM: the results are for scripts (Python's csv module would keep it in the first column's name), never imported again
}

/**
 * Rows a results file or an error report holds back to put them in line order: rows end out of order
 * when writes run side by side (a slow answer finishes after later rows), and a row is written once
 * this many rows of that file came after it. Bounded, so a million-row file is never held: a row later
 * than this many others (an uncertain create looked up again at the end of the run) is written where it ends.
 */
export const REORDER_WINDOW = 10_000;

/**
 * The report, written in `_line` order: each row waits in a heap (by line, then arrival) until
 * `window` rows wait, then the earliest is written; `commit()` writes the rest in order first.
 */
export function inLineOrder<Row extends { line: number }>(report: CsvReport<Row>, window = REORDER_WINDOW): CsvReport<Row> {
  const heap: Array<{ row: Row; seq: number }> = [];
  let seq = 0;
  const before = (a: { row: Row; seq: number }, b: { row: Row; seq: number }) => a.row.line < b.row.line || (a.row.line === b.row.line && a.seq < b.seq);
  const push = (item: { row: Row; seq: number }) => {
    let i = heap.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const pop = (): Row => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < heap.length && before(heap[l]!, heap[min]!)) min = l;
        if (r < heap.length && before(heap[r]!, heap[min]!)) min = r;
        if (min === i) break;
        [heap[i], heap[min]] = [heap[min]!, heap[i]!];
        i = min;
      }
    }
    return top.row;
  };
  return {
    path: report.path,
    // Rows held back count as written: the ledger and the summary count a row once its outcome is reported.
    get rows() {
      return report.rows + heap.length;
    },
    async write(row) {
      push({ row, seq: seq++ });
      if (heap.length > window) await report.write(pop());
    },
    async commit() {
      while (heap.length > 0) await report.write(pop());
      await report.commit();
    },
    discard: () => {
      heap.length = 0;
      return report.discard();
    },
  };
}
