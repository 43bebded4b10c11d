import { filtersOnEmail, noteCaseSensitiveEmailFilter } from '../import/lookup.js';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { processAlive } from '../output/process-alive.js';
import { createTempDir } from '../output/temp-dir.js';
import { checkWritable } from '../output/output-file.js';
import { basename, dirname, join } from 'node:path';
import { stringify } from 'csv-stringify';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { PylonClient } from '../pylon/api.js';
import type { Contact, Filter } from '../pylon/types.js';
import { ConfigError, ExitError } from '../errors.js';
import { paginate } from '../pylon/paginate.js';
import { resolveFilter } from '../pylon/filter-expr.js';
import { importRows, UNDO_CLEAR_TOKEN, type ImportStats, type RunImportHooks } from '../import/run-import.js';
import { callsSoFar, etaSeconds, interruptedAtStart, stoppedAtStart } from '../import/stats.js';
import type { EndpointKey } from '../config.js';
import { apiFailure, interruptedBy } from '../run/run-control.js';
import { refuseOutputOnInput, writeSettingsOf, type ImportOptions } from '../import/options.js';
import type { FieldChange } from '../import/plan.js';
import type { RowIssue } from '../import/desired.js';
import { withUndoRun } from '../run/undo-run.js';
import { canonicalJson, readRemovalState, removalsJournalPathFor, removeRemovalState, removeRunState, selectionPathFor, writeRemovalState } from '../run/run-state.js';
import { open, readFile } from 'node:fs/promises';
import { fileSource, newPlan, writePlanFile, type PlannedContact, type SavedPlan } from './plan-file.js';
import { fetchTarget, TOOL_VERSION, type RunTarget } from './target.js';
import { applyJournalKey, fileHash, runApply, type ApplyContact } from './apply.js';
import { checkSettings, holdJournal, refuseUnfinished, type JournalHold, type JournalKey } from '../run/journal.js';
import { checkInputPath, openInput } from '../input/open-input.js';
import { hostOf } from './target.js';
import { ServerMemory } from '../import/clears.js';
import { planRemovals } from './sync.js';
import { isConditionalUndo, ORGANIZATION_COLUMN, plannedFromUndoRow, readUndoRows } from './undo-rows.js';
import { counted } from '../plural.js';

export type Transition = { column: string; from: string; to: string; count: number };

/** How many contacts change, and from what to what. */
export interface UpdatePlan {
  changes: number;
  /** "portal_role: member → admin" → number of contacts, most frequent first. */
  transitions: Transition[];
  stats: ImportStats;
  /** --sync: contacts not in the file that lose the --set values (shown apart). */
  removals?: PlannedContact[];
  removalTransitions?: Transition[];
  /** Where the run goes (host, and organisation from GET /me). */
  target?: RunTarget;
  /** Applying an undo file: reverts only what still holds the value the run set. */
  undo?: boolean;
}

export interface UpdateOptions {
  import: ImportOptions;
  /** Selects contacts through search instead of a file. */
  where?: Filter;
  /** The --where expression as typed (recorded in saved plans). */
  whereExpression?: string;
  /** Abort with zero writes when more contacts than this would change. */
  maxChanges?: number;
  /** Write the plan here and stop: nothing is written to Pylon (apply it with `apply`). */
  planOut?: string;
  /** The command line, secrets removed (recorded in saved plans). */
  command?: string;
  /** Desired-state sync: everyone else holding the --set values gets these. */
  sync?: { others: Record<string, string>; maxRemovals: number };
  /** Undo files: revert even where the value changed since the run. */
  force?: boolean;
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
  /** --plan-out: the plan written. */
  saved?: SavedPlan;
}

const MAX_TRANSITIONS = 1000;

/**
 * Two phases over the same rows: a dry run that counts what would change (read
 * calls only), the guard and the confirmation, then the real run, which writes
 * the undo file. The real run computes its diffs again, and reads each contact
 * again just before its PATCH: a field changed by someone since the lookup fails
 * the row ROW_DRIFTED (write-policy.ts rereadBeforePatch; `apply` of a saved plan
 * is the exact alternative: see plan-file.ts and apply.ts).
 */
