import { createReadStream, createWriteStream, existsSync, openSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { basename, join, resolve as resolvePath } from 'node:path';
import type { Readable } from 'node:stream';
import { ConfigError } from '../errors.js';
import { inputNotFound } from './not-found.js';
import { isGzip } from '../csv/read.js';
import { createTempDir } from '../output/temp-dir.js';
import type { InputFingerprint } from '../run/journal.js';
import { createWorkbookMemo } from './xlsx.js';
import { createInputSource, resolveFormat, type InputSource, type InputSourceOptions } from './index.js';

/**
 * The one place a run opens its input: `openInput()` once per run. Standard
 * input is spooled to a scratch file first, removed by `close()` (or, after a
 * kill -9, by the next run's sweep of dead processes' folders); an XLSX is
 * parsed once, whatever the number of passes. Each pass over the rows is
 * `rows()`: one reader per format (src/input/index.ts), through the migration's
 * transform when there is one. The rows pass gives the header too (a migration
 * checks its preset or map against it before the pass's transform applies), so
 * a run reads its input once, plus once more for a duplicate pre-scan or a
 * `--create-accounts` scan.
 */
export interface Input {
  /** A path the readers can open (the spool for stdin). */
  readonly path: string;
  /** Rows expected, from the size and the first 64 KiB (for progress and the lookup's choice). */
  readonly estimatedRows: number;
  /** Size and sha256 of the content, and the path as given: what a journal is keyed by. */
  fingerprint(): Promise<InputFingerprint>;
  /** A new pass over the rows (header first), through `transform` when given. Closed by `close()` if left open. */
  rows(transform?: InputSourceOptions['transform']): InputSource;
  close(): void;
}

/** How the input is read: its format and, for CSV, its delimiter and encoding; for XLSX, its sheet. */
export interface InputReadOptions {
  format?: string;
  sheet?: string;
  delimiter?: string;
  encoding?: string;
}

export async function openInput(input: string, read: InputReadOptions = {}, stdin?: Readable): Promise<Input> {
  let spoolDir: string | undefined;
  let path = input;
  /** The content's sha256, when the spool computed it on the way (the input is then never read again to hash it). */
  let spooledHash: string | undefined;
  if (input !== '-') checkInputPath(input);
  // Standard input, and a path that can be read only once (a FIFO, a device such as /dev/stdin, a socket),
  // are copied to a scratch file first: the row estimate, a pre-scan and the rows pass each read it.
  if (input === '-' || readOnce(input)) {
    spoolDir = createTempDir('stdin');
    // A named input's copy keeps its extensions (`x.ndjson`, `x.json.gz`), which decide its format as they do the file's; stdin is CSV unless --format says otherwise.
    path = join(spoolDir, input === '-' ? 'stdin.csv' : `stdin${/(\.[^./\\]+)+$/.exec(basename(input))?.[0] ?? ''}`);
    const hash = createHash('sha256');
    try {
      await pipeline(input === '-' ? (stdin ?? process.stdin) : createReadStream(input), async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          yield chunk;
        }
      }, createWriteStream(path));
    } catch (error) {
      rmSync(spoolDir, { recursive: true, force: true });
      throw error;
    }
    spooledHash = hash.digest('hex');
  }
  const sheets = createWorkbookMemo();
  const format = resolveFormatSafely(path, read.format);
  const xlsx = format === 'xlsx';
  const estimate = xlsx ? 0 : estimateRows(path, format === 'json');
  const passes = new Set<InputSource>();
  return {
    path,
    // A workbook is zipped: its bytes say nothing of its rows, but once a pass has read the sheet its row count is exact.
    get estimatedRows() {
      return xlsx ? (sheets.rowCount(path, read.sheet) ?? 0) : estimate;
    },
    async fingerprint() {
      let sha256 = spooledHash;
      if (sha256 === undefined) {
        const hash = createHash('sha256');
        await pipeline(createReadStream(path), hash);
        sha256 = hash.digest('hex');
      }
      return { path: resolvePath(input), size: statSync(path).size, sha256 };
    },
    rows(transform) {
      // Messages name the input as given (`stdin` for -), never the scratch copy of it.
      const pass = createInputSource({ input: path, name: input === '-' ? 'stdin' : input, format: read.format, sheet: read.sheet, delimiter: read.delimiter, encoding: read.encoding, memo: sheets, transform });
      passes.add(pass);
      return pass;
    },
    close() {
      for (const pass of passes) pass.close();
      passes.clear();
      sheets.clear();
      if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
      spoolDir = undefined;
    },
  };
}

