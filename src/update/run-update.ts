import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { PylonClient } from '../pylon/api.js';
import type { Contact, Filter } from '../pylon/types.js';
import { ConfigError, ExitError, PylonCliError } from '../errors.js';
import { runImport, UNDO_CLEAR_TOKEN, type ImportStats, type RunImportHooks } from '../import/run-import.js';
import type { ImportOptions } from '../import/options.js';
import type { FieldChange } from '../import/plan.js';
import { mergeEarlierUndo, setAsideEarlierUndo } from './undo-file.js';
import { freeUndoPath, readRunMeta, removeRunState, selectionPathFor, writeRunMeta } from './run-state.js';

/** How many contacts change, and from what to what. */
export interface UpdatePlan {
  changes: number;
  /** "portal_role: member → admin" → number of contacts, most frequent first. */
  transitions: Array<{ column: string; from: string; to: string; count: number }>;
  stats: ImportStats;
}

export interface UpdateOptions {
  import: ImportOptions;
  /** Selects contacts through search instead of a file. */
  where?: Filter;
  /** Abort with zero writes when more contacts than this would change. */
  maxChanges?: number;
}

export interface UpdateHooks extends RunImportHooks {
  client: PylonClient;
  /** Asked after the plan, before any write; false aborts with zero writes. */
  confirm?: (plan: UpdatePlan) => Promise<boolean>;
  onPlanReady?: (plan: UpdatePlan) => void;
}

export interface UpdateResult {
  plan: UpdatePlan;
  /** The real run; absent for --dry-run and when the guard or the user stopped it. */
  stats?: ImportStats;
}

const MAX_TRANSITIONS = 1000;

/**
 * Two phases over the same rows: a dry run that counts what would change (read
 * calls only), the guard and the confirmation, then the real run, which writes
 * the undo file. The real run computes its diffs again, so a contact changed by
 * someone in between is patched only where it still differs (`apply` of a saved
 * plan is the exact alternative: see plan-file.ts and apply.ts).
 */