export async function runUpdate(options: UpdateOptions, hooks: UpdateHooks): Promise<UpdateResult> {
  const started = Date.now();
  try {
    return await planAndRun(options, hooks);
  } catch (error) {
    const writing = !options.import.dryRun && !options.planOut;
    if (interruptedBy(error, hooks.signal)) {
      // Ctrl-C before the plan was made (GET /me unanswered): a stop while planning, with the journal the run kept, if it had begun one.
      const journal = writing && options.import.journalPath && existsSync(options.import.journalPath) ? options.import.journalPath : undefined;
      const planStats = interruptedAtStart(hooks.client, true, started);
      return { plan: { changes: 0, transitions: [], stats: planStats }, ...(writing ? { stats: { ...planStats, planning: true, journalPath: journal } } : {}) };
    }
    // A wrong token or a host down before the plan was made (GET /me, the --where selection, the --sync removals):
    // nothing was written, and the run resolves with the failure as `fatal`, as a stop while planning does.
    const fatal = apiFailure(error);
    if (fatal === undefined) throw error;
    const planStats = stoppedAtStart(hooks.client, true, fatal, started);
    return { plan: { changes: 0, transitions: [], stats: planStats }, ...(writing ? { stats: { ...planStats, planning: true } } : {}) };
  }
}

