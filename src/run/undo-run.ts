/**
 * The undo file of a writing run (update, apply, an undo file applied), from the
 * choice of its path to the merge of an earlier run's rows: the one place the
 * sequence "choose the undo path → save the run state → set aside and repair the
 * earlier rows → (the run) → merge them back → clean up" is written.
 *
 * Durability: each PATCH's journal `sent` entry (written with one write(2) before
 * the PATCH goes out) holds the contact, its email and the fields with their
 * previous values, so an undo row that a kill -9 or a full disk kept from the
 * file is rebuilt from the journal when the run is resumed. A row that can be
 * neither found nor rebuilt is counted as unaccounted, and the run fails.
 */
import { counted } from '../plural.js';
import { createReadStream, existsSync, renameSync } from 'node:fs';
import { parse } from 'csv-parse';
import { readJournal } from './journal.js';
import { checkWritable } from '../output/output-file.js';
import { openCsvFile } from '../output/csv-file.js';
import { undoCells, undoColumns } from '../update/undo-rows.js';
import { chooseUndoPath, removeRunState, writeRunMeta } from './run-state.js';
import { earlierUndoPath, mergeEarlierUndo, setAsideEarlierUndo } from './undo-file.js';

export interface UndoRun {
  /** Where this run writes its undo rows (undefined: no undo file). */
  readonly path?: string;
  /** Contacts an earlier run changed whose undo row is neither in its file nor in the journal. */
  readonly unaccounted: number;
  /** Rows rebuilt from the journal. */
  readonly rebuilt: number;
  /** After the run: the earlier rows go back in front of this run's; a completed run's side files go. */
  finish(): Promise<void>;
}

export interface UndoRunOptions {
  /** The undo path asked for (flag or default). */
  asked?: string;
  resume: boolean;
  journalPath?: string;
  onNote?: (message: string) => void;
  /**
   * A later phase of the same run (`update --sync`'s removals): its rows go into the undo file an earlier
   * phase wrote at `asked`, kept in front of them, so that at every stop one file holds every undo row.
   */
  append?: boolean;
  /**
   * This run has begun the journal at `journalPath` itself (it holds it, and created it before its first read): the
   * journal there is this run's, not an unfinished earlier run's, and the undo path is recorded beside it for --resume.
   */
  journalBegun?: boolean;
}

export async function beginUndoRun(options: UndoRunOptions): Promise<UndoRun> {
  const { resume, journalPath } = options;
  const path = options.append ? options.asked : chooseUndoPath(options.asked, resume, journalPath, options.onNote);
  // A journal already there is an unfinished run's, which the run refuses to start beside (before any write): its state is left as it is.
  if (journalPath && !resume && !options.append && (options.journalBegun || !existsSync(journalPath))) {
    // The run state goes beside the journal: a journal that cannot be written is the usage error its own check names (exit 2), not a crash here.
    await checkWritable([{ path: journalPath, option: '--journal' }]);
    writeRunMeta(journalPath, { undoPath: path });
  }
  let aside = (resume || options.append) && path ? await setAsideEarlierUndo(path) : undefined;
  let unaccounted = 0;
  let rebuilt = 0;
  if (resume && path && journalPath && existsSync(journalPath)) {
    const repair = await rebuildFromJournal(journalPath, aside, path);
    aside = repair.aside;
    unaccounted = repair.unaccounted;
    rebuilt = repair.rebuilt;
    if (rebuilt > 0) options.onNote?.(`resuming: ${rebuilt} undo rows the interrupted run had not written were rebuilt from its journal`);
  }
  return {
    path,
    unaccounted,
    rebuilt,
    async finish() {
      if (aside && path) await mergeEarlierUndo(aside, path);
      // Named only once written: a run that changed no contact writes no undo file, and names none that does not exist.
      if (path && path !== options.asked && !resume && !options.append && existsSync(path)) {
        options.onNote?.(`${options.asked} exists (an earlier run's undo file, kept as it is); this run's undo file is ${path}`);
      }
      // A completed run removed its journal: its side files (undo path, selection) go with it.
      if (journalPath && !existsSync(journalPath)) removeRunState(journalPath);
    },
  };
}

