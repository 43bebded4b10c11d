import { stringify } from 'csv-stringify/sync';
import { lstatSync, rmSync } from 'node:fs';
import { openOutput, type OpenOutputOptions, type OutputFile } from './output-file.js';

/**
 * A CSV output with a fixed header, written through `openOutput()` (temporary
 * sibling, renamed on commit). Each row is encoded by csv-stringify and written
 * with backpressure; a write failure rejects the write that meets it.
 */
export interface CsvFile<Row> {
  readonly path: string;
  readonly rows: number;
  write(row: Row): Promise<void>;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

export interface CsvFileOptions extends OpenOutputOptions {
  /**
   * A file with no row is not written: `commit()` discards it, and removes the
   * regular file an earlier run left at this path (which the commit would have
   * replaced), so the path never shows a report of another run.
   */
  skipEmpty?: boolean;
  /**
   * Starts the file with a UTF-8 byte-order mark: Excel (Windows and Mac) then reads it as UTF-8 rather
   * than as the system's code page, and our reader lets a BOM win over `--encoding`, so a report
   * imported again with the input's `--encoding windows-1252` is still read as the UTF-8 it is.
   */
  bom?: boolean;
}

export async function openCsvFile<Row>(path: string, header: readonly string[], toRecord: (row: Row) => readonly string[], options: CsvFileOptions = {}): Promise<CsvFile<Row>> {
  const file: OutputFile = await openOutput(path, options);
  let rows = 0;
  try {
    await file.write((options.bom ? '\ufeff' : '') + stringify([header as string[]]));
  } catch (error) {
    await file.discard();
    throw error;
  }
  return {
    path,
    get rows() {
      return rows;
    },
    async write(row) {
      rows++;
      await file.write(stringify([toRecord(row) as string[]]));
    },
    async commit() {
      if (rows > 0 || !options.skipEmpty) return file.commit();
      await file.discard();
      if (lstatSync(path, { throwIfNoEntry: false })?.isFile()) rmSync(path, { force: true });
    },
    discard: () => file.discard(),
  };
}