async function planAndRun(options: UpdateOptions, hooks: UpdateHooks): Promise<UpdateResult> {
  let spool: string | undefined;
  let removals: PlannedContact[] | undefined;
  const dryRun = options.import.dryRun;
  // Undo files mark values that were empty with UNDO_CLEAR_TOKEN: apply them as they are.
  let importOptions: ImportOptions = { ...options.import, mode: 'update', clearToken: options.import.clearToken ?? UNDO_CLEAR_TOKEN };
  const journalPath = dryRun || options.planOut ? undefined : importOptions.journalPath;
  if (options.planOut) importOptions = { ...importOptions, journalPath: undefined };
  let hold: JournalHold | undefined;
  let planResults: string | undefined;
  try {
    if (!options.where && importOptions.input !== '-') refuseOutputOnInput(importOptions);
    if (options.planOut) await checkWritable([{ path: options.planOut, option: '--plan-out' }]);
    // Held from before anything is read to the end of the real run (plan, confirmation, writes): a second run
    // of this input meanwhile is refused (exit 2), and once begun, a stop at any point leaves the journal for --resume.
    if (journalPath) {
      await checkWritable([{ path: journalPath, option: '--journal' }]);
      hold = holdJournal(journalPath);
    }
    // --sync: a resumed run whose listed contacts were all done has only its removals left (kept beside the journal).
    importOptions = { ...importOptions, journalSettings: updateSettingsOf(options) };
    const settings = writeSettingsOf(importOptions);
    const state = journalPath && importOptions.resume ? readRemovalState<PlannedContact>(journalPath) : undefined;
    // Only the removals are left: their state records the run's options (the run's journal, which did, is gone).
    if (state?.settings && !existsSync(journalPath!)) checkSettings(removalsJournalPathFor(journalPath!), state.settings, settings);
    const pending = options.sync ? state : undefined;
    const listedDone = pending !== undefined && !existsSync(journalPath!);
    if (options.sync && journalPath && !importOptions.resume) refuseUnfinished(removalsJournalPathFor(journalPath), 'update');
    // The journal is checked before anything is read or written: a re-run, a resume of nothing, or of another file, host or version stops here.
    // Read once: whether the input is an undo file decides the journal check and the path the run takes.
    const undoInput = !options.where && importOptions.input !== '-' && (await readsAsUndoFile(importOptions.input));
    if (hold && !listedDone && !options.where && importOptions.input !== '-' && !undoInput) {
      hold.begin(await journalKeyOf(importOptions.input, importOptions), importOptions.resume);
    }
    const target = await fetchTarget(hooks.client, importOptions.connection.baseUrl, hooks.signal);
    // Undo rows name the organisation: `update <undo file>` refuses a file of another one.
    importOptions = { ...importOptions, undoOrganization: target.organization?.id };
    if (undoInput && !options.planOut && !options.sync) {
      return await runUndoFile(options, importOptions, target, { ...hooks, journalHold: hold });
    }
    if (options.where) {
      // A field Pylon cannot filter on is a usage error here, not a server 400 after the run began.
      // Sent as resolveFilter rewrites it (an operator the field allows); plans and the journal keep the --where as given.
      const search = importOptions.resume && journalPath ? options.where : resolveFilter(options.where, await hooks.client.listCustomFields({ signal: hooks.signal }), '--where', hooks.onNote);
      // A case-sensitive email search selects fewer contacts than the filter says: said before the selection is read.
      if (!importOptions.resume && filtersOnEmail(search)) {
        await noteCaseSensitiveEmailFilter(hooks.client, '--where', 'To match addresses whatever their case, list them in a file instead: `update <file> --set …` reads the contact list to match each one exactly.', hooks.onNote, hooks.signal);
      }
      let input: string;
      if (journalPath) {
        // A --where run keeps its selection beside its journal: --resume works through the same contacts.
        input = selectionPathFor(journalPath);
        if (importOptions.resume && !existsSync(input)) {
          throw new ConfigError(
            'CONFIG_RESUME_MISMATCH',
            `Cannot resume: there is no interrupted run of this --where and --set to finish (no ${input}). A run stopped before it kept its selection (while reading it) wrote nothing: run the same command without --resume. A run that completed left nothing to finish.`,
            { option: '--resume' },
          );
        }
        if (!importOptions.resume) {
          refuseUnfinished(journalPath, 'update');
          // A selection cut short (Ctrl-C while it is read) is not kept: the journal is not begun yet, the run wrote nothing,
          // and its summary says to run the same command again (a half selection would only make --resume refuse another way).
          await writeSelection(hooks.client, search, input, hooks.signal).catch((error: unknown) => {
            rmSync(input, { force: true });
            throw error;
          });
        }
        hold!.begin(await journalKeyOf(input, importOptions), importOptions.resume);
      } else {
        spool = createTempDir('where');
        input = join(spool, 'selection.csv');
        await writeSelection(hooks.client, search, input, hooks.signal);
      }
      importOptions = { ...importOptions, input };
    }

    // The plan's outcomes are the run's when there is nothing to change (no write follows): its results go to a
    // staging file beside --results, which becomes the results file then (and goes otherwise: the real run writes its own).
    if (importOptions.resultsPath) sweepDeadPlanResults(importOptions.resultsPath);
    planResults = !dryRun && !options.planOut && !importOptions.resume && importOptions.resultsPath ? planResultsPathFor(importOptions.resultsPath) : undefined;
    const keepPlanResults = (): string | undefined => {
      if (!planResults || !existsSync(planResults)) return undefined;
      renameSync(planResults, importOptions.resultsPath!);
      return importOptions.resultsPath;
    };
    const transitions = new Map<string, Transition>();
    const entries: PlannedContact[] = [];
    // --sync: the contacts the file names (every contact a row matched, from the plan hook), kept out of the removals.
    const keep = new Set<string>();
    const planStats = await importRows(
      { ...importOptions, dryRun: true, journalPath: undefined, resultsPath: options.import.dryRun ? options.import.resultsPath : planResults, resultsWithChanges: options.import.dryRun, rereadBeforePatch: true },
      {
        ...hooks,
        onPlan: (line, _action, changes: readonly FieldChange[], contact) => {
          countTransitions(transitions, changes);
          if (options.planOut && contact.id) entries.push({ id: contact.id, ...(contact.email ? { email: contact.email } : {}), line, changes: changes.map((c) => ({ ...c })) });
        },
        ...(options.sync ? { onMatch: (_line: number, id: string) => void keep.add(id) } : {}),
      },
    );
    if (options.sync && !planStats.fatal && !planStats.interrupted) {
      if (planStats.failed > 0) {
        throw new ExitError(
          1,
          `Stopped before writing anything: ${counted(planStats.failed, 'row')} of the file failed (see ${planStats.errorsPath}); --sync would take the value from contacts the file may mean to keep. Fix the rows and run again.`,
          'RUN_GUARD',
        );
      }
      // A resumed run applies the removals it fixed before its first write: those it applied no longer hold the value.
      removals = pending?.removals ?? (await planRemovals(hooks.client, { set: importOptions.set, others: options.sync.others }, keep, hooks.signal));
    }
    const removalTransitions = new Map<string, Transition>();
    for (const r of removals ?? []) countTransitions(removalTransitions, r.changes);
    const plan: UpdatePlan = {
      // PATCHes, not rows counted updated: a row whose clear the server does not take fails, yet its other changes go out.
      // (Contacts: a row's second PATCH, emails, is no second contact.)
      changes: planStats.plannedCalls?.patch !== undefined ? planStats.plannedCalls.patch - (planStats.plannedFollowUps ?? 0) : planStats.updated,
      transitions: sortTransitions(transitions),
      stats: planStats,
      target,
      ...(removals ? { removals, removalTransitions: sortTransitions(removalTransitions) } : {}),
    };
    hooks.onPlanReady?.(plan);
    // A run stopped while it planned wrote nothing; its journal (kept when interrupted) lets --resume plan again.
    if ((planStats.fatal || planStats.interrupted) && !dryRun && !options.planOut) return { plan, stats: stoppedWhilePlanning(planStats, hooks, journalPath) };
    if (planStats.fatal || planStats.interrupted) return { plan };
    // --plan-out writes the plan with --dry-run too: making a plan changes nothing in Pylon.
    if (dryRun && !options.planOut) return { plan: { ...plan, stats: dryRunStats(plan, importOptions, hooks.client, options) } };
    if (options.planOut) {
      const saved = newPlan({
        toolVersion: TOOL_VERSION,
        command: options.command ?? 'update',
        target,
        source: options.where ? { kind: 'where', expression: options.whereExpression, filter: options.where } : fileSource(options.import.input, fileHash),
        set: importOptions.set,
        ...(options.sync ? { sync: { others: options.sync.others } } : {}),
        changes: entries,
        removals: removals ?? [],
        unchanged: planStats.unchanged,
        failed: planStats.failed,
        ...(options.maxChanges !== undefined || options.sync
          ? { guard: { ...(options.maxChanges !== undefined ? { maxChanges: options.maxChanges } : {}), ...(options.sync ? { maxRemovals: options.sync.maxRemovals } : {}) } }
          : {}),
      });
      await writePlanFile(options.planOut, saved);
      // The plan is written, for review, and its --max-changes verdict given now as a dry run's is (exit 1): apply
      // enforces the guards the plan carries. A --sync beyond --max-removals is not refused here: the plan is how
      // its removals are reviewed, and apply refuses it unless given a larger --max-removals.
      const verdict = guardVerdict(plan.changes, removals?.length ?? 0, { ...options, sync: undefined });
      if (verdict) return { plan: { ...plan, stats: { ...plan.stats, wouldStop: { code: 'RUN_GUARD', message: `apply would stop before writing anything: ${verdict}` } } }, saved };
      return { plan, saved };
    }
    checkGuards(plan.changes, removals?.length ?? 0, options);
    // A resumed run goes on even with nothing left to change: it finishes the journal and the
    // undo file of the run it completes (every PATCH may have landed before the stop).
    const removing = removals?.length ?? 0;
    // Nothing to change, so no undo file: the one at the undo path (if any) is an earlier run's, and neither the summary nor the audit record may name it.
    if (plan.changes === 0 && removing === 0 && !importOptions.resume) return { plan, stats: { ...planStats, dryRun: false, undoPath: undefined, resultsPath: keepPlanResults() } };
    if (plan.changes + removing > 0 && hooks.confirm && !(await confirmed(hooks, plan, hold))) {
      throw new ExitError(1, 'Stopped before writing anything: not confirmed.', 'RUN_GUARD');
    }
    const nothingLeft = { ...planStats, dryRun: false, updated: 0, unchanged: planStats.unchanged, resultsPath: plan.changes === 0 ? keepPlanResults() : undefined };
    let stats: ImportStats;
    if (listedDone) {
      // Only the removals of the interrupted run are left; they go to its undo file. The file's rows were all done
      // by it: their outcomes are those it recorded (this run's plan finds them unchanged, as it left them).
      const listed = pending!.listed;
      stats = listed ? { ...nothingLeft, ...listed, resumed: nothingLeft.total } : nothingLeft;
      importOptions = { ...importOptions, undoPath: pending!.undoPath };
    } else {
      stats = await withUndoRun({ asked: importOptions.undoPath, resume: importOptions.resume, journalPath, journalBegun: hold?.created, onNote: hooks.onNote }, async (undoPath) => {
        importOptions = { ...importOptions, undoPath };
        // Fixed before the first write: a resume applies these removals, whatever the store holds by then.
        if (journalPath && removals && removals.length > 0) writeRemovalState(journalPath, { undoPath, removals, settings });
        return plan.changes > 0 || importOptions.resume ? await importRows({ ...importOptions, rereadBeforePatch: true }, { ...hooks, journalHold: hold }) : nothingLeft;
      });
    }
    if (removals && removals.length > 0 && !stats.fatal && !stats.interrupted) {
      if (journalPath && !listedDone) {
        // The file's rows are done and their journal gone: their outcomes are kept for a resume of the removals alone.
        const { created, updated, unchanged, skipped, failed } = stats;
        writeRemovalState(journalPath, { undoPath: importOptions.undoPath, removals, settings, listed: { created, updated, unchanged, skipped, failed } });
      }
      stats = await applyRemovals(removals, importOptions, stats, hooks, journalPath);
    }
    return { plan, stats };
  } finally {
    // A journal this run created and never wrote to goes (a guard, the confirmation or nothing to change stopped it), unless Ctrl-C did.
    hold?.release({ keep: hooks.signal?.aborted === true });
    if (spool) rmSync(spool, { recursive: true, force: true });
    if (planResults) rmSync(planResults, { force: true });
    // A completed run removed its journal: its side files (undo path, selection, removals) go with it.
    if (journalPath && !existsSync(journalPath)) {
      removeRunState(journalPath);
      if (!existsSync(removalsJournalPathFor(journalPath))) removeRemovalState(journalPath);
    }
  }
}