/** An input path names a file: a missing path or a folder is a usage error (exit 2), never a read error later. */
export function checkInputPath(input: string): void {
  if (!existsSync(input)) throw inputNotFound(input);
  if (statSync(input).isDirectory()) throw new ConfigError('INPUT_UNREADABLE', `${input} is a directory: name a CSV, XLSX, JSON or NDJSON file`, { option: '<file>' });
}

/** Whether reading `path` consumes it (anything but a regular file or a directory, which the readers report). */
function readOnce(path: string): boolean {
  const stat = statSync(path);
  return stat.isFIFO() || stat.isCharacterDevice() || stat.isSocket();
}

/** The input's format, or undefined for a --format the reader reports itself. */
function resolveFormatSafely(path: string, format: string | undefined): string | undefined {
  try {
    return resolveFormat(path, format);
  } catch {
    return undefined;
  }
}

/**
 * Rows in the file (the header not counted), from the size and the first 64 KiB: exact when those are the whole
 * file (its records counted as the readers count them: a quoted line break inside a record, blank lines, a BOM and
 * CRLF line ends do not count; a JSON array's elements), else the records of that start scaled to the size.
 */
function estimateRows(path: string, json: boolean): number {
  let size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    let buffer = Buffer.alloc(Math.min(size, 65536));
    let read = readSync(fd, buffer, 0, buffer.length, 0);
    let whole = read >= size;
    if (read >= 18 && isGzip(buffer)) {
      // gzip: the text's size is in the last 4 bytes (mod 2^32); its start inflates without the rest.
      const trailer = Buffer.alloc(4);
      readSync(fd, trailer, 0, 4, size - 4);
      size = Math.max(trailer.readUInt32LE(0), size);
      try {
        buffer = gunzipSync(buffer.subarray(0, read), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      } catch {
        return 0; // unreadable: the reader reports it
      }
      read = buffer.length;
      // The whole archive inflated is the whole text (its trailer's size is mod 2^32).
      if (whole) size = read;
      whole = read >= size;
    }
    if (read === 0) return 0;
    const text = sampleText(buffer.subarray(0, read));
    const records = json ? jsonRecords(text, whole) : csvRecords(text, whole) - 1;
    if (whole) return Math.max(0, records);
    return Math.max(1, Math.round((size / read) * Math.max(records, 1)));
  } finally {
    closeSync(fd);
  }
}

/** The sample as text: UTF-16 by its BOM, else byte for byte (line breaks, quotes and brackets are ASCII in UTF-8 and single-byte encodings alike). */
function sampleText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return Buffer.from(bytes.subarray(2)).swap16().toString('utf16le');
  return bytes.subarray(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0).toString('latin1');
}

/** Records of CSV text that hold a value (blank ones, `,,,` included, are skipped as the reader skips them); a quote never closed counts by lines. */
function csvRecords(text: string, whole: boolean): number {
  let records = 0;
  let quoted = false;
  let value = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) quoted = !quoted;
    else if (c === 10 /* \n */ && !quoted) {
      if (value) records++;
      value = false;
    } else if (!value && c > 32 && c !== 44 /* , */ && c !== 59 /* ; */ && c !== 124 /* | */) value = true;
  }
  if (!whole) return records;
  // A quote left open at the end (a stray one, which the reader cuts at its line's end): its lines, not its records.
  if (quoted) return text.split('\n').filter((line) => !/^[\s,;|"]*$/.test(line)).length;
  return value ? records + 1 : records;
}

/** Records of JSON text: an array's elements (when the sample is the whole file), else NDJSON's non-blank lines. */
function jsonRecords(text: string, whole: boolean): number {
  const start = text.replace(/^[\s\ufeff\u00ef\u00bb\u00bf]+/, '');
  if (start.startsWith('[')) {
    if (whole) {
      try {
        const parsed: unknown = JSON.parse(Buffer.from(text, 'latin1').toString('utf8').replace(/^\ufeff/, ''));
        if (Array.isArray(parsed)) return parsed.length;
      } catch {
        // the reader reports it
      }
    }
    return text.split('\n').length;
  }
  return text.split('\n').filter((line) => line.trim() !== '').length;
}
