import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { PylonClient } from '../pylon/api.js';
import { connect, noteLongWaits } from '../pylon/connect.js';
import { ENDPOINTS, type EndpointKey } from '../config.js';
import { ConfigError } from '../errors.js';
import { checkWritable } from '../output/output-file.js';
import { checkSetFields, fileColumnNamer, missingHeaderHint, resolveColumns } from './columns.js';
import type { CompiledTransform } from './transform.js';
import type { RowIssue } from './desired.js';
import { createDuplicateTracker, scanDuplicates } from './dedupe.js';
import { createRowPreparer, reportColumnsOf } from './prepare-row.js';
import { createDispatcher, type ChunkRow } from './dispatch.js';
import { verifyNoDuplicates } from './duplicate-check.js';
import { createLookup, type Lookup } from './lookup.js';
import { hostOf } from '../update/target.js';
import { writeSettingsOf, type ImportOptions } from './options.js';
import { holdJournal, type JournalHold } from '../run/journal.js';
import type { FieldChange } from './plan.js';
import { apiFailure, RunControl } from '../run/run-control.js';
import { openRun, refreshStats, type WriteRun } from '../run/open-run.js';
import { withUndoRun } from '../run/undo-run.js';
import { callsSoFar, createImportStats, type ImportStats } from './stats.js';
import { SearchVisibility, waitForEarlierWrites } from './search-visibility.js';
import { ServerMemory } from './clears.js';
import { createWritePolicy, idempotencyKeyOf, type PendingRow } from './write-policy.js';
import type { OutcomeLedger, RowRef } from '../run/ledger.js';
import { openInput } from '../input/open-input.js';
import { prepareMigration, type Migration } from './migrate.js'; // migration (issue 13)

export type { ImportStats } from './stats.js';
export { UNDO_CLEAR_TOKEN } from '../run/undo-writer.js';

export interface RunImportHooks {
  signal?: AbortSignal;
  onProgress?: (stats: ImportStats) => void;
  onNote?: (message: string) => void;
  /** Use this client instead of building one from the options (tests, library use). */
  client?: PylonClient;
  /** Where `-` reads from (defaults to process.stdin). */
  stdin?: Readable;
  /** Dry run: called with each planned create/update and its field changes. */
  /** [ops: issue 12] with the contact (id and email), for saved plans. */
  onPlan?: (line: number, action: 'create' | 'update', changes: readonly FieldChange[], contact: { id?: string; email?: string | null }) => void;
  /** Dry run: called with the contact each row matched (one it would update, or one that already holds the row's values). */
  onMatch?: (line: number, contactId: string) => void;
  /** The journal, held by the caller (update holds it from before it plans); without it the run holds its own. */
  journalHold?: JournalHold;
}

const CHUNK_ROWS = 500;

/**
 * Imports the file (see `importRows`). A run that writes keeps the previous values of every contact it
 * changes in its undo file (`options.undoPath`: by default `<input>.undo.csv`, as the CLI's), through
 * the undo file's lifecycle: an existing one is never replaced (this run writes `<name>-2.csv`), a
 * `--resume` completes the interrupted run's, and a run that changed no existing contact leaves none.
 */
export async function runImport(options: ImportOptions, hooks: RunImportHooks = {}): Promise<ImportStats> {
  if (!options.undoPath || options.dryRun) return importRows(options, hooks);
  const stats = await withUndoRun({ asked: options.undoPath, resume: options.resume, journalPath: options.journalPath, onNote: hooks.onNote }, (undoPath) =>
    importRows({ ...options, undoPath }, hooks),
  );
  if (stats.undoPath && !existsSync(stats.undoPath)) stats.undoPath = undefined;
  return stats;
}