/**
 * Where the plan of a real run writes its results: beside the results file (a rename puts it in place), or nowhere when
 * the results go to a special file (/dev/stdout), which the real run writes in place.
 */
function planResultsPathFor(resultsPath: string): string | undefined {
  try {
    if (!statSync(resultsPath).isFile()) return undefined;
  } catch {
    // Not there yet: a file is made.
  }
  return join(dirname(resultsPath), `.${basename(resultsPath)}.plan-${process.pid}.csv`);
}

/**
 * Removes the plan staging files (and their temporary copies) that runs no longer running left beside the results file:
 * a run killed with -9 never reaches the `finally` that removes its own. Its pid is in the name; a live run's stay.
 */
function sweepDeadPlanResults(resultsPath: string): void {
  const dir = dirname(resultsPath);
  const name = basename(resultsPath).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // .<results>.plan-<pid>.csv, and its copy being written, ..<results>.plan-<pid>.csv.<pid>.partial (output-file.ts).
  const staged = new RegExp(`^\\.\\.?${name}\\.plan-(\\d+)\\.csv(?:\\.\\d+\\.partial)?$`);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return; // no folder yet: nothing was left there
  }
  for (const entry of entries) {
    const pid = staged.exec(entry)?.[1];
    if (pid !== undefined && !processAlive(Number(pid))) rmSync(join(dir, entry), { force: true });
  }
}

