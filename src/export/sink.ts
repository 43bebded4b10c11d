import { createHash } from 'node:crypto';
import { Transform, Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { PylonCliError } from '../errors.js';
import { killPoint, publishTogether, type OutputFile, type PublishedSet } from '../output/output-file.js';
import type { PublishJournal } from '../output/publish-journal.js';
import type { ParquetEncoder } from './parquet.js';
import type { ExportRecord } from './record.js';
import type { TypedColumn, TypedRow } from './schema.js';

export type ExportFormat = 'csv' | 'ndjson' | 'parquet';

export interface FormatOptions {
  format: ExportFormat;
  /** Column headers, in order (the CSV header line). */
  header: readonly string[];
  bom: boolean;
  excelSafe: boolean;
  /** Parquet: the typed columns. Typed NDJSON passes its rows as ready JSON lines instead. */
  typed?: readonly TypedColumn[];
  /** Parquet: the encoder (parquet.ts, loaded only for Parquet output). */
  parquet?: ParquetEncoder;
}

/** Turns rows into text a page at a time: one string per page keeps the stream machinery out of the per-row cost. */
export interface PageEncoder {
  /** What the file starts with: the BOM and header line for CSV (so an empty export still has its header); nothing for NDJSON; Parquet's magic. */
  start(): string | Uint8Array;
  /**
   * CSV takes arrays of cells (csv-stringify, RFC 4180 quoting); NDJSON takes
   * objects, or ready JSON lines (typed); Parquet takes typed rows and returns
   * bytes only when a row group is complete, as the row group's pieces in file
   * order (not copied into one array).
   */
  page(rows: ReadonlyArray<EncoderRow>): EncodedChunk;
  /** What the file ends with: Parquet's last row group and footer; nothing for text. */
  end(): EncodedChunk;
}

/** Text, bytes, or pieces of bytes to write one after the other (Parquet's may be read as they are taken). */
export type EncodedChunk = string | Uint8Array | Iterable<string | Uint8Array>;

export type EncoderRow = string[] | Record<string, unknown> | string | TypedRow;

export function createPageEncoder(options: FormatOptions): PageEncoder {
  if (options.format === 'parquet') {
    const parquet = options.parquet;
    if (!parquet) throw new Error('a Parquet export needs its encoder (createParquetEncoder)');
    return { start: () => parquet.start(), page: (rows) => parquet.pageParts(rows as TypedRow[]), end: () => parquet.endParts() };
  }
  if (options.format === 'ndjson') {
    return {
      start: () => '',
      page: (rows) => (rows.length === 0 ? '' : rows.map((row) => (typeof row === 'string' ? row : JSON.stringify(row))).join('\n') + '\n'),
      end: () => '',
    };
  }
  return {
    start: () => (options.bom ? '\ufeff' : '') + stringify([[...options.header]]),
    page: (rows) => csvPieces(rows as string[][], options.excelSafe),
    end: () => '',
  };
}

/** A cell csv-stringify quotes: it holds the delimiter, the quote or a line break. */
const CSV_QUOTED = /[",\n\r]/;
/** The first characters csv-stringify's `escape_formulas` prefixes with `'` in a string cell (ASCII and full-width = + - @, tab, CR). */
const CSV_FORMULA = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * A page of rows as csv-stringify writes them with its defaults (`,`, `"`
 * doubled inside quotes, `\n` after each record) and `escape_formulas`, byte
 * for byte: test/export/csv-page.test.ts holds the two side by side. Written
 * here because csv-stringify's per-field option handling was a seventh of a
 * CSV export's CPU; a row with a cell that is not a string still goes through
 * csv-stringify.
 */
export function csvPage(rows: readonly (readonly string[])[], excelSafe: boolean): string {
  return csvPieces(rows, excelSafe).join('');
}

/** Rows per piece of csvPieces: a piece of a few kilobytes is a short-lived young object, where a whole page's text (~200 KB) is a large object only a full collection frees. */
const CSV_PIECE_ROWS = 64;

/**
 * csvPage's text in pieces of CSV_PIECE_ROWS lines, each ending with its line
 * break (none for no rows): what the export writes. Each line is one `join`
 * of its cells and each piece one `join` of its lines, so the text comes out
 * flat (`+=` left a rope of thousands of parts that the stream flattened
 * again to turn it into bytes); empty cells, most of a contact's custom
 * fields, skip the tests.
 */
export function csvPieces(rows: readonly (readonly string[])[], excelSafe: boolean): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < rows.length; start += CSV_PIECE_ROWS) {
    const end = Math.min(start + CSV_PIECE_ROWS, rows.length);
    const lines: string[] = new Array(end - start + 1);
    for (let r = start; r < end; r += 1) lines[r - start] = csvLine(rows[r]!, excelSafe);
    // The last element makes join end the piece with a line break.
    lines[end - start] = '';
    pieces.push(lines.join('\n'));
  }
  return pieces;
}

/** One record's line, without its line break; a row with nothing to quote or escape is joined as it is (no copy of its cells). */
function csvLine(row: readonly string[], excelSafe: boolean): string {
  let cells: string[] | undefined;
  for (let i = 0; i < row.length; i += 1) {
    const cell = row[i];
    if (typeof cell !== 'string') return stringify([row as string[]], { escape_formulas: excelSafe }).slice(0, -1);
    if (cell.length === 0) continue;
    let text = excelSafe && CSV_FORMULA.test(cell) ? `'${cell}` : cell;
    if (CSV_QUOTED.test(text)) text = `"${text.replaceAll('"', '""')}"`;
    if (text === cell) continue;
    cells ??= row.slice();
    cells[i] = text;
  }
  return (cells ?? row).join(',');
}

