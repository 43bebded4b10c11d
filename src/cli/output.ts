import { existsSync } from 'node:fs';
import type { ImportStats } from '../import/run-import.js';
import type { CliContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { formatDuration } from './progress.js';
import { describeTarget, type RunTarget } from '../update/target.js';
import { counted } from '../plural.js';

const n = (value: number) => value.toLocaleString('en-US');
/** A dry run by search: how many of a count hang on an external id search cannot find (the warnings say why). */
const uncertain = (value: number | undefined) => (value ? ` (${n(value)} uncertain: external ids search cannot find; --lookup list is exact)` : '');

function calls(stats: { calls: Record<string, number> }): string {
  const parts = Object.entries(stats.calls)
    .filter(([, count]) => count > 0)
    .map(([endpoint, count]) => `${endpoint} ${n(count)}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** The exit code an import/update run ends with (README: Exit codes). */
export function importExitCode(stats: ImportStats): number {
  if (stats.fatal || stats.wouldStop) return EXIT.FATAL;
  if (stats.interrupted) return EXIT.INTERRUPTED;
  if (stats.failed > 0 || (stats.duplicatesCreated?.length ?? 0) > 0) return EXIT.PARTIAL;
  return EXIT.OK;
}

/**
 * The summary's undo line. A run stopped by an error (a full disk, say) may not have written the undo
 * rows of its last changes, or the file at all: they are in its journal, and --resume completes the file.
 */
/** The drift line's verb for its count: "was left as it is" for one contact. */
const leftAsIs = (count: number) => (count === 1 ? 'was left as it is' : 'were left as they are');

function undoLine(stats: ImportStats, path: string): string {
  const resume = stats.journalPath ? 'run the same command with --resume: it finishes the run and completes the undo file from the journal' : undefined;
  if (!existsSync(path)) {
    return `  undo file: not written (the run stopped before it could write ${path})${resume ? `; ${resume}` : ''}`;
  }
  if (stats.fatal && resume) return `  undo file: ${path} (incomplete: it may lack the previous values of the last contacts changed; ${resume})`;
  const kept = stats.undoKeepsExternalIds ?? 0;
  // Never "restores the previous values" when part of a change cannot be put back: say which.
  const except = kept > 0 ? `, except the external ids of ${counted(kept, 'contact')}, changed by an interrupted run that did not record their label: those stay (put them back in Pylon if they must)` : '';
  return `  undo file: ${path} (pylon-contacts update ${path} restores the previous values${except})`;
}

/** Human summary on stderr; with --json the stats object on stdout. */
export function printImportSummary(stats: ImportStats, ctx: CliContext, options: { json: boolean; verb: string; input: string; target?: RunTarget; /** The command that applies the plan to exactly the ROW_DRIFTED contacts anyway. */ driftHint?: string; /** An undo file applied: its error report holds the failed rows as written, and this command (`update <report>`) applies it again. */ undoRetry?: string; /** An import that kept an undo file: say that the contacts it created are not in it, and where their ids are. */ createdApart?: boolean; /** An undo file was asked for: a run that changed nothing says it wrote none. */ noUndoNeeded?: boolean }) {
  const lines: string[] = [];
  const dry = stats.dryRun;
  const state = (stats.fatal ? 'stopped' : stats.interrupted ? 'interrupted' : dry ? 'planned' : 'done') + (stats.planning ? ' while planning' : '');
  lines.push(`${options.verb} ${options.input}: ${state} after ${formatDuration(stats.durationMs / 1000)}, ${counted(stats.total, 'row')} read${stats.syncRemovals ? ` and ${counted(stats.syncRemovals, 'contact')} not in the file (--sync)` : ''}`);
  if (options.target) lines.push(`  target: ${describeTarget(options.target)}`);
  if (stats.total === 0 && options.verb.startsWith('Import') && !stats.fatal && !stats.interrupted) {
    // Stdin says the same as a file: a pipe from an export that matched nothing is as easy to miss.
    const [source, what] = options.input === '-' ? ['stdin', 'input'] : [options.input, 'file'];
    lines.push(`  note: ${source} has a header line and no data rows, so there was nothing to do; check that this is the ${what} you meant (an export that matched nothing looks like this)`);
  }
  const outcome = dry
    ? `  would create ${n(stats.created)}${uncertain(stats.uncertainByExternalId?.created)}, would update ${n(stats.updated)}${uncertain(stats.uncertainByExternalId?.updated)}, unchanged ${n(stats.unchanged)}, skipped ${n(stats.skipped)}, failed ${n(stats.failed)}`
    : `  created ${n(stats.created)}, updated ${n(stats.updated)}, unchanged ${n(stats.unchanged)}, skipped ${n(stats.skipped)}, failed ${n(stats.failed)}`;
  if (stats.planning) {
    // An update plans every row before its first write: stopped there, it wrote nothing, and its counts are a plan's.
    lines.push('  nothing was written: the run plans every row before its first write, and it stopped while planning');
    lines.push(`  planned so far: ${outcome.trim()}`);
    const next = stats.journalPath ? 'run the same command with --resume to plan and run it' : 'run the same command again';
    lines.push(stats.notProcessed > 0 ? `  not planned: ${counted(stats.notProcessed, 'row')} — ${next}` : `  next: ${next}`);
  } else {
    lines.push(outcome);
    if (stats.resumed > 0) {
      // The counts above cover every row; those an earlier run finished are replayed from its journal, whatever their outcome.
      const thisRun = stats.created + stats.updated + stats.unchanged + stats.skipped + stats.failed - stats.resumed;
      lines.push(`  of these, ${n(stats.resumed)} ${stats.resumed === 1 ? 'row was' : 'rows were'} done by the earlier run (${stats.resumed === 1 ? 'its outcome' : 'their outcomes'} read back from its journal) and ${n(thisRun)} by this run`);
    }
  }
  if (stats.notProcessed > 0 && !stats.planning) {
    // A dry run keeps no journal and writes nothing to Pylon: it is simply run again.
    const next = dry
      ? `the dry run stopped before planning them; run it again${stats.fatal ? ' once the error below is fixed' : ''}`
      : stats.journalPath
      ? 'run the same command with --resume to finish'
      : options.input === '-'
        ? 'no journal was kept for stdin; import the same input again (rows already done are found unchanged)'
        : 'no journal was kept; run the same command again (contacts already done are found unchanged)';
    lines.push(`  not processed: ${counted(stats.notProcessed, 'row')} — ${next}`);
  } else if (stats.interrupted && !stats.planning && !dry && stats.total === 0) {
    // Ctrl-C before the first row was read (GET /me unanswered): say what is left, as for rows not processed.
    lines.push(`  nothing was written: the run was interrupted before it read its first row; ${stats.journalPath ? 'run the same command with --resume to finish' : 'run the same command again'}`);
  }
  lines.push(`  API calls: ${calls(stats)}; retries ${n(stats.retries)}, rate-limited ${n(stats.rateLimited)}${stats.lookupStrategy ? `; lookup by ${stats.lookupStrategy}` : ''}`);
  if (dry && stats.plannedCalls && !stats.planning) {
    const planned = Object.entries(stats.plannedCalls)
      .filter(([, c]) => (c ?? 0) > 0)
      .map(([e, c]) => `${e} ${n(c ?? 0)}`)
      .join(', ');
    // Counted from the rows planned: a dry run that stopped short would understate the real run's calls.
    if (stats.notProcessed > 0) lines.push(`  the real run: not known, since ${counted(stats.notProcessed, 'row')} ${stats.notProcessed === 1 ? 'was' : 'were'} not planned (so far: ${planned || 'no calls'})`);
    else lines.push(`  the real run: ${planned || 'no calls'}; about ${formatDuration(stats.etaSeconds ?? 0)} at the configured rates`);
  }
  const drifted = (stats as ImportStats & { drifted?: number }).drifted ?? 0;
  if (drifted > 0 && options.undoRetry) {
    // The report holds the undo rows as written (with the values the run set): applied again, it is checked again.
    lines.push(`  drifted: ${counted(drifted, 'contact')} changed since the run and ${leftAsIs(drifted)} (ROW_DRIFTED in ${stats.errorsPath})`);
    lines.push(`    to revert exactly those contacts anyway: ${options.undoRetry} --force`);
  } else if (drifted > 0) {
    // The report holds the planned values: importing it would override the edits made since, unchecked.
    lines.push(`  drifted: ${counted(drifted, 'contact')} changed since the plan and ${leftAsIs(drifted)} (ROW_DRIFTED in ${stats.errorsPath})`);
    lines.push('    the report holds the planned values, not the current ones: do not import it. Make a new plan to review the current values');
    if (options.driftHint) lines.push(`    or apply the plan to exactly those contacts anyway: ${options.driftHint}`);
  }
  // A report the run could not write (a full disk) is named as such, never as a file to open; one a stop left short says so.
  const resume = stats.journalPath ? 'run the same command with --resume: it writes it again, complete' : undefined;
  for (const { report, path } of stats.unwritten ?? []) lines.push(`  ${report === 'errors' ? 'error report' : 'results'}: not written (the run stopped before it could write ${path})${resume ? `; ${resume}` : ''}`);
  const short = stats.notProcessed > 0 ? ` (incomplete: the ${counted(stats.notProcessed, 'row')} not processed ${stats.notProcessed === 1 ? 'is' : 'are'} not in it${resume ? `; ${resume}` : ''})` : '';
  if (stats.failed > 0 && stats.errorsPath) {
    if (!existsSync(stats.errorsPath)) lines.push(`  error report: not written (the run stopped before it could write ${stats.errorsPath})${resume ? `; ${resume}` : ''}`);
    else if (short) lines.push(`  error report: ${stats.errorsPath}${short}`);
    else if (options.undoRetry) lines.push(`  error report: ${stats.errorsPath} (the undo file's rows that failed, as written: fix them, then run ${options.undoRetry})`);
    else if (drifted === 0) lines.push(`  error report: ${stats.errorsPath} (fix the rows and import that file again)`);
    else lines.push(`  error report: ${stats.errorsPath}`);
  }
  if (stats.resultsPath) lines.push(`  results: ${stats.resultsPath}${short}`);
  // Also with no contact counted updated: a PATCH left unanswered by a stop may have been applied, and its undo row is in the file.
  if (stats.undoPath && !dry && (stats.updated > 0 || existsSync(stats.undoPath))) lines.push(undoLine(stats, stats.undoPath));
  else if (options.noUndoNeeded && !dry && !stats.undoPath && stats.updated === 0) lines.push('  undo file: none written, since no contact was changed (there is nothing to undo)');
  if (options.createdApart && !dry && stats.created > 0) {
    // An undo file restores changed fields and never deletes: the created contacts are listed apart, if at all.
    const where = stats.resultsPath ? `their ids are in ${stats.resultsPath} (the rows whose _action is created)` : 'their ids were not recorded (run with --results <file> to list them)';
    lines.push(`  created contacts: ${n(stats.created)}, not in the undo file (it restores the contacts the run changed and never deletes any); ${where}`);
  }
  if (stats.filtered) lines.push(`  filtered: ${n(stats.filtered)} of the skipped rows (deleted in the source, or not contacts; each row's _message in --results says why)`);
  if (stats.phonesDropped) lines.push(`  phone numbers dropped: ${n(stats.phonesDropped)} (not valid numbers for their country; each row's _message in --results says which)`);
  for (const warning of stats.warnings) lines.push(`  warning: ${warning}`);
  const duplicates = stats.duplicatesCreated ?? [];
  if (duplicates.length > 0) {
    lines.push(`  duplicate contacts: ${n(duplicates.length)} emails this run created are held by more than one contact (a create that timed out landed after it was checked):`);
    for (const d of duplicates.slice(0, 20)) lines.push(`    line ${d.line}: ${d.email} → ${d.ids.join(', ')}`);
    if (duplicates.length > 20) lines.push(`    … and ${n(duplicates.length - 20)} more (--json lists them all)`);
    lines.push('    keep one contact per email: delete the others in Pylon (or merge them there), then import the file again to check');
  }
  if (stats.wouldStop) lines.push(`  guard: ${stats.wouldStop.message}`);
  if (stats.fatal) lines.push(`  fatal (${stats.fatal.code}): ${stats.fatal.message}${stats.journalPath ? ' — fix it and run again with --resume' : ''}`);
  ctx.stderr.write(lines.join('\n') + '\n');
  if (options.json) ctx.stdout.write(JSON.stringify(options.target ? { ...stats, target: options.target } : stats) + '\n');
}
