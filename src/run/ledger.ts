import { rmSync } from 'node:fs';
import type { RowIssue } from '../import/desired.js';
import type { Journal, JournalOutcome, Outcome } from './journal.js';
import type { CsvReport, ErrorRow, ResultRow } from './report.js';
import type { ImportStats } from '../import/stats.js';

/** A row as the reports show it: its line, its original cells, the email it targets. */
export interface RowRef {
  /** The row's key in the journal, and its `_line` in the reports unless `reportLine` is given. */
  line: number;
  /** The `_line` the reports show when it is not the journal's key (apply: the input line a plan's change came from). */
  reportLine?: number;
  cells: readonly string[];
  email?: string | null;
  /** What the migration left out of the row (a dropped phone number…), for its `_message` whatever its outcome. */
  notes?: readonly string[];
}

export interface OutcomeDetail {
  id?: string;
  requestId?: string;
  code?: string;
  field?: string;
  message?: string;
  status?: number;
  /** Dry run: the field changes, for the results file. */
  changes?: string;
}

/**
 * The one place a row gets its outcome. Each call counts the row in the stats,
 * writes the error report (failed rows), the results file and the journal, and
 * reports progress. Rows a stopped run never reaches are counted by
 * `notProcessed()`; `close()` commits the reports and removes the journal only
 * when every row read has an outcome. Exactly one of these happens per row.
 */
export interface OutcomeLedger {
  record(row: RowRef, outcome: Outcome, detail?: OutcomeDetail): Promise<void>;
  fail(row: RowRef, issue: RowIssue, detail?: OutcomeDetail): Promise<void>;
  /** An outcome the journal of an earlier run recorded: reported again, not journaled again. */
  replay(row: RowRef, previous: JournalOutcome): Promise<void>;
  notProcessed(rows?: number): void;
  /**
   * Commits the reports and closes the journal, removing it when the run is
   * `complete` (every row has an outcome) and every report was committed. A report
   * that cannot be committed (a full disk) is discarded; its error is returned,
   * never thrown: the journal stays, and `--resume` writes the reports again.
   */
  close(options: { complete: boolean }): Promise<unknown>;
}

export interface LedgerParts {
  stats: ImportStats;
  errors: CsvReport<ErrorRow>;
  results?: CsvReport<ResultRow>;
  journal?: Journal;
  journalPath?: string;
  /** Called after each outcome (throttled by the caller). */
  onOutcome?: () => void;
}

export function createLedger({ stats, errors, results, journal, journalPath, onOutcome }: LedgerParts): OutcomeLedger {
  // Counted once written: a row whose report line could not be written is counted as not processed instead
  // (unless the journal holds its outcome: `journaledUnreported`).
  const report = async (row: RowRef, outcome: Outcome, detail: OutcomeDetail) => {
    if (outcome === 'failed') {
      await errors.write({ line: row.reportLine ?? row.line, cells: row.cells, code: detail.code ?? 'ROW_API_FAILED', field: detail.field, message: detail.message ?? '', status: detail.status, requestId: detail.requestId });
    }
    const reason = outcome === 'failed' ? `${detail.code ?? 'ROW_API_FAILED'}: ${detail.message ?? ''}` : detail.message;
    const message = [reason, ...(row.notes ?? [])].filter((m) => m).join('; ');
    await results?.write({ line: row.reportLine ?? row.line, action: outcome, contactId: detail.id, email: row.email ?? undefined, requestId: detail.requestId, message, changes: detail.changes });
    stats[outcome]++;
  };
  let closed = false;
  /**
   * Rows whose outcome reached the journal but whose report line could not be written (a full disk): they are
   * counted by that outcome, as `--resume` replays them, and the caller's `notProcessed()` for them is absorbed.
   */
  let journaledUnreported = 0;
  return {
    async record(row, outcome, detail = {}) {
      if (journal) {
        const entry: JournalOutcome = { t: 'done', l: row.line, o: outcome };
        if (detail.id) entry.id = detail.id;
        if (row.email) entry.email = row.email;
        if (detail.requestId) entry.rid = detail.requestId;
        if (outcome === 'failed') Object.assign(entry, { code: detail.code, field: detail.field, message: detail.message, status: detail.status });
        else if (detail.message) entry.message = detail.message; // a skip's reason, for the results of a resumed run
        // Journal first: a report line without a journal entry would be written again on resume.
        journal.done(entry);
        try {
          await report(row, outcome, detail);
        } catch (error) {
          stats[outcome]++;
          journaledUnreported++;
          throw error;
        }
        onOutcome?.();
        return;
      }
      await report(row, outcome, detail);
      onOutcome?.();
    },
    fail(row, issue, detail = {}) {
      return this.record(row, 'failed', { code: issue.code, field: issue.field, message: issue.message, ...detail });
    },
    async replay(row, previous) {
      await report({ ...row, email: previous.email }, previous.o, {
        id: previous.id,
        requestId: previous.rid,
        code: previous.code,
        field: previous.field,
        message: previous.message,
        status: previous.status,
      });
      stats.resumed++;
      onOutcome?.();
    },
    notProcessed(rows = 1) {
      const absorbed = Math.min(rows, journaledUnreported);
      journaledUnreported -= absorbed;
      stats.notProcessed += rows - absorbed;
    },
    async close({ complete }) {
      if (closed) return undefined;
      closed = true;
      let failure: unknown;
      for (const report of [errors, results]) {
        if (!report) continue;
        try {
          await report.commit();
        } catch (error) {
          failure ??= error;
          await report.discard();
          // The stats name no file that is not there: the summary says it was not written, and --resume writes it.
          const path = report === errors ? stats.errorsPath : stats.resultsPath;
          if (path) stats.unwritten = [...(stats.unwritten ?? []), { report: report === errors ? 'errors' : 'results', path }];
          if (report === errors) stats.errorsPath = null;
          else stats.resultsPath = undefined;
        }
      }
      // No row to report leaves no error report: the stats name none (`--json` said a path that did not exist).
      if (errors.rows === 0) stats.errorsPath = null;
      journal?.close();
      // A finished run needs no journal; a stopped one keeps it for --resume.
      if (complete && failure === undefined && journalPath) rmSync(journalPath, { force: true });
      return failure;
    },
  };
}