/** Asks for confirmation. A Ctrl-C at the question is an answer (nothing was written): the journal goes with the run, as for a no. */
async function confirmed(hooks: UpdateHooks, plan: UpdatePlan, hold: JournalHold | undefined): Promise<boolean> {
  try {
    return await hooks.confirm!(plan);
  } catch (error) {
    hold?.discardUnused();
    throw error;
  }
}

/** The stats of a writing run that stopped while it planned: a plan's counts, no write, and the journal when it is kept (Ctrl-C). */
function stoppedWhilePlanning(planStats: ImportStats, hooks: UpdateHooks, journalPath: string | undefined): ImportStats {
  const kept = journalPath !== undefined && hooks.signal?.aborted === true;
  return { ...planStats, planning: true, plannedCalls: undefined, etaSeconds: undefined, resultsPath: undefined, journalPath: kept ? journalPath : undefined };
}

function countTransitions(into: Map<string, Transition>, changes: readonly FieldChange[]): void {
  for (const change of changes) {
    const key = `${change.column}\u0000${change.from}\u0000${change.to}`;
    const entry = into.get(key);
    if (entry) entry.count++;
    else if (into.size < MAX_TRANSITIONS) into.set(key, { column: change.column, from: change.from, to: change.to, count: 1 });
  }
}

const sortTransitions = (map: Map<string, Transition>) => [...map.values()].sort((a, b) => b.count - a.count);

/**
 * --max-changes (every contact the run would change: the file's and the --sync removals) and, for --sync,
 * --max-removals (the removals again, on their own): why the run would stop before its first write, if it would.
 */
function guardVerdict(changes: number, removals: number, options: UpdateOptions): string | undefined {
  const total = changes + removals;
  if (options.maxChanges !== undefined && total > options.maxChanges) {
    const split = removals > 0 ? ` (${changes} of the file's, ${removals} --sync removals)` : '';
    return `${counted(total, 'contact')} would change${split}, more than --max-changes ${options.maxChanges}.`;
  }
  if (options.sync && removals > options.sync.maxRemovals) {
    return `--sync would take the value from ${counted(removals, 'contact')} not in the file, more than --max-removals ${options.sync.maxRemovals}. Review them with --plan-out, then raise --max-removals.`;
  }
  return undefined;
}

function checkGuards(changes: number, removals: number, options: UpdateOptions): void {
  const verdict = guardVerdict(changes, removals, options);
  if (verdict) throw new ExitError(1, `Stopped before writing anything: ${verdict}`, 'RUN_GUARD');
}

