import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { stringify, type Stringifier } from 'csv-stringify';
import { PylonCliError } from '../errors.js';

/** Columns appended to the original ones in the error report. They start with `_`, so the report re-imports as it is. */
export const ERROR_COLUMNS = ['_line', '_error_code', '_error_field', '_error_message', '_http_status', '_request_id'] as const;
export const RESULT_COLUMNS = ['_line', '_action', '_contact_id', 'email', '_request_id'] as const;

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
  changes?: string;
}

/**
 * A CSV file written through csv-stringify into `<path>.partial`, renamed into
 * place by `commit()`. Writes respect backpressure: `write()` resolves when the
 * row has been accepted.
 */
export interface CsvReport<Row> {
  readonly path: string;
  readonly rows: number;
  write(row: Row): Promise<void>;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

function createCsvReport<Row>(path: string, header: string[], toRecord: (row: Row) => string[]): CsvReport<Row> {
  const partial = `${path}.partial`;
  const file = createWriteStream(partial);
  const csv: Stringifier = stringify({ header: true, columns: header });
  csv.pipe(file);
  let failure: Error | undefined;
  const onError = (error: Error) => {
    failure ??= error;
  };
  file.on('error', onError);
  csv.on('error', onError);
  let rows = 0;
  const check = () => {
    if (failure) throw new PylonCliError('OUTPUT_WRITE', `Cannot write ${path}: ${failure.message}`, { cause: failure });
  };
  return {
    path,
    get rows() {
      return rows;
    },
    async write(row) {
      check();
      rows++;
      if (!csv.write(toRecord(row))) await once(csv, 'drain');
    },
    async commit() {
      csv.end();
      await once(file, 'close');
      check();
      renameSync(partial, path);
    },
    async discard() {
      csv.end();
      await once(file, 'close').catch(() => undefined);
      rmSync(partial, { force: true });
    },
  };
}

/** The error report: the input's columns in their order, then the `_` columns. */
export function createErrorReport(path: string, inputHeader: readonly string[]): CsvReport<ErrorRow> {
  const width = inputHeader.length;
  return createCsvReport<ErrorRow>(path, [...inputHeader, ...ERROR_COLUMNS], (row) => {
    const cells = Array.from({ length: width }, (_, i) => row.cells[i] ?? '');
    return [
      ...cells,
      String(row.line),
      row.code,
      row.field ?? '',
      row.message,
      row.status === undefined ? '' : String(row.status),
      row.requestId ?? '',
    ];
  });
}

export function createResultsReport(path: string, withChanges: boolean): CsvReport<ResultRow> {
  const header = [...RESULT_COLUMNS, ...(withChanges ? ['_changes'] : [])];
  return createCsvReport<ResultRow>(path, header, (row) => [
    String(row.line),
    row.action,
    row.contactId ?? '',
    row.email ?? '',
    row.requestId ?? '',
    ...(withChanges ? [row.changes ?? ''] : []),
  ]);
}

/** A plain CSV with a fixed header (the undo file). */
export function createRawCsv(path: string, header: string[]): CsvReport<string[]> {
  return createCsvReport<string[]>(path, header, (row) => row);
}