/**
 * Streams the file, validates each row, finds existing contacts a chunk at a time
 * and sends the creates and patches through a bounded pool. Every row read ends
 * in exactly one outcome (the ledger), or is counted as not processed when the
 * run stops (the run control) and left for `--resume`. The undo file's lifecycle is the caller's
 * (`runImport`, or update's, which holds it across its plan and its run).
 */
export async function importRows(options: ImportOptions, hooks: RunImportHooks = {}): Promise<ImportStats> {
  const started = Date.now();
  const note = (message: string) => hooks.onNote?.(message);
  const input = await openInput(options.input, options, hooks.stdin);
  const client = hooks.client ?? connect(options.connection, { onEvent: noteLongWaits(note) });
  const stats = createImportStats({ calls: client.stats.calls, dryRun: options.dryRun, errorsPath: options.errorsPath, resultsPath: options.resultsPath, undoPath: options.undoPath, journalPath: options.journalPath });
  const control = new RunControl(hooks.signal);
  // Ctrl-C or a fatal stop: what waits (a paced request, a backoff) ends at once, so a stop ends the run whatever the concurrency.
  const { signal } = control;
  // migration (issue 13): any input format, through the preset's / map's transform when there is one.
  let migration: Migration | undefined;
  const openSource = () => input.rows(migration?.active ? migration.transform : undefined);
  let run: WriteRun | undefined;
  let lookup: Lookup | undefined;
  let hold = hooks.journalHold;
  try {
    // Nothing is sent before every output is known to be writable.
    await checkWritable([
      { path: options.errorsPath, option: '--errors' },
      ...(options.resultsPath ? [{ path: options.resultsPath, option: '--results' }] : []),
      ...(options.undoPath ? [{ path: options.undoPath, option: '--undo' }] : []),
      ...(options.journalPath ? [{ path: options.journalPath, option: '--journal' }] : []),
    ]);
    // The journal is held (no other run of this input meanwhile), checked (a changed input or other --set values stop
    // a resume) and on disk before the first read: a stop from here on, whatever it interrupts, leaves it for --resume.
    const fingerprint = options.journalPath || options.idempotencyKey === 'external-id' ? await input.fingerprint() : undefined;
    const journalKey = options.journalPath ? { input: fingerprint!, mode: options.mode, host: hostOf(options.connection.baseUrl), settings: writeSettingsOf(options) } : undefined;
    if (options.journalPath) {
      hold ??= holdJournal(options.journalPath);
      hold.begin(journalKey!, options.resume);
    }
    const customFieldList = await client.listCustomFields({ signal });
    const customFields = new Map(customFieldList.map((f) => [f.slug, f]));
    // A --set field is checked as a flag, not a header: --ignore-unknown-columns never drops one.
    checkSetFields(Object.keys(options.set), customFieldList);
    // One pass gives the header and then the rows (a duplicate pre-scan or a --create-accounts scan, when asked for, are the only others).
    // It is opened before the migration is decided: the migration reads the header through it, and its transform, if any, applies when the rows are read.
    /** The rows pass's transform: its source columns name the columns a failed row's checks name. */
    let compiled: CompiledTransform | undefined;
    const rowSource = input.rows((sourceHeader) => (migration?.active ? (compiled = migration.transform!(sourceHeader)) : undefined));
    migration = await prepareMigration(options, { input, pass: rowSource }, client, {
      signal,
      onNote: note,
      // Accounts created are writes: a stop after them keeps the journal (--resume reads the account list again and finds them).
      onWrite: () => hold?.markUsed(),
      recheckMs: options.connection.timeoutMs,
    }); // migration (issue 13)
    const header = await rowSource.header();
    // migration (issue 13): the error report keeps the rows as read; columns resolve against the transformed header.
    const reportHeader = await rowSource.sourceHeader();
    const mapping = migration.active ? undefined : migration.rename;
    // --set values behave as extra columns present in every row.
    const columns = withOtherSheets(rowSource.warnings, () => {
      const resolved = resolveColumns([...header, ...Object.keys(options.set)], { map: mapping, ignoreUnknown: options.ignoreUnknownColumns, customFields: customFieldList, setFrom: header.length });
      if (options.mode !== 'create' && !resolved.hasEmail && !resolved.hasId) {
        // Only an upsert can become a create: `update` (and `import --mode update`) is not offered --mode create.
        const hint = missingHeaderHint(resolved.ignored);
        throw new ConfigError(
          'CONFIG_INVALID_OPTION',
          `The file has no email or id column, so rows cannot be matched to contacts. ${hint || `Add one${options.mode === 'upsert' ? ', or use --mode create' : ' (a header named email or id)'}.`}`,
          { option: options.mode === 'upsert' ? '--mode' : '<file>' },
        );
      }
      // A plain file's external ids take --external-id-label where the file names no label (a migration's rows carry theirs).
      if (options.externalIdLabel && resolved.indexOf.external_id !== undefined) resolved.defaultExternalIdLabel = options.externalIdLabel;
      // A migration's checks name the source column a field is copied from (`Email`), as the file spells it, not the map's output (`email`).
      for (const column of resolved.columns) column.header = compiled?.sourceColumns[column.header] ?? column.header;
      return resolved;
    });
    // An update whose only column is the one that finds each contact (email, or id) has nothing to
    // change: it would read every contact and report them all unchanged. Said before any lookup.
    if (options.mode === 'update' && Object.keys(options.set).length === 0 && columns.fields.length === 1 && (columns.hasEmail || columns.hasId)) {
      const key = columns.hasEmail ? 'email' : 'id';
      const file = options.input === '-' ? 'stdin' : options.input;
      throw new ConfigError(
        'CONFIG_INVALID_OPTION',
        `${file} has only an ${key} column, which finds each contact: there is nothing to change. ` +
          `Say what to set: the same value for every contact with \`update ${options.input} --set field=value\` (e.g. --set portal_role=admin), or columns holding the values to set (e.g. portal_role).`,
        { option: '--set' },
      );
    }
    stats.warnings.push(...columns.warnings, ...(migration.warnings ?? []));
    stats.estimatedRows = input.estimatedRows;
    run = await openRun({
      kind: options.mode === 'update' ? 'update' : 'import',
      stats,
      client,
      started,
      control,
      ...(hold && journalKey ? { journal: { path: hold.path, key: journalKey, resume: options.resume, hold } } : {}),
      errors: { path: options.errorsPath, header: reportHeader },
      ...(options.resultsPath ? { results: { path: options.resultsPath, withChanges: options.resultsWithChanges ?? options.dryRun } } : {}),
      ...(options.undoPath && !options.dryRun ? { undo: { path: options.undoPath, fieldColumns: columns.fields, organizationId: options.undoOrganization, skipEmpty: true } } : {}),
      concurrency: options.connection.concurrency,
      onProgress: hooks.onProgress,
      onNote: note,
    });
    const { journal, ledger, pool, undo } = run;
    // What earlier runs learnt about this host: which "" clears it does not take (the dry run counts those clears as the real run does),
    // how long its search lags and when a run last wrote to it (a lookup by search waits for those writes to show).
    // Kept per organisation (GET /me, already read by a real run for its audit log): another organisation on this host may answer otherwise.
    const organization = options.undoOrganization ?? (options.clearMemoryPath ? (await client.me({ signal })).data.id : undefined);
    const clears = new ServerMemory(hostOf(options.connection.baseUrl), options.clearMemoryPath, organization);
    lookup = await createLookup({
      client,
      strategy: options.lookup,
      estimatedRows: stats.estimatedRows,
      batchSize: options.lookupBatch,
      byId: columns.hasId,
      signal,
      onNote: note,
      beforeLookup: () => waitForEarlierWrites(clears, signal, note),
    });
    stats.lookupStrategy = lookup.strategy;
    const scanned = options.onDuplicate === 'first' ? undefined : await scanDuplicates(openSource(), columns, options.onDuplicate, stats.estimatedRows, lookup.heldKeys);
    // The pre-scan read every row: progress counts against their number, not the estimate from the file's start.
    if (scanned) stats.estimatedRows = scanned.rows;
    const duplicates = scanned ?? createDuplicateTracker(stats.estimatedRows, lookup.heldKeys);

    const accountIds = new Map<string, string | null>();
    const planContext = { mode: options.mode, customFields, accountIdForExternalId: (ext: string) => accountIds.get(ext) ?? undefined, clears };
    const uncertain = new Map<string, number>();
    /** Lines of rows without an email whose create Pylon answered without the contact's id. */
    const createdWithoutId: number[] = [];
    const visibility = new SearchVisibility(client, signal, note, (lagMs) => clears.learnSearchLag(lagMs, note));
    // Each contact write is recorded for the next run (clears.noteWrite), which waits for search to show it when search lags.
    const beforeSend = (line: number, update?: { id: string; email?: string | null; changes: FieldChange[]; replaced?: string }) => {
      clears.noteWrite(note);
      journal?.sent(line, update);
    };
    const policy = createWritePolicy({ client, planContext, timeoutMs: options.connection.timeoutMs, signal, undo, visibility, rereadBeforePatch: options.rereadBeforePatch && !options.dryRun, onNote: note, beforeSend, notApplied: (line) => journal?.unsent(line), idempotencyKey: options.idempotencyKey === 'external-id' ? (row) => idempotencyKeyOf(fingerprint!.sha256, row) : undefined, onUncertainCreate: (email, line) => uncertain.set(email, line), onCreatedWithoutId: (line) => createdWithoutId.push(line) });
    // --create-accounts creates the accounts before the rows are written (a row's server-side failure, such as an external id
    // another contact holds, is known only when it is sent): each created account's rows are counted, linked or failed.
    const accountRows = new Map<string, { linked: number; failed: number[] }>();
    const tally = (row: RowRef, failed: boolean) => {
      const desired = (row as Partial<PendingRow>).desired;
      const id = desired?.account_id ?? desired?.account_id_if_unset; // --account-overwrite, or not
      if (!id || !migration?.createdAccounts?.has(id)) return;
      const entry = accountRows.get(id) ?? { linked: 0, failed: [] };
      if (failed) entry.failed.push(row.line);
      else entry.linked++;
      accountRows.set(id, entry);
    };
    // A failed row's `_error_field` names the file's column, whichever check failed it (the later ones know the field only).
    const fileColumnOf = fileColumnNamer(columns, reportHeader);
    const inFileTerms = (issue: RowIssue): RowIssue => (issue.field === undefined ? issue : { ...issue, field: fileColumnOf(issue.field) });
    const dispatchLedger: OutcomeLedger = {
      ...ledger,
      record: (row, outcome, detail) => (tally(row, outcome === 'failed'), ledger.record(row, outcome, detail)),
      fail: (row, issue, detail) => (tally(row, true), ledger.fail(row, inFileTerms(issue), detail)),
      replay: (row, previous) => ledger.replay(row, previous),
      notProcessed: (rows) => ledger.notProcessed(rows),
      close: (o) => ledger.close(o),
    };
    const dispatcher = createDispatcher({ client, lookup, pool, ledger: dispatchLedger, control, policy, planContext, accountIds, checkAccountIds: migration.accountStats === undefined, journal, undo, dryRun: options.dryRun, timeoutMs: options.connection.timeoutMs, signal, onPlan: hooks.onPlan, onMatch: hooks.onMatch, onUncertainCreate: (email, line) => uncertain.set(email, line), onNote: note, visibility, fileLineOf: (key) => duplicates.firstLine(key) });

    const datesAsMidnight = { count: 0 };
    const preparation = { columns, validation: { customFields, clearToken: options.clearToken, lenient: options.lenient, datesAsMidnight }, options: { ...options, externalIdsPerLabel: clears.externalIdUnderOtherLabel()?.takes ?? false }, headerWidth: reportHeader.length, report: reportColumnsOf(reportHeader) };
    const prepare = createRowPreparer({ ...preparation, duplicates, journal });
    // migration: --create-accounts creates the accounts of the rows that will be written, judged by the same checks on a
    // pass of their own (a duplicate index of its own under `first`; the pre-scan's, which only reads, under last|error).
    let accountCreates = 0;
    if (migration.createAccounts) {
      // Its own tally: the rows pass counts the dates of the run's warning.
      const check = createRowPreparer({ ...preparation, validation: { ...preparation.validation, datesAsMidnight: { count: 0 } }, duplicates: options.onDuplicate === 'first' ? createDuplicateTracker(stats.estimatedRows) : duplicates });
      accountCreates = await migration.createAccounts((item) => check(item).kind === 'lookup');
    }
    migration.settle?.(false); // the duplicate pre-scan's last row is no row of this pass
    // A report line that cannot be written (a full disk) stops the run as it does for a row the dispatcher writes:
    // the row is not processed (its journal entry, if written, replays it on --resume), and the summary follows.
    const settle = async (outcome: () => Promise<void>) => {
      try {
        await outcome();
      } catch (error) {
        if (control.judge(error) !== 'stop') throw error;
        ledger.notProcessed();
      }
    };
    let chunk: ChunkRow[] = [];
    let chunkKeys = 0;
    /** Rows --mode create sends with nothing to find their contact by later (no email, id or external id). */
    let unkeyed = 0;
    // One iterator for the whole file: after a stop the rest is only counted (leaving `for await` would close the source).
    const rows = rowSource[Symbol.asyncIterator]();
    for (let next = await rows.next(); !next.done; next = await rows.next()) {
      stats.total++;
      if (control.stopped) {
        ledger.notProcessed();
        continue;
      }
      if (next.value.phonesDropped) stats.phonesDropped = (stats.phonesDropped ?? 0) + next.value.phonesDropped;
      const prepared = prepare(next.value);
      // A row's account match counts in the summary when the row goes on to be written, or fails on its account; a replayed row
      // as it did in the run that did it (not when it failed as an in-file duplicate), so a resumed run counts what an uninterrupted one does.
      if (migration.settle) {
        const judged = prepared.kind === 'replay' ? prepared.judged() : prepared;
        migration.settle(judged.kind === 'lookup' || (judged.kind === 'fail' && judged.issue.code === 'ROW_ACCOUNT_AMBIGUOUS'));
      }
      if (prepared.kind === 'replay') {
        // A row the filters left out in the run that did it counts as filtered here too, as in an uninterrupted run.
        if (next.value.skip !== undefined) stats.filtered = (stats.filtered ?? 0) + 1;
        // Its contact stays its own: a later row naming it is a duplicate, as in an uninterrupted run.
        dispatcher.replayed(prepared.row.line, prepared.previous);
        await settle(() => ledger.replay(prepared.row, prepared.previous));
      } else if (prepared.kind === 'skip') {
        // A row the preset's or map's filters leave out (deleted, not a contact): a skipped outcome, counted apart too.
        stats.filtered = (stats.filtered ?? 0) + 1;
        await settle(() => ledger.record(prepared.row, 'skipped', { message: prepared.message }));
      }
      else if (prepared.kind === 'fail') await settle(() => ledger.fail(prepared.row, inFileTerms(prepared.issue)));
      else {
        chunk.push(prepared.row);
        if (prepared.row.key) chunkKeys++;
        else unkeyed++;
        if (chunkKeys >= options.lookupBatch || chunk.length >= CHUNK_ROWS) {
          await dispatcher.dispatch(chunk);
          chunk = [];
          chunkKeys = 0;
        }
      }
    }
    if (control.stopped) ledger.notProcessed(chunk.length);
    else await dispatcher.dispatch(chunk);
    await pool.drain();
    // Rows found by email at another record's contact: decided now that every row has been read.
    await dispatcher.finishOtherRecords();
    await pool.drain();
    await dispatcher.finishDeferred();
    stats.warnings.push(...rowSource.warnings);
    if (datesAsMidnight.count > 0) {
      const n = datesAsMidnight.count;
      stats.warnings.push(
        `${n} date${n === 1 ? '' : 's'} without a time ${n === 1 ? 'was' : 'were'} read as midnight UTC (…T00:00:00Z) for a datetime field. If another time or zone is meant, write it with its offset (2024-11-02T09:00:00+01:00)`,
      );
    }
    if (unkeyed > 0) {
      stats.warnings.push(
        `${unkeyed} row${unkeyed === 1 ? ' has' : 's have'} no email, id or external id: nothing can find ${unkeyed === 1 ? 'its contact' : 'their contacts'} again, so every run of this file creates ${unkeyed === 1 ? 'it' : 'them'} anew (a second run would duplicate ${unkeyed === 1 ? 'it' : 'them'}). Before running the file again, give such rows an id column (--external-id-column), or remove the rows already imported`,
      );
    }
    if (createdWithoutId.length > 0) {
      const n = createdWithoutId.length;
      const lines = createdWithoutId.sort((a, b) => a - b);
      stats.warnings.push(
        `${n} create${n === 1 ? ' was' : 's were'} answered with success but without the contact's id, for ${n === 1 ? 'a row' : 'rows'} without an email (line${n === 1 ? '' : 's'} ${lines.slice(0, 10).join(', ')}${n > 10 ? ', …' : ''}): counted as created, but nothing confirms ${n === 1 ? 'it' : 'them'} and the results hold no id. Check ${n === 1 ? 'it' : 'them'} in Pylon; a row without an external id must not be imported again, or its contact is created twice`,
      );
    }
    for (const line of migration.summary()) note(line); // migration (issue 13)
    for (const [id, { linked, failed }] of accountRows) {
      if (linked > 0 || failed.length === 0) continue;
      const lines = failed.sort((a, b) => a - b);
      stats.warnings.push(
        `--create-accounts created the account ${JSON.stringify(migration.createdAccounts!.get(id))} (${id}) for rows that then failed (line${lines.length === 1 ? '' : 's'} ${lines.slice(0, 10).join(', ')}${lines.length > 10 ? ', …' : ''}): no contact is linked to it. Fix the rows and import the error report (they are matched to it then), or delete the account in Pylon`,
      );
    }
    if (uncertain.size > 0 && !control.stopped) {
      await visibility.settle();
      stats.duplicatesCreated = await verifyNoDuplicates(client, uncertain, options.lookupBatch, signal);
    }
    const unknown = options.dryRun ? dispatcher.createsByExternalIdUnknown : 0;
    const unknownUpdates = options.dryRun ? dispatcher.updatesByExternalIdUnknown : 0;
    // No documented call finds a contact by external id but the list: the summary line says how many counts hang on it.
    if (unknown + unknownUpdates > 0) stats.uncertainByExternalId = { created: unknown, updated: unknownUpdates };
    if (unknown > 0) {
      stats.warnings.push(
        `${unknown} of the creates counted ${unknown === 1 ? 'is a row' : 'are rows'} with an external id, which a lookup by search cannot find: where a contact already holds that id (its email changed in the source), the real run updates it instead of creating one (after Pylon refuses the create), so it may create fewer and update more than counted here. Run the dry run with --lookup list to count them exactly`,
      );
    }
    if (unknownUpdates > 0) {
      stats.warnings.push(
        `${unknownUpdates} of the updates counted ${unknownUpdates === 1 ? 'adds' : 'add'} the row's external id to its contact, and a lookup by search cannot see whether another contact holds that id under another label: where one does and the server refuses that (Pylon documents external ids as unique), the real run fails the row ROW_EXTERNAL_ID_TAKEN. Run the dry run with --lookup list to count them exactly`,
      );
    }
    if (options.dryRun) {
      // The accounts --create-accounts would make are creates of the real run too (POST /accounts, the create bucket).
      const calls = callsSoFar(client);
      // A row replacing a primary on a host whose PATCH email keeps it sends a second PATCH (emails): counted as a call, not a contact.
      stats.plannedCalls = { ...calls, create: dispatcher.planned.create + accountCreates, patch: dispatcher.planned.patch + dispatcher.planned.followUp };
      if (dispatcher.planned.followUp > 0) stats.plannedFollowUps = dispatcher.planned.followUp;
      if (dispatcher.planned.search > 0) stats.plannedCalls.search = (calls.search ?? 0) + dispatcher.planned.search;
      // update reads each contact again just before its PATCH (rereadBeforePatch): one GET each, in a bucket of its own.
      if (options.rereadBeforePatch) stats.plannedCalls.get = (stats.plannedCalls.get ?? 0) + dispatcher.planned.patch;
      stats.etaSeconds = Math.max(...Object.entries(stats.plannedCalls).map(([e, n]) => ((n ?? 0) * options.connection.rateWindowMs) / 1000 / options.connection.rates[e as EndpointKey]), 0);
    }
    await run.close({ complete: stats.notProcessed === 0 });
    return stats;
  } catch (error) {
    // A run that stopped before its first row leaves no report behind (its journal is the hold's: kept when interrupted).
    await run?.abort({ nothingDone: stats.total === 0 });
    // A call let go by a fatal stop (made outside a row: a lookup, the late checks) ends the run with that stop's error.
    if (control.fatal !== undefined && control.isAbort(error)) {
      stats.fatal = control.describeFatal();
      refreshStats(stats, client, started);
      return stats;
    }
    // Ctrl-C before the first row (e.g. while reading the contact list) is an interruption, not a failure.
    if (control.isAbort(error)) {
      stats.interrupted = true;
      refreshStats(stats, client, started);
      return stats;
    }
    // A wrong token or a host down at the start (the custom fields, the lookup) ends the run as it would mid-run: resolved, with its code.
    const failure = apiFailure(error);
    if (failure === undefined) throw error;
    stats.fatal = failure;
    if (stats.total === 0) Object.assign(stats, { errorsPath: null, resultsPath: undefined }); // no report was left behind
    refreshStats(stats, client, started);
    return stats;
  } finally {
    // A journal this run created and never wrote to goes, unless Ctrl-C stopped the run: --resume then finds it.
    if (hold && hold !== hooks.journalHold) hold.release({ keep: hooks.signal?.aborted === true });
    // Stopped before the journal held anything, the run leaves none (here or at the caller's release): there is nothing to resume.
    if (stats.fatal && hold?.created && !hold.used && !hooks.signal?.aborted) stats.journalPath = undefined;
    lookup?.close();
    if (!hooks.client) client.close?.();
    input.close();
  }
}


/**
 * Runs a header check; a usage error it throws for a workbook read at its first sheet without --sheet (a README
 * sheet before the data, say) also names the other sheets and --sheet: the reader's warning says which they are.
 */
function withOtherSheets<T>(readerWarnings: readonly string[], check: () => T): T {
  try {
    return check();
  } catch (error) {
    const sheets = readerWarnings.find((w) => / has \d+ sheets; read the first, /.test(w));
    if (!(error instanceof ConfigError) || sheets === undefined) throw error;
    throw new ConfigError(error.code, `${error.message} Note: ${sheets.replace(/; choose another with --sheet\)$/, ')')}: if the contacts are on another sheet, pass --sheet with its name.`, { option: error.option, cause: error });
  }
}
