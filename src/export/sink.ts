import { createHash } from 'node:crypto';
import { Transform, Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { stringify } from 'csv-stringify';

export type ExportFormat = 'csv' | 'ndjson';

export interface FormatOptions {
  format: ExportFormat;
  /** Column headers, in order (CSV header line). */
  header: readonly string[];
  bom: boolean;
  excelSafe: boolean;
  gzip: boolean;
}

/**
 * The encoding stages between the row generator and the destination: CSV
 * (csv-stringify: explicit columns so an empty export still has its header) or
 * NDJSON, then gzip if asked. CSV takes arrays of cells; NDJSON takes objects.
 */
export function createEncoders(options: FormatOptions): Transform[] {
  const encoder =
    options.format === 'csv'
      ? stringify({ header: true, columns: [...options.header], bom: options.bom, escape_formulas: options.excelSafe })
      : new Transform({
          writableObjectMode: true,
          transform(record: unknown, _encoding, callback) {
            callback(null, JSON.stringify(record) + '\n');
          },
        });
  return options.gzip ? [encoder, createGzip()] : [encoder];
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
