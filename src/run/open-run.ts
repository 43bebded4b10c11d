/**
 * The one entry point of a run that writes (import, update, apply): it opens the
 * journal, the error and results reports, the undo file, the outcome ledger, the
 * stop rules and the bounded pool, in that order, and closes them together.
 *
 * The caller reads its input and decides each row; every outcome goes through
 * `run.ledger`, every write through `run.pool`, every stop through `run.control`.
 * `close()` ends a run that reached its end (complete or stopped); `abort()` one
 * that threw. The undo file's lifecycle across `--resume` (its path, the run
 * state, the earlier rows) is `withUndoRun` in undo-run.ts, around this.
 */
import type { PylonClient } from '../pylon/api.js';
import type { ImportStats } from '../import/stats.js';
import { openJournal, type Journal, type JournalHold, type JournalKey } from './journal.js';
import { createLedger, type OutcomeLedger } from './ledger.js';
import { createPool, type Pool } from './pool.js';
import { createErrorReport, createResultsReport, inLineOrder, type CsvReport, type ErrorRow, type ResultRow } from './report.js';
import { RunControl } from './run-control.js';
import { createUndoWriter, type UndoWriter } from './undo-writer.js';

export type RunKind = 'import' | 'update' | 'apply';

export interface OpenRunSpec<S extends ImportStats = ImportStats> {
  kind: RunKind;
  stats: S;
  client: PylonClient;
  /** When the run started (Date.now()), for the progress's duration. */
  started: number;
  control: RunControl;
  /** The journal of a run that can be resumed; undefined for a dry run or a run without one. */
  journal?: { path: string; key: JournalKey; resume: boolean; hold?: JournalHold };
  /** The error report and the header of the rows it repeats. */
  errors: { path: string; header: readonly string[] };
  /** The results file (`withChanges`: the dry run's `_changes` column). */
  results?: { path: string; withChanges: boolean };
  /** The undo file: one row per changed contact with its previous values. */
  undo?: {
    path: string;
    fieldColumns: readonly string[];
    organizationId?: string;
    /** No file when no row was written. */
    skipEmpty?: boolean;
    /** `fieldColumns` are the columns the run changes (apply): an `email` among them is recorded as a change (`_set.email`). */
    changedColumns?: boolean;
  };
  concurrency: number;
  onProgress?: (stats: S) => void;
  onNote?: (message: string) => void;
}

export interface WriteRun {
  readonly kind: RunKind;
  readonly control: RunControl;
  readonly journal?: Journal;
  readonly ledger: OutcomeLedger;
  readonly pool: Pool;
  readonly undo?: UndoWriter;
  /** Brings the stats' duration, retries and 429 counts up to date. */
  refresh(): void;
  /**
   * Ends a run that went through its rows (or stopped): commits the undo file and
   * the reports; the journal goes only when `complete` and everything was committed.
   * A failure to commit stops the run (its error becomes the run's fatal one).
   */
  close(options: { complete: boolean }): Promise<void>;
  /**
   * Ends a run that threw: the reports and the undo rows written so far are kept,
   * unless `nothingDone` (a run that stopped before its first row leaves none). The
   * journal stays: its hold removes it when the run never wrote to it and was not interrupted.
   */
  abort(options: { nothingDone: boolean }): Promise<void>;
}

/** Brings a run's duration, retries and 429 counts up to date (for progress and the summary). */
export function refreshStats(stats: ImportStats, client: PylonClient, started: number): void {
  stats.durationMs = Date.now() - started;
  stats.retries = client.stats.retries;
  stats.rateLimited = client.stats.rateLimited;
}

/** How often progress is reported while outcomes come in. */
const PROGRESS_EVERY_MS = 250;

export async function openRun<S extends ImportStats>(spec: OpenRunSpec<S>): Promise<WriteRun> {
  const { stats, client, control } = spec;
  const refresh = () => refreshStats(stats, client, spec.started);
  let journal: Journal | undefined;
  let errors: CsvReport<ErrorRow> | undefined;
  let results: CsvReport<ResultRow> | undefined;
  let undo: UndoWriter | undefined;
  try {
    if (spec.journal) {
      journal = openJournal(spec.journal.path, spec.journal.key, spec.journal.resume, spec.journal.hold);
      if (journal.previous.size > 0) spec.onNote?.(`resuming: ${journal.previous.size} ${spec.kind === 'apply' ? 'contacts' : 'rows'} already done in an earlier run`);
    }
    // Both in the input's line order, whatever order the rows' writes ended in (someone fixing rows by hand reads the
    // error report from the top); what is held back is written when the run closes or stops (Ctrl-C, a fatal error).
    errors = inLineOrder(await createErrorReport(spec.errors.path, spec.errors.header));
    results = spec.results ? inLineOrder(await createResultsReport(spec.results.path, spec.results.withChanges)) : undefined;
    if (spec.undo) undo = await createUndoWriter(spec.undo.path, spec.undo.fieldColumns, spec.undo.organizationId, { skipEmpty: spec.undo.skipEmpty, changedColumns: spec.undo.changedColumns });
    let lastProgress = 0;
    const ledger = createLedger({
      stats,
      errors,
      results,
      journal,
      journalPath: spec.journal?.path,
      onOutcome: () => {
        const now = Date.now();
        if (now - lastProgress < PROGRESS_EVERY_MS) return;
        lastProgress = now;
        refresh();
        spec.onProgress?.(stats);
      },
    });
    const pool = createPool(spec.concurrency);
    return {
      kind: spec.kind,
      control,
      journal,
      ledger,
      pool,
      undo,
      refresh,
      async close({ complete }) {
        await undo?.commit().catch((error) => control.judge(error));
        if (undo && undo.externalIdsAdded > 0) stats.undoKeepsExternalIds = undo.externalIdsAdded;
        const failure = await ledger.close({ complete: complete && !control.stopped });
        if (failure !== undefined) control.judge(failure);
        stats.interrupted = control.interrupted;
        stats.fatal = control.describeFatal();
        refresh();
        // Every row has been read (those after a stop are counted too): the estimate gives way to the true total, and
        // progress gets a last report at it (the throttled ones may have stopped short of the end).
        stats.estimatedRows = stats.total;
        spec.onProgress?.(stats);
      },
      async abort({ nothingDone }) {
        // Before the first row there is nothing to report or undo: no file is left behind.
        if (nothingDone) await Promise.allSettled([errors?.discard(), results?.discard(), undo?.discard()]);
        else await Promise.allSettled([ledger.close({ complete: false }), undo?.commit()]);
        journal?.close();
        refresh();
      },
    };
  } catch (error) {
    // Opening a report failed (a full disk): what was opened is closed, nothing is left half-open.
    await Promise.allSettled([errors?.discard(), results?.discard(), undo?.discard()]);
    journal?.close();
    throw error;
  }
}