/**
 * A dry run's stats, counted as the real run would: the --sync removals are among the contacts updated and
 * their PATCHes (and the reads that check them, 100 a search, and one GET each just before its PATCH) among the calls planned; and the guards'
 * verdict, which the real run would stop on (`wouldStop`: the dry run exits 1 too).
 */
function dryRunStats(plan: UpdatePlan, importOptions: ImportOptions, client: PylonClient, options: UpdateOptions): ImportStats {
  const stats = { ...plan.stats };
  const removals = plan.removals?.length ?? 0;
  if (removals > 0) {
    stats.syncRemovals = removals;
    stats.updated += removals;
    const calls = { ...client.stats.calls };
    stats.plannedCalls = { ...calls, create: stats.plannedCalls?.create ?? 0, patch: (stats.plannedCalls?.patch ?? 0) + removals, search: calls.search + Math.ceil(removals / 100), get: calls.get + removals };
    const { rates, rateWindowMs } = importOptions.connection;
    stats.etaSeconds = Math.max(...Object.entries(stats.plannedCalls).map(([e, n]) => ((n ?? 0) * rateWindowMs) / 1000 / rates[e as keyof typeof rates]), 0);
  }
  const verdict = guardVerdict(plan.changes, removals, options);
  if (verdict) stats.wouldStop = { code: 'RUN_GUARD', message: `the real run would stop before writing anything: ${verdict}` };
  return stats;
}

/**
 * The removals of a --sync, applied as planned (a contact changed since is drifted), after the file's changes.
 * They have their own journal beside the run's (`--resume` finishes them after a kill); their undo rows go into
 * the run's undo file, after the rows of the file's changes, so the undo file the summary names holds every
 * change made, at every stop (Ctrl-C, a full disk) as at the end.
 */
async function applyRemovals(removals: PlannedContact[], importOptions: ImportOptions, stats: ImportStats, hooks: UpdateHooks, runJournal: string | undefined): Promise<ImportStats> {
  const undoPath = importOptions.undoPath;
  const journalPath = runJournal ? removalsJournalPathFor(runJournal) : undefined;
  const resume = importOptions.resume && journalPath !== undefined && existsSync(journalPath);
  const errorsPath = importOptions.errorsPath.replace(/(\.csv)?$/i, '.removals$1');
  const result = await withUndoRun({ asked: undoPath, append: true, resume, journalPath, onNote: hooks.onNote }, (path) =>
    runApply(
      {
        source: { path: importOptions.input, hash: 'sync' },
        contacts: removals,
        connection: importOptions.connection,
        force: false,
        errorsPath,
        undoPath: path,
        organizationId: importOptions.undoOrganization,
        journalPath,
        resume,
        readBatch: 100,
      },
      { client: hooks.client, signal: hooks.signal, onNote: hooks.onNote },
    ),
  );
  if (result.failed === 0) rmSync(errorsPath, { force: true });
  else stats.warnings.push(`${result.failed} removals failed or drifted: see ${errorsPath}`);
  hooks.onNote?.(`--sync: ${counted(result.updated, 'contact')} not in the file changed to the --others values, ${result.unchanged} already had them, ${result.failed} failed`);
  // The file's rows stay `total`; the removals are counted among the outcomes, and apart as `syncRemovals`.
  return {
    ...stats,
    syncRemovals: result.total,
    updated: stats.updated + result.updated,
    unchanged: stats.unchanged + result.unchanged,
    failed: stats.failed + result.failed,
    notProcessed: stats.notProcessed + result.notProcessed,
    resumed: stats.resumed + result.resumed,
    fatal: stats.fatal ?? result.fatal,
    interrupted: stats.interrupted || result.interrupted,
    undoPath: undoPath,
    durationMs: stats.durationMs + result.durationMs,
  };
}

async function readsAsUndoFile(path: string): Promise<boolean> {
  checkInputPath(path);
  const file = await open(path, 'r');
  const buffer = Buffer.alloc(64 * 1024);
  const { bytesRead } = await file.read(buffer, 0, buffer.length, 0).finally(() => file.close());
  const head = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
  const firstLine = head.split(/\r?\n/, 1)[0] ?? '';
  return isConditionalUndo(firstLine.split(',').map((h) => h.trim().replace(/^"|"$/g, '')));
}

/**
 * `update <undo file>` when the file records the values the run set: a plan read
 * from the file and applied exactly, each field reverted only where it still holds
 * that value (ROW_DRIFTED otherwise; `force` reverts anyway).
 */
