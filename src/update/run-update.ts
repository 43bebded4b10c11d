import { rmSync } from 'node:fs';
import { createTempDir } from '../output/temp-dir.js';
import { join } from 'node:path';
import { stringify } from 'csv-stringify';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { PylonClient } from '../pylon/api.js';
import type { Contact, Filter } from '../pylon/types.js';
import { ExitError } from '../errors.js';
import { paginate } from '../pylon/paginate.js';
import { runImport, UNDO_CLEAR_TOKEN, type ImportStats, type RunImportHooks } from '../import/run-import.js';
import type { ImportOptions } from '../import/options.js';
import type { FieldChange } from '../import/plan.js';
import { mergeEarlierUndo, setAsideEarlierUndo } from './undo-file.js';

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
 * someone in between is patched only where it still differs.
 */
export async function runUpdate(options: UpdateOptions, hooks: UpdateHooks): Promise<UpdateResult> {
  let spool: string | undefined;
  try {
    // Undo files mark values that were empty with UNDO_CLEAR_TOKEN: apply them as they are.
    let importOptions: ImportOptions = { ...options.import, mode: 'update', clearToken: options.import.clearToken ?? UNDO_CLEAR_TOKEN };
    if (options.where) {
      spool = createTempDir('where');
      const input = join(spool, 'selection.csv');
      await writeSelection(hooks.client, options.where, input, hooks.signal);
      importOptions = { ...importOptions, input, journalPath: undefined };
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
    if (planStats.fatal || planStats.interrupted || options.import.dryRun) return { plan };
    if (options.maxChanges !== undefined && plan.changes > options.maxChanges) {
      throw new ExitError(
        1,
        `Stopped before writing anything: ${plan.changes} contacts would change, more than --max-changes ${options.maxChanges}.`,
        'RUN_GUARD',
      );
    }
    if (plan.changes === 0) return { plan, stats: { ...planStats, dryRun: false } };
    if (hooks.confirm && !(await hooks.confirm(plan))) {
      throw new ExitError(1, 'Stopped before writing anything: not confirmed.', 'RUN_GUARD');
    }
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
  }
}

/** Writes the contacts a filter selects as an `id,email` CSV, page by page. */
async function writeSelection(client: PylonClient, filter: Filter, path: string, signal?: AbortSignal): Promise<void> {
  async function* rows(): AsyncGenerator<string[]> {
    const pages = paginate((cursor) => client.searchContacts({ filter, limit: 999, ...(cursor ? { cursor } : {}) }, { signal }), { signal });
    for await (const page of pages) for (const contact of page.data as Contact[]) yield [contact.id, contact.email ?? ''];
  }
  await pipeline(Readable.from(rows()), stringify({ header: true, columns: ['id', 'email'] }), createWriteStream(path));
}
