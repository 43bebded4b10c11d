import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { open, unlink } from 'node:fs/promises';
import { stringify } from 'csv-stringify/sync';
import { PylonCliError } from '../errors.js';

/** One line of the export error report. */
export interface ReportEntry {
  /** `page`: a page failed after retries; `record`: a record could not be written; `custom_fields`, `output`, `pagination`, `interrupted`: where the run stopped. */
  kind: 'page' | 'record' | 'custom_fields' | 'output' | 'pagination' | 'interrupted';
  /** The record id, for `record` entries (when it has one). */
  id?: string;
  /** The cursor of the page concerned; empty for the first page. */
  cursor?: string;
  /** 1-based number of the page concerned. */
  page?: number;
  status?: number;
  requestId?: string;
  code: string;
  message: string;
}

export const REPORT_COLUMNS = ['kind', 'id', 'cursor', 'page', 'http_status', 'request_id', 'code', 'message'];
const HEADER = stringify([REPORT_COLUMNS]);

/**
 * The error report (CSV), opened on the first entry so a clean run writes none.
 * Entries are streamed, never held. Without a path entries are only counted.
 */
export class ErrorReport {
  readonly path: string | undefined;
  entries = 0;
  #stream: WriteStream | undefined;
  #error: Error | undefined;

  constructor(path: string | undefined) {
    this.path = path;
  }

  async add(entry: ReportEntry): Promise<void> {
    this.entries += 1;
    if (this.path === undefined) return;
    if (!this.#stream) {
      this.#stream = createWriteStream(this.path);
      this.#stream.on('error', (error) => (this.#error ??= error));
      this.#stream.write(HEADER);
    }
    if (this.#error) return;
    const line = stringify([[entry.kind, entry.id ?? '', entry.cursor ?? '', entry.page ?? '', entry.status ?? '', entry.requestId ?? '', entry.code, entry.message]]);
    if (!this.#stream.write(line)) await Promise.race([once(this.#stream, 'drain'), once(this.#stream, 'close')]);
  }

  /** Flushes the report; when there was nothing to report, removes a report an earlier run left at the same path. */
  async close(): Promise<string | undefined> {
    if (this.#stream) {
      if (!this.#stream.closed) {
        this.#stream.end();
        await once(this.#stream, 'close');
      }
      if (this.#error) throw new PylonCliError('OUTPUT_WRITE', `Cannot write the error report ${this.path}: ${this.#error.message}`, { cause: this.#error });
      return this.path;
    }
    if (this.path !== undefined) {
      if (await startsWith(this.path, HEADER)) await unlink(this.path).catch(() => {});
    }
    return undefined;
  }
}

async function startsWith(path: string, text: string): Promise<boolean> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return false;
  try {
    const expected = Buffer.from(text);
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(expected.length), 0, expected.length, 0);
    return bytesRead === expected.length && buffer.equals(expected);
  } finally {
    await handle.close();
  }
}