/** Bytes the data file's stream holds before the walk waits for the disk: a few pages, so writing one overlaps making the next. */
export const DATA_BUFFER_BYTES = 1 << 20;

/** Counts and hashes the bytes that pass, exactly as they land in the file. */
export class Digest extends Transform {
  bytes = 0;
  readonly #hash = createHash('sha256');
  sha256 = '';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.bytes += chunk.length;
    this.#hash.update(chunk);
    this.push(chunk);
    callback();
  }

  override _flush(callback: () => void): void {
    this.sha256 = this.#hash.digest('hex');
    callback();
  }
}

/**
 * Forwards to a stream the pipeline must not end (stdout), waiting for `drain`;
 * fails when the stream fails (EPIPE when the reader went away).
 */
export function forwardTo(destination: NodeJS.WritableStream): Writable {
  let failure: Error | undefined;
  const onError = (error: Error) => {
    failure = error;
    forward.destroy(error);
  };
  const forward = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (failure) return callback(failure);
      if (destination.write(chunk)) callback();
      else destination.once('drain', () => callback());
    },
    final(callback) {
      destination.off('error', onError);
      callback(failure);
    },
    destroy(error, callback) {
      destination.off('error', onError);
      callback(error);
    },
  });
  destination.on('error', onError);
  return forward;
}

/**
 * One output of an export run: the data file, the deleted ids, the schema
 * sidecars, the change log, the state, the manifest, a table load. The run
 * feeds each page through the sinks that take pages while it walks; then
 * `commitSinks` prepares every sink, publishes all their files together, and
 * commits the ones that have a commit of their own (a load).
 */
export interface ExportSink {
  /** Order of publication: lower first; the manifest and `_SUCCESS` last, so a reader that sees them finds the rest. */
  readonly rank: number;
  /** Finishes writing and fsyncs; returns the files to publish (a load returns none: its merge runs here, in its open transaction). */
  prepare(): Promise<readonly OutputFile[]>;
  /** After every file is in place: a load's COMMIT. When it fails, every file goes back. */
  commit?(): Promise<void>;
  /** Drops what was staged; safe at any point, and more than once. `cause`: why the run refused a load before its merge (TableLoader.abort). */
  abort(cause?: string): Promise<void>;
}

/** A sink that takes every page of records while the run walks (the state, the change log, the load). */
export interface PageSink extends ExportSink {
  page(records: readonly ExportRecord[]): Promise<void>;
}

/** The load merges after the files are staged and before the manifest is written (it records the counts); it commits after every file is in place. */
export const RANK = { data: 0, state: 1, load: 2, manifest: 3, success: 4 } as const;

/** A sink made of files written whole or streamed elsewhere: publishing them is all it needs. */
export function fileSink(rank: number, ...files: Array<OutputFile | undefined>): ExportSink {
  const present = files.filter((f): f is OutputFile => f !== undefined);
  return {
    rank,
    async prepare() {
      for (const file of present) await file.prepare();
      return present;
    },
    abort: async () => {
      await Promise.all(present.map((f) => f.discard()));
    },
  };
}

/**
 * Prepares every sink, publishes their files together (in rank order), then
 * commits; any failure leaves every output as it was. An interrupt (`signal`)
 * is honoured until the files are published: after each sink is prepared
 * (a load's merge included) the run stops, and every output stays as it was.
 * The run's `journal` records the files before the first rename and the
 * commit once it is done, so a kill -9 anywhere in between is undone by the
 * next run (publish-journal.ts).
 */
export async function commitSinks(sinks: readonly ExportSink[], signal?: AbortSignal, journal?: PublishJournal, onCommitting?: (what: string) => void): Promise<void> {
  const ordered = [...sinks].sort((a, b) => a.rank - b.rank);
  const files: OutputFile[] = [];
  signal?.throwIfAborted();
  for (const sink of ordered) {
    files.push(...(await sink.prepare()));
    signal?.throwIfAborted();
  }
  const published = await publishTogether(files, journal);
  // The files are in place: the run completes from here (an interrupt is not honoured), whatever the load's COMMIT takes.
  onCommitting?.(ordered.some((sink) => sink.commit) ? "the load's COMMIT" : 'the publish of the outputs');
  try {
    for (const sink of ordered) await sink.commit?.();
  } catch (error) {
    throw await afterFailedCommit(error, published);
  }
  killPoint('commit');
  // Best effort: the set is committed whatever happens to this line (a load's commit is also in its load log, which the next run reads).
  await journal?.recordCommitted().catch(() => undefined);
  await published.finish();
}

/** A COMMIT failed after the files were renamed into place: they go back, and the message says what is where. */
async function afterFailedCommit(error: unknown, published: PublishedSet): Promise<PylonCliError> {
  const notRestored = await published.rollback();
  const reason = error instanceof Error ? error.message : String(error);
  const code = error instanceof PylonCliError ? error.code : 'LOAD_FAILED';
  const left =
    notRestored.length === 0
      ? 'the table, the data file, its manifest, sidecars, change log and state were left as they were'
      : `the table was left as it was, but these files are this run's and could not be put back: ${notRestored.join(', ')}`;
  return new PylonCliError(code, `${reason.replace(/\.$/, '')}; ${left}`);
}