/**
 * Runs `run` inside the undo file's lifecycle, the one sequence every writing
 * command goes through: choose the undo path and save the run state, set aside
 * and repair the earlier rows (`--resume`), run, merge them back and clean up
 * (even when the run throws). A resume that cannot account for every undo row
 * ends with RUN_UNDO_INCOMPLETE (exit 1).
 */
export async function withUndoRun<S extends { fatal?: { code: string; message: string } }>(options: UndoRunOptions, run: (undoPath: string | undefined) => Promise<S>): Promise<S> {
  const undoRun = await beginUndoRun(options);
  let stats: S;
  try {
    stats = await run(undoRun.path);
  } finally {
    await undoRun.finish();
  }
  if (undoRun.unaccounted > 0) stats.fatal ??= { code: 'RUN_UNDO_INCOMPLETE', message: unaccountedMessage(undoRun.unaccounted, options.journalPath) };
  return stats;
}

/** The message (and the exit 1) of a run that cannot account for every undo row. */
export function unaccountedMessage(count: number, journalPath: string | undefined): string {
  return `${counted(count, 'contact')} changed by the interrupted run ${count === 1 ? 'has' : 'have'} no undo row and none could be rebuilt from the journal${journalPath ? ` (${journalPath})` : ''}; the undo file does not restore them.`;
}

/**
 * Every contact the journal records as updated has its row in the earlier undo
 * rows (`aside`), or gets one rebuilt from its `sent` entry; the rebuilt rows are
 * merged into `aside` (created when there was none).
 */
async function rebuildFromJournal(journalPath: string, aside: string | undefined, undoPath: string): Promise<{ aside?: string; unaccounted: number; rebuilt: number }> {
  const present = aside ? await idsIn(aside) : new Set<string>();
  const journal = readJournal(journalPath);
  const rows: Array<{ id: string; email?: string; changes: NonNullable<ReturnType<typeof journal.sentAt>>['changes'] & object }> = [];
  let unaccounted = 0;
  try {
    for (const line of journal.outcomes.keys()) {
      const outcome = journal.outcomes.get(line);
      if (outcome?.o !== 'updated' || !outcome.id || present.has(outcome.id)) continue;
      const sent = journal.sentAt(line);
      if (sent?.id === outcome.id && sent.changes && sent.changes.length > 0) {
        rows.push({ id: sent.id, email: sent.email, changes: sent.changes });
        present.add(sent.id);
      } else unaccounted++;
    }
  } finally {
    journal.close();
  }
  if (rows.length === 0) return { aside, unaccounted, rebuilt: 0 };
  const columns = undoColumns([...new Set(rows.flatMap((r) => r.changes.map((c) => c.column)))], undefined, true);
  const rebuiltPath = `${undoPath}.rebuilt`;
  const file = await openCsvFile<string[]>(rebuiltPath, columns, (cells) => cells);
  try {
    for (const row of rows) await file.write(undoCells(columns, row.id, row.email, row.changes));
    await file.commit();
  } catch (error) {
    await file.discard();
    throw error;
  }
  // The earlier rows, then the rebuilt ones, where a next resume looks for them (`<undo>.earlier`).
  if (aside) await mergeEarlierUndo(aside, rebuiltPath);
  const target = aside ?? earlierUndoPath(undoPath);
  renameSync(rebuiltPath, target);
  return { aside: target, unaccounted, rebuilt: rows.length };
}

async function idsIn(path: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const record of createReadStream(path).pipe(parse({ columns: true, skip_records_with_error: true, skip_empty_lines: true, relax_column_count: true }))) {
    const id = (record as Record<string, string>).id;
    if (id) ids.add(id);
  }
  return ids;
}
