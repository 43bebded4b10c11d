import { extname } from 'node:path';
import { createRecordSource, type CsvLayout, type RecordItem, type RecordSource } from '../csv/read.js';
import { invalidOption } from '../errors.js';
import type { RowIssue } from '../import/desired.js';
import type { CompiledTransform } from '../import/transform.js';
import { createJsonSource } from './json.js';
import { createXlsxSource, type WorkbookMemo } from './xlsx.js';

/**
 * The import's input in any format (CSV, XLSX, JSON array, NDJSON) as one kind
 * of record source, optionally passed through a transforming map. With a
 * transform, `header()` is the Pylon columns the map produces and each item's
 * `cells` are those columns; `source` keeps the row as read (for the error
 * report), and a row the map filters out or cannot build comes with `skip` or
 * `issue`. The rest of the import is the same for every format.
 */

export type InputFormat = 'csv' | 'xlsx' | 'json';
export const INPUT_FORMATS = ['auto', 'csv', 'xlsx', 'json', 'ndjson'] as const;

export interface InputItem extends RecordItem {
  /** The row as read, when `cells` are the transformed ones. */
  source?: string[];
  /** The map's filter left this row out: an outcome of `skipped`, with this reason. */
  skip?: string;
  /** The map could not build this row: a failed row. */
  issue?: RowIssue;
  /** The email of a row the map did not build (skipped, or failed by the reader), as the map reads it: for the reports. */
  email?: string;
  /** What the map left out of this row (a dropped phone number…): shown in its `_message`. */
  notes?: string[];
  /** How many of the row's phone numbers the map dropped (`--on-bad-phone drop`). */
  phonesDropped?: number;
}

export interface InputSource extends RecordSource {
  /** The header as read from the file (the same as `header()` without a transform). */
  sourceHeader(): Promise<string[]>;
  [Symbol.asyncIterator](): AsyncIterator<InputItem>;
}

export interface InputSourceOptions {
  input: string;
  /** What messages call the input (default: the path): `stdin` for a copy of standard input, never the copy's path. */
  name?: string;
  format?: string;
  sheet?: string;
  delimiter?: string;
  encoding?: string;
  /** The run's parsed workbooks (XLSX): every pass shares one parse. */
  memo?: WorkbookMemo;
  /**
   * Compiles the transform once the source header is known (the same for every pass over the file).
   * Called when the pass opens; `undefined` passes the rows through as read (a run that reads its
   * header before it knows whether a migration applies opens one pass either way), but for a line
   * repeating the header, which fails (`ROW_REPEATED_HEADER`) with or without a transform.
   */
  transform?: (sourceHeader: string[]) => CompiledTransform | undefined;
}

/** The format from `--format` or the file's extension (`.xlsx`, `.json`, `.ndjson`/`.jsonl`; anything else is CSV). */
export function resolveFormat(input: string, format: string | undefined): InputFormat {
  if (format !== undefined && format !== 'auto') {
    if (!(INPUT_FORMATS as readonly string[]).includes(format)) throw invalidOption('--format', `one of ${INPUT_FORMATS.join(', ')}`, format);
    return format === 'ndjson' ? 'json' : (format as InputFormat);
  }
  const ext = extname(input.replace(/\.gz$/i, '')).toLowerCase();
  if (ext === '.xlsx' || ext === '.xlsm') return 'xlsx';
  if (ext === '.json' || ext === '.ndjson' || ext === '.jsonl') return 'json';
  return 'csv';
}

function withEmail(item: InputItem, email: string | undefined): InputItem {
  return email === undefined ? item : { ...item, email };
}

/**
 * Whether a record repeats the header (two exports joined into one file): every
 * cell equal to its column's name, ignoring case and surrounding spaces. Such a
 * line is no contact; read as one it failed on its "Email" email and its
 * "Phone" number, and a migration counted (or created) an account for its
 * "Company name".
 */