async function runUndoFile(options: UpdateOptions, importOptions: ImportOptions, target: RunTarget, hooks: UpdateHooks & { journalHold?: JournalHold }): Promise<UpdateResult> {
  const path = importOptions.input;
  if (!importOptions.dryRun) {
    await checkWritable(
      [
        { path: importOptions.errorsPath, option: '--errors' },
        { path: importOptions.undoPath, option: '--undo' },
        { path: importOptions.journalPath, option: '--journal' },
        { path: importOptions.resultsPath, option: '--results' },
      ].filter((t): t is { path: string; option: string } => t.path !== undefined),
    );
  }
  const { header, rows } = readUndoRows(await readFile(path, 'utf8'), path);
  checkUndoOrganization(path, header, rows.map((r) => r.cells), target);
  const contacts = rows.map(({ line, cells }) => undoRowContact(header, line, cells));
  const hash = fileHash(path);
  hooks.journalHold?.begin(applyJournalKey({ source: { path, hash: hash.sha256 }, contacts, connection: importOptions.connection, force: Boolean(options.force) }), importOptions.resume);
  const base = {
    source: { path, hash: hash.sha256 },
    contacts,
    connection: importOptions.connection,
    organizationId: target.organization?.id,
    force: Boolean(options.force),
    errorsPath: importOptions.errorsPath,
    resultsPath: importOptions.resultsPath,
    readBatch: 100,
    input: { header },
    // What import runs learnt about this host's PATCH email: the dry run counts the second PATCH the real run sends.
    memory: new ServerMemory(hostOf(importOptions.connection.baseUrl), importOptions.clearMemoryPath, target.organization?.id),
  };
  // A dry pass reads and compares: the plan shows what is reverted and what drifted since,
  // and its totals count the changes of the contacts that change (not of every row).
  // A row that changes counts even when it also fails (a field it cannot restore, left as it is: see apply.ts).
  const transitions = new Map<string, Transition>();
  let changing = 0;
  const onPlan = (_entry: PlannedContact, changes: readonly FieldChange[]) => {
    changing++;
    countTransitions(transitions, changes);
  };
  const before = callsSoFar(hooks.client);
  const planStats = await runApply({ ...base, resume: false, dryRun: true }, { client: hooks.client, signal: hooks.signal, onPlan });
  if (importOptions.dryRun && planStats.plannedCalls) {
    // The real run reads and compares first too (this pass), then applies: this pass's reads are made twice.
    const calls = { ...planStats.plannedCalls };
    for (const [endpoint, n] of Object.entries(callsSoFar(hooks.client)) as Array<[EndpointKey, number]>) calls[endpoint] = (calls[endpoint] ?? 0) + n - (before[endpoint] ?? 0);
    planStats.plannedCalls = calls;
    planStats.etaSeconds = etaSeconds(calls, importOptions.connection);
  }
  const plan: UpdatePlan = { changes: changing, transitions: sortTransitions(transitions), stats: planStats, target, undo: true };
  hooks.onPlanReady?.(plan);
  if ((planStats.fatal || planStats.interrupted) && !importOptions.dryRun) return { plan, stats: stoppedWhilePlanning(planStats, hooks, importOptions.journalPath) };
  if (planStats.fatal || planStats.interrupted || importOptions.dryRun) return { plan };
  checkGuards(plan.changes, 0, options);
  if (plan.changes === 0 && !importOptions.resume) {
    if (planStats.failed === 0 && planStats.unchanged > 0) hooks.onNote?.(`every contact of ${path} already holds the undo's values: it was applied before, or the changes were reverted by hand`);
    return { plan, stats: { ...planStats, dryRun: false, undoPath: undefined, plannedCalls: undefined, etaSeconds: undefined } };
  }
  if (plan.changes > 0 && hooks.confirm && !(await confirmed(hooks, plan, hooks.journalHold))) throw new ExitError(1, 'Stopped before writing anything: not confirmed.', 'RUN_GUARD');
  const journalPath = importOptions.journalPath;
  const stats = await withUndoRun({ asked: importOptions.undoPath, resume: importOptions.resume, journalPath, journalBegun: hooks.journalHold?.created, onNote: hooks.onNote }, (undoPath) =>
    runApply({ ...base, undoPath, journalPath, resume: importOptions.resume }, { client: hooks.client, signal: hooks.signal, onNote: hooks.onNote, onProgress: hooks.onProgress, journalHold: hooks.journalHold }),
  );
  return { plan, stats };
}