export async function runUpdate(options: UpdateOptions, hooks: UpdateHooks): Promise<UpdateResult> {
  let spool: string | undefined;
  const dryRun = options.import.dryRun;
  // Undo files mark values that were empty with UNDO_CLEAR_TOKEN: apply them as they are.
  let importOptions: ImportOptions = { ...options.import, mode: 'update', clearToken: options.import.clearToken ?? UNDO_CLEAR_TOKEN };
  const journalPath = dryRun ? undefined : importOptions.journalPath;
  try {
    if (options.where) {
      let input: string;
      if (journalPath) {
        // A --where run keeps its selection beside its journal: --resume works through the same contacts.
        input = selectionPathFor(journalPath);
        if (importOptions.resume) {
          if (!existsSync(input)) {
            throw new ConfigError('CONFIG_RESUME_MISMATCH', `Cannot resume: no unfinished run of this --where and --set (no ${input}).`, { option: '--resume' });
          }
        } else {
          if (existsSync(journalPath)) {
            throw new ConfigError(
              'CONFIG_RESUME_MISMATCH',
              `An unfinished run of this --where and --set exists (journal ${journalPath}). Use --resume to finish it, or delete the file to start over.`,
              { option: '--resume' },
            );
          }
          await writeSelection(hooks.client, options.where, input, hooks.signal);
        }
      } else {
        spool = mkdtempSync(join(tmpdir(), 'pylon-contacts-where-'));
        input = join(spool, 'selection.csv');
        await writeSelection(hooks.client, options.where, input, hooks.signal);
      }
      importOptions = { ...importOptions, input };
    }

    const transitions = new Map<string, { column: string; from: string; to: string; count: number }>();
    const planStats = await runImport({ ...importOptions, dryRun: true, journalPath: undefined, resultsPath: options.import.dryRun ? options.import.resultsPath : undefined }, {
      ...hooks,
      onPlan: (_line, _action, changes: readonly FieldChange[]) => {
        for (const change of changes) {
          const key = `${change.column}\u0000${change.from}\u0000${change.to}`;
          const entry = transitions.get(key);
          if (entry) entry.count++;
          else if (transitions.size < MAX_TRANSITIONS) transitions.set(key, { ...change, count: 1 });
        }
      },
    });
    const plan: UpdatePlan = {
      changes: planStats.updated,
      transitions: [...transitions.values()].sort((a, b) => b.count - a.count),
      stats: planStats,
    };
    hooks.onPlanReady?.(plan);
    if (planStats.fatal || planStats.interrupted || dryRun) return { plan };
    if (options.maxChanges !== undefined && plan.changes > options.maxChanges) {
      throw new ExitError(
        1,
        `Stopped before writing anything: ${plan.changes} contacts would change, more than --max-changes ${options.maxChanges}.`,
        'RUN_GUARD',
      );
    }
    // A resumed run goes on even with nothing left to change: it finishes the journal and the
    // undo file of the run it completes (every PATCH may have landed before the stop).
    if (plan.changes === 0 && !importOptions.resume) return { plan, stats: { ...planStats, dryRun: false } };
    if (plan.changes > 0 && hooks.confirm && !(await hooks.confirm(plan))) {
      throw new ExitError(1, 'Stopped before writing anything: not confirmed.', 'RUN_GUARD');
    }
    importOptions = { ...importOptions, undoPath: chooseUndoPath(importOptions, journalPath, hooks.onNote) };
    if (journalPath && !importOptions.resume) writeRunMeta(journalPath, { undoPath: importOptions.undoPath });
    // A resumed run keeps the undo rows of the run it finishes.
    const undoPath = importOptions.undoPath;
    const earlierUndo = importOptions.resume && undoPath ? await setAsideEarlierUndo(undoPath) : undefined;
    try {
      const stats = await runImport(importOptions, hooks);
      return { plan, stats };
    } finally {
      if (earlierUndo && undoPath) await mergeEarlierUndo(earlierUndo, undoPath);
    }
  } finally {
    if (spool) rmSync(spool, { recursive: true, force: true });
    // A completed run removed its journal: its side files (undo path, selection) go with it.
    if (journalPath && !existsSync(journalPath)) removeRunState(journalPath);
  }
}

/**
 * The undo file of this run. A resumed run writes to the one of the run it finishes
 * (kept beside the journal); any other run never overwrites an existing undo file.
 */
function chooseUndoPath(options: ImportOptions, journalPath: string | undefined, onNote?: (message: string) => void): string | undefined {
  const asked = options.undoPath;
  if (!asked) return undefined;
  if (options.resume) {
    const kept = journalPath ? readRunMeta(journalPath)?.undoPath : undefined;
    if (kept && kept !== asked) onNote?.(`resuming: the undo rows go to ${kept}, the undo file of the run being finished`);
    return kept ?? asked;
  }
  const free = freeUndoPath(asked);
  if (free !== asked) onNote?.(`${asked} exists (an earlier run's undo file, kept as it is); this run's undo file is ${free}`);
  return free;
}

/** Writes the contacts a filter selects as an `id,email` CSV, page by page. */
async function writeSelection(client: PylonClient, filter: Filter, path: string, signal?: AbortSignal): Promise<void> {
  async function* rows(): AsyncGenerator<string[]> {
    let cursor: string | undefined;
    const seen = new Set<string>();
    for (;;) {
      const page = await client.searchContacts({ filter, limit: 999, ...(cursor ? { cursor } : {}) }, { signal });
      for (const contact of page.data as Contact[]) yield [contact.id, contact.email ?? ''];
      if (!page.hasNextPage) return;
      if (!page.cursor || seen.has(page.cursor)) {
        throw new PylonCliError('PYLON_PAGINATION', `Search pagination broke off (request_id ${page.requestId})`);
      }
      seen.add(page.cursor);
      cursor = page.cursor;
    }
  }
  await pipeline(Readable.from(rows()), stringify({ header: true, columns: ['id', 'email'] }), createWriteStream(path));
}
