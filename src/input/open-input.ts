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
  const xlsx = resolveFormatSafely(path, read.format) === 'xlsx';
  const estimate = xlsx ? 0 : estimateRows(path);
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

/** Rows in the file, estimated from the size and the first 64 KiB. */
/** The input's format, or undefined for a --format the reader reports itself. */
function resolveFormatSafely(path: string, format: string | undefined): string | undefined {
  try {
    return resolveFormat(path, format);
  } catch {
    return undefined;
  }
}

function estimateRows(path: string): number {
  let size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    let buffer = Buffer.alloc(Math.min(size, 65536));
    let read = readSync(fd, buffer, 0, buffer.length, 0);
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
    }
    let lines = 0;
    for (let i = 0; i < read; i++) if (buffer[i] === 10) lines++;
    if (read === 0) return 0;
    return Math.max(1, Math.round((size / read) * Math.max(lines, 1)));
  } finally {
    closeSync(fd);
  }
}