function repeatsHeader(cells: readonly string[], header: readonly string[]): boolean {
  if (cells.length !== header.length) return false;
  const same = (a: string, b: string) => a.trim().normalize('NFC').toLowerCase() === b.trim().normalize('NFC').toLowerCase();
  return cells.every((c, i) => same(c, header[i]!)) && cells.some((c) => c.trim() !== '');
}

function repeatedHeaderItem(item: RecordItem): InputItem {
  // No cells: the line claims no email or id among the file's duplicates, and `source` keeps it as read for the error report.
  return {
    line: item.line,
    cells: [],
    source: item.cells,
    issue: { code: 'ROW_REPEATED_HEADER', message: 'This line repeats the header: two files joined? It is not a contact; remove it from the file' },
  };
}

export function createInputSource(options: InputSourceOptions): InputSource {
  const format = resolveFormat(options.input, options.format);
  const base: RecordSource =
    format === 'xlsx'
      ? createXlsxSource({ input: options.input, name: options.name, sheet: options.sheet, memo: options.memo })
      : format === 'json'
        ? createJsonSource({ input: options.input, name: options.name, encoding: options.encoding })
        : createRecordSource({ input: options.input, name: options.name, delimiter: options.delimiter, encoding: options.encoding });
  let compiled: CompiledTransform | undefined;
  let sourceHeader: string[] = [];
  let opening: Promise<CsvLayout> | undefined;
  const open = () =>
    (opening ??= base.open().then((layout) => {
      sourceHeader = layout.header;
      compiled = options.transform?.(layout.header);
      return compiled ? { ...layout, header: compiled.header } : layout;
    }));
  async function* iterate(): AsyncGenerator<InputItem> {
    await open();
    const t = compiled;
    let footerLines = 0;
    /** Row notes (a phone number dropped, …) listed among the warnings, and those past the list's cap. */
    let listed = 0;
    let unlisted = 0;
    for await (const item of base) {
      if (t?.isFooter(item.cells)) {
        footerLines++;
        continue;
      }
      if (!item.error && repeatsHeader(item.cells, sourceHeader)) {
        yield repeatedHeaderItem(item);
        continue;
      }
      if (!t) {
        yield item;
        continue;
      }
      if (item.error) {
        // `source` says the cells are the row as read (not the map's columns), whose email only the map can find.
        yield withEmail({ ...item, source: item.cells }, t.emailOf(item.cells));
        continue;
      }
      const out = t.apply(item.cells);
      if (out.kind === 'skip') yield withEmail({ line: item.line, cells: [], source: item.cells, skip: out.reason }, t.emailOf(item.cells));
      // A failed row's cells are what it came to: they name the email and id it claims among the file's duplicates.
      else if (out.kind === 'fail') yield { line: item.line, cells: out.cells, source: item.cells, issue: out.issue };
      else {
        for (const note of out.notes) {
          if (source.warnings.length < 200) {
            source.warnings.push(`line ${item.line}: ${note}`);
            listed++;
          } else unlisted++;
        }
        const row: InputItem = { line: item.line, cells: out.cells, source: item.cells };
        if (out.notes.length > 0) row.notes = out.notes;
        if (out.phonesDropped > 0) row.phonesDropped = out.phonesDropped;
        yield row;
      }
    }
    // The list stops at 200 warnings; the ones past it are counted, so a long list is not taken for the whole.
    if (unlisted > 0) base.warnings.push(`… and ${unlisted} more row warning${unlisted === 1 ? '' : 's'} like these (${listed + unlisted} in all), not listed here: each row's _message in --results says what was changed in it`);
    if (footerLines > 0) base.warnings.push(`${footerLines} report footer line${footerLines === 1 ? '' : 's'} (totals, copyright) left out: they are not rows`);
  }
  const source: InputSource = {
    open,
    header: async () => (await open()).header,
    sourceHeader: () => base.header(),
    get warnings() {
      return base.warnings;
    },
    get bytesRead() {
      return base.bytesRead;
    },
    get blankRecords() {
      return base.blankRecords;
    },
    close: () => base.close(),
    [Symbol.asyncIterator]: iterate,
  };
  return source;
}
