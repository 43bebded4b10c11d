import { createHash } from 'node:crypto';
import { Transform, Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';

export type ExportFormat = 'csv' | 'ndjson';

export interface FormatOptions {
  format: ExportFormat;
  /** Column headers, in order (the CSV header line). */
  header: readonly string[];
  bom: boolean;
  excelSafe: boolean;
}

/** Turns rows into text a page at a time: one string per page keeps the stream machinery out of the per-row cost. */
export interface PageEncoder {
  /** What the file starts with: the BOM and header line for CSV (so an empty export still has its header); nothing for NDJSON. */
  start(): string;
  /** CSV takes arrays of cells (csv-stringify, RFC 4180 quoting); NDJSON takes objects, one JSON line each. */
  page(rows: ReadonlyArray<string[] | Record<string, unknown>>): string;
}

export function createPageEncoder(options: FormatOptions): PageEncoder {
  if (options.format === 'ndjson') {
    return {
      start: () => '',
      page: (rows) => (rows.length === 0 ? '' : rows.map((row) => JSON.stringify(row)).join('\n') + '\n'),
    };
  }
  return {
    start: () => (options.bom ? '\ufeff' : '') + stringify([[...options.header]]),
    page: (rows) => stringify(rows as string[][], { escape_formulas: options.excelSafe }),
  };
}

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
