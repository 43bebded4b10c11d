import { open, unlink } from 'node:fs/promises';
import { stringify } from 'csv-stringify/sync';
import { openCsvFile, type CsvFile } from '../output/csv-file.js';
import type { PublishRecorder } from '../output/publish-journal.js';
import { outputWriteError } from '../output/output-file.js';

/** One line of the export error report. */
export interface ReportEntry {
  /** `page`: a page failed after retries; `record`: a record could not be written; `me`, `custom_fields`, `output`, `pagination`, `interrupted`: where the run stopped. */
  kind: 'page' | 'record' | 'me' | 'custom_fields' | 'output' | 'pagination' | 'interrupted';
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
  #file: Promise<CsvFile<ReportEntry>> | undefined;
  /** The run's publish journal: told of the report's temporary file (publish-journal.ts). */
  readonly #journal: PublishRecorder | undefined;

  constructor(path: string | undefined, journal?: PublishRecorder) {
    this.path = path;
    this.#journal = journal;
  }

  async add(entry: ReportEntry): Promise<void> {
    this.entries += 1;
    if (this.path === undefined) return;
    this.#file ??= openCsvFile<ReportEntry>(this.path, REPORT_COLUMNS, (e) => [e.kind, e.id ?? '', e.cursor ?? '', String(e.page ?? ''), String(e.status ?? ''), e.requestId ?? '', e.code, e.message], { journal: this.#journal });
    await (await this.#file).write(entry);
  }

  /** Commits the report; when there was nothing to report, removes a report an earlier run left at the same path. */
  async close(): Promise<string | undefined> {
    if (this.#file) {
      const file = await this.#file;
      try {
        await file.commit();
      } catch (error) {
        await file.discard();
        throw outputWriteError(this.path!, error);
      }
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
