import { createHash } from 'node:crypto';
import { Transform, Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { ParquetEncoder } from './parquet.js';
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
   * bytes only when a row group is complete.
   */
  page(rows: ReadonlyArray<EncoderRow>): string | Uint8Array;
  /** What the file ends with: Parquet's last row group and footer; nothing for text. */
  end(): string | Uint8Array;
}

export type EncoderRow = string[] | Record<string, unknown> | string | TypedRow;

export function createPageEncoder(options: FormatOptions): PageEncoder {
  if (options.format === 'parquet') {
    const parquet = options.parquet;
    if (!parquet) throw new Error('a Parquet export needs its encoder (createParquetEncoder)');
    return { start: () => parquet.start(), page: (rows) => parquet.page(rows as TypedRow[]), end: () => parquet.end() };
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
    page: (rows) => stringify(rows as string[][], { escape_formulas: options.excelSafe }),
    end: () => '',
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