/**
 * One row of an undo file as a contact to apply. Each keeps its line in the file and its cells
 * as read: the reports name the line the user sees, and the error report repeats the row as
 * written (`_set.…` and `_organization` included), so it is an undo file again. A row with no
 * id, or with no previous value to restore, is settled from its cells: it gets its outcome in
 * its place (failed, or skipped with the reason), in the dry run as in the real one.
 */
function undoRowContact(header: readonly string[], line: number, cells: readonly string[]): ApplyContact {
  const failed = (id: string, issue: RowIssue): ApplyContact => {
    const email = cells[header.indexOf('email')] || undefined;
    return { id, ...(email ? { email } : {}), line, cells, changes: [], settled: { outcome: 'failed', issue } };
  };
  // A row with more or fewer cells than the header (a value with an unquoted comma, a cell lost in an edit) would be read with its
  // values under the wrong columns and restore them into the wrong fields: it fails, as a ragged row of an import does.
  if (cells.length !== header.length) {
    const extra = cells.length > header.length ? `; cells beyond the header: ${JSON.stringify(cells.slice(header.length))}` : '';
    return failed((cells[header.indexOf('id')] ?? '').trim(), {
      code: 'ROW_MALFORMED',
      message: `This undo row has ${cells.length} cells and the header ${header.length}: read as it is, its values would be restored into the wrong fields, so nothing was restored for it${extra}. Quote the values that hold commas (or put back the missing cells), then apply this error report with \`pylon-contacts update <report>\``,
    });
  }
  const planned = plannedFromUndoRow(header, cells);
  if (!planned) {
    return failed('', {
      code: 'ROW_ID_REQUIRED',
      field: 'id',
      message: `This undo row has no id, and an undo file finds the contact it restores by its id only (the run may have changed its email). Put the contact's id in the id column, then apply this error report with \`pylon-contacts update <report>\``,
    });
  }
  if (planned.changes.length === 0) {
    return { ...planned, line, cells, settled: { outcome: 'skipped', message: "Nothing to restore: none of the row's field columns holds a previous value" } };
  }
  return { ...planned, line, cells };
}

/** Refuses (exit 2, before any call that writes) an undo file whose rows name another organisation than the token's. */
function checkUndoOrganization(path: string, header: readonly string[], body: readonly string[][], target: RunTarget): void {
  const column = header.indexOf(ORGANIZATION_COLUMN);
  const here = target.organization?.id;
  if (column < 0 || !here) return;
  const other = body.map((cells) => cells[column] ?? '').find((org) => org !== '' && org !== here);
  if (other === undefined) return;
  throw new ConfigError(
    'PLAN_OTHER_TARGET',
    `${path} holds the previous values of contacts of organisation ${other}; this token belongs to ${target.organization!.name} (${here}). Nothing was changed: check --token, --base-url and PYLON_BASE_URL.`,
    { option: '--token' },
  );
}

/** Writes the contacts a filter selects as an `id,email` CSV, page by page. */
async function writeSelection(client: PylonClient, filter: Filter, path: string, signal?: AbortSignal): Promise<void> {
  async function* rows(): AsyncGenerator<string[]> {
    const pages = paginate((cursor) => client.searchContacts({ filter, limit: 999, ...(cursor ? { cursor } : {}) }, { signal }), { signal });
    for await (const page of pages) for (const contact of page.data as Contact[]) yield [contact.id, contact.email ?? ''];
  }
  await pipeline(Readable.from(rows()), stringify({ header: true, columns: ['id', 'email'] }), createWriteStream(path));
}

/**
 * The options of an update that decide what is written beyond the import's, as its journal records them:
 * --where (the selection), --sync and each --others value (what the contacts not in the file get).
 */
function updateSettingsOf(options: UpdateOptions): Record<string, string> {
  const settings: Record<string, string> = {};
  if (options.where) settings['--where'] = options.whereExpression ?? canonicalJson(options.where);
  if (options.sync) {
    settings['--sync'] = 'true';
    for (const [column, value] of Object.entries(options.sync.others)) settings[`--others ${column}`] = value;
  }
  return settings;
}

/** The journal key of an update of `path` (the file, or a --where run's selection). */
async function journalKeyOf(path: string, options: ImportOptions): Promise<JournalKey> {
  const input = await openInput(path);
  try {
    return { input: await input.fingerprint(), mode: 'update', host: hostOf(options.connection.baseUrl), settings: writeSettingsOf(options) };
  } finally {
    input.close();
  }
}
