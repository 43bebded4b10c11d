import { createReadStream, createWriteStream, existsSync, openSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { join, resolve as resolvePath } from 'node:path';
import type { Readable } from 'node:stream';
import { ConfigError } from '../errors.js';
import { isGzip } from '../csv/read.js';
import { createTempDir } from '../output/temp-dir.js';
import type { InputFingerprint } from '../run/journal.js';
import { createWorkbookMemo, type WorkbookMemo } from '../input/xlsx.js';

/**
 * The file an import reads, twice if need be (a duplicate pre-pass, then the
 * rows). Standard input is spooled to a scratch file first, removed by `close()`
 * (or, after a kill -9, by the next run's sweep of dead processes' folders).
 */
export interface InputFile {
  /** A path the readers can open (the spool for stdin). */
  readonly path: string;
  /** Rows expected, from the size and the first 64 KiB (for progress and the lookup's choice). */
  readonly estimatedRows: number;
  /** Size and sha256 of the content, and the path as given: what a journal is keyed by. */
  fingerprint(): Promise<InputFingerprint>;
  /** An XLSX input's parse, shared by every pass of the run (released by close). */
  readonly sheets: WorkbookMemo;
  close(): void;
}

export async function openInputFile(input: string, stdin?: Readable): Promise<InputFile> {
  let spoolDir: string | undefined;
  let path = input;
  if (input === '-') {
    spoolDir = createTempDir('stdin');
    path = join(spoolDir, 'stdin.csv');
    try {
      await pipeline(stdin ?? process.stdin, createWriteStream(path));
    } catch (error) {
      rmSync(spoolDir, { recursive: true, force: true });
      throw error;
    }
  } else if (!existsSync(input)) {
    throw new ConfigError('INPUT_NOT_FOUND', `Input file not found: ${input}`, { option: '<file>' });
  }
  const sheets = createWorkbookMemo();
  return {
    path,
    estimatedRows: estimateRows(path),
    sheets,
    async fingerprint() {
      const hash = createHash('sha256');
      await pipeline(createReadStream(path), hash);
      return { path: resolvePath(input), size: statSync(path).size, sha256: hash.digest('hex') };
    },
    close() {
      sheets.clear();
      if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
      spoolDir = undefined;
    },
  };
}

/** Rows in the file, estimated from the size and the first 64 KiB. */
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
