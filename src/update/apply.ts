/**
 * Applies a saved plan (or an undo file read as one) exactly, without planning
 * again. Before each PATCH the contact's live values are compared with the
 * plan's `from`: a contact changed since the plan was made is not touched
 * (`ROW_DRIFTED`, with the live and planned values, in the error report) unless
 * `force`. The live values are read in batches (`POST /contacts/search`, `id in
 * […]`), paced like every other call, and each contact to change is read again by
 * id just before its PATCH (Pylon has no conditional PATCH). Journal, `--resume` and
 * the undo file work as for `update`; the undo file records the live values each
 * PATCH replaced, as that last read found them.
 */
import { counted } from '../plural.js';
import { paginate } from '../pylon/paginate.js';
import { CUSTOM_PREFIX } from '../columns.js';
import { sameDecimal } from '../decimal.js';
import { apiFailure, interruptedBy, RunControl } from '../run/run-control.js';
import { mayHaveChanged, sameEmail, unclearedIssue, updateWithClears, type ServerMemory } from '../import/clears.js';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { PylonClient } from '../pylon/api.js';
import type { ConnectionOptions } from '../config.js';
import { PylonApiError, isRefusal } from '../pylon/errors.js';
import type { Contact, ContactPatch } from '../pylon/types.js';
import { readById } from '../import/lookup.js';
import { resolveColumns } from '../import/columns.js';
import { validateRow } from '../import/validate.js';
import { diffContact, type FieldChange } from '../import/plan.js';
import { holdJournal, type JournalHold, type JournalKey, type Outcome } from '../run/journal.js';
import { openRun, refreshStats, type WriteRun } from '../run/open-run.js';
import type { OutcomeDetail, RowRef } from '../run/ledger.js';
import { hostOf } from './target.js';
import { rowCodeOfApiError, rowFieldOfApiError, rowMessageOfApiError, type RowIssue } from '../import/desired.js';
import { callsSoFar, createImportStats, etaSeconds, type ImportStats } from '../import/stats.js';
import { accountCell, type PlannedContact } from './plan-file.js';
import { UNDO_CLEAR_TOKEN } from './undo-rows.js';

/** A row decided from its cells alone, with no read and no write (an undo row with no id, or with nothing to restore). */
export type SettledRow = { outcome: 'skipped'; message: string } | { outcome: 'failed'; issue: RowIssue };

/** A contact to change; applying an undo file, also the row it comes from. */
export interface ApplyContact extends PlannedContact {
  /** The row's cells as read from the input file (`input`): what the error report repeats. */
  cells?: readonly string[];
  /** Set for a row that gets this outcome in its place, without being read or written. */
  settled?: SettledRow;
}

export interface ApplyOptions {
  /** What the journal is keyed by: the plan's path and hash (or the undo file's). */
  source: { path: string; hash: string };
  /** The contacts to change: the plan's changes, then its removals (an undo file: every row, in its order). */
  contacts: readonly ApplyContact[];
  connection: ConnectionOptions;
  /** Apply where the live value differs from the plan's `from` too. */
  force: boolean;
  errorsPath: string;
  resultsPath?: string;
  undoPath?: string;
  /** The organisation recorded in each undo row (`_organization`). */
  organizationId?: string;
  journalPath?: string;
  resume: boolean;
  /** Contacts read per search call (`id in […]`). */
  readBatch: number;
  /** Read and compare only: count what would change and what drifted, write nothing. */
  dryRun?: boolean;
  /**
   * The contacts are the rows of a CSV file (an undo file applied): each is numbered by its `line` in
   * it (in the reports and the journal, not by its place in the plan), and the error report has this
   * header and each failed row's `cells` as read, so that it can be fixed and applied again.
   */
  input?: { header: readonly string[] };
  /**
   * What earlier runs learnt about this host (import.ts's ServerMemory): a dry run counts the second PATCH (`emails`) the
   * real run sends after a PATCH `email` that was seen to keep the address it replaces (`--patch-email demote`, `add`).
   */
  memory?: ServerMemory;
}

export interface ApplyHooks {
  client: PylonClient;
  signal?: AbortSignal;
  onProgress?: (stats: ApplyStats) => void;
  onNote?: (message: string) => void;
  /** Dry run: each contact that would change, with its changes (live value → value to set). */
  onPlan?: (entry: PlannedContact, changes: readonly FieldChange[]) => void;
  /** The journal, held by the caller (from before its first read); without it the run holds its own. */
  journalHold?: JournalHold;
}

export interface ApplyStats extends ImportStats {
  /** Contacts left as they are because they changed since the plan (counted in `failed` too). */
  drifted: number;
}

interface Drift {
  column: string;
  planned: string;
  live: string;
  to: string;
  /** The contact's primary email, which the plan does not change, is no longer the one planned: another contact than the one reviewed. */
  identity?: true;
}

/** The undo rows of an earlier run are the caller's (run/undo-run.ts): this run writes its own file at `undoPath`. */
export async function runApply(options: ApplyOptions, hooks: ApplyHooks): Promise<ApplyStats> {
  const started = Date.now();
  const { client } = hooks;
  const note = (message: string) => hooks.onNote?.(message);
  const stats: ApplyStats = {
    ...createImportStats({ calls: client.stats.calls, dryRun: Boolean(options.dryRun), errorsPath: options.errorsPath, resultsPath: options.resultsPath, undoPath: options.undoPath, journalPath: options.journalPath }),
    total: options.contacts.length,
    estimatedRows: options.contacts.length,
    // A plan's contacts are read by id, in batches of search calls.
    lookupStrategy: 'search',
    drifted: 0,
  };

  // An undo file applied has no plan: each row reverts the change a run made, and the messages say so.
  const since = options.input ? 'the change this undo row reverts' : 'the plan was made';

  // Every column the plan touches, in order of first appearance.
  // A plan's external id is set under the label it was planned with (the source system's, not the default `import`), and
  // its undo row records that label: its column joins the plan's.
  const fieldColumns = [...new Set(options.contacts.flatMap((c) => c.changes.flatMap((ch) => (ch.column === 'external_id' && ch.label !== undefined ? [ch.column, 'external_id_label'] : [ch.column]))))];
  const header = ['id', 'email', ...fieldColumns.filter((c) => c !== 'email')];
  // Stopping is decided as in the import: 401/403 and output failures always stop; a write cut off after it reached the server fails its row.
  const control = new RunControl(hooks.signal);
  // Ctrl-C or a fatal stop: what waits (a paced request, a backoff) ends at once, so a stop ends the run whatever the concurrency.
  const { signal } = control;
  let run: WriteRun | undefined;
  const writes = !options.dryRun;
  /** Dry run: the PATCHes the real run would send (stats.plannedCalls). */
  let plannedPatches = 0;
  /** Dry run: the second PATCHes (`emails`) the real run would send after a PATCH email (ApplyOptions.memory). */
  let plannedFollowUps = 0;
  let hold = hooks.journalHold;
  try {
    // Held (no other run of this plan meanwhile) and on disk before the first read: a stop from here on leaves it for --resume.
    if (options.journalPath && writes) {
      hold ??= holdJournal(options.journalPath);
      hold.begin(applyJournalKey(options), options.resume);
    }
    const customFieldList = await client.listCustomFields({ signal });
    const customFields = new Map(customFieldList.map((f) => [f.slug, f]));
    const columns = resolveColumns(header, { customFields: customFieldList });
    const validation = { customFields, clearToken: UNDO_CLEAR_TOKEN, externalIdClears: true };
    run = await openRun({
      kind: 'apply',
      stats,
      client,
      started,
      control,
      ...(hold ? { journal: { path: hold.path, key: applyJournalKey(options), resume: options.resume, hold } } : {}),
      errors: { path: options.errorsPath, header: options.input?.header ?? header },
      ...(options.resultsPath ? { results: { path: options.resultsPath, withChanges: false } } : {}),
      // A run that changes no contact (a plan applied a second time) leaves no undo file: it would hold only a header.
      ...(options.undoPath && writes ? { undo: { path: options.undoPath, fieldColumns, organizationId: options.organizationId, skipEmpty: true, changedColumns: true } } : {}),
      concurrency: options.connection.concurrency,
      onProgress: hooks.onProgress,
      onNote: note,
    });
    const { journal, ledger, pool, undo } = run;

    /** The row's cells: the values to set. The email is there only when the plan changes it (or for the report). */
    const cellsOf = (entry: PlannedContact, forReport = false) => {
      const cells = header.map(() => '');
      cells[0] = entry.id;
      if (forReport) cells[1] = entry.email ?? '';
      for (const change of entry.changes) {
        const i = change.column === 'email' ? 1 : header.indexOf(change.column);
        if (i >= 0) cells[i] = change.to === '' ? UNDO_CLEAR_TOKEN : change.to;
        if (change.column === 'external_id' && change.label !== undefined) cells[header.indexOf('external_id_label')] = change.label;
      }
      return cells;
    };
    /**
     * A contact as the reports show it: its line and its row as read (an undo file), or its id, email and planned values.
     * A plan's contact is keyed in the journal by its place in the plan; its `_line` is the input line its change came
     * from, as in the results of the update that made the plan (a --sync removal has none: its place in the plan).
     */
    const ref = (line: number, entry: ApplyContact): RowRef => ({ line, ...(!options.input && entry.line !== undefined ? { reportLine: entry.line } : {}), cells: options.input ? (entry.cells ?? []) : cellsOf(entry, true), email: entry.email });
    const record = (line: number, entry: PlannedContact, outcome: Outcome, detail: OutcomeDetail = {}) => ledger.record(ref(line, entry), outcome, { id: entry.id, ...detail });
    const fail = (line: number, entry: PlannedContact, issue: RowIssue, detail: OutcomeDetail = {}) => {
      if (issue.code === 'ROW_DRIFTED') stats.drifted++;
      return ledger.fail(ref(line, entry), issue, { id: entry.id, ...detail });
    };
    const settle = (line: number, entry: PlannedContact, settled: SettledRow) =>
      settled.outcome === 'failed' ? fail(line, entry, settled.issue) : record(line, entry, 'skipped', { message: settled.message });

    // Numbers are compared as decimals (9007199254740993 is not 9007199254740992), other cells as text.
    const sameCell = (a: string, b: string, column: string) => {
      const type = column.startsWith(CUSTOM_PREFIX) ? customFields.get(column.slice(CUSTOM_PREFIX.length))?.type : undefined;
      return type === 'number' || type === 'decimal' ? sameDecimal(a, b) : a === b;
    };
    /** What the contact's live values make of its planned changes: what to send, and the fields that drifted from the plan's `from`. */
    const compare = (entry: PlannedContact, live: Contact, line: number): { diff: ReturnType<typeof diffContact>; drift: Drift[] } | { issue: RowIssue } => {
      const { desired, issues } = validateRow(cellsOf(entry), columns, validation);
      if (issues.length > 0) return { issue: { code: issues[0].code, field: issues[0].field, message: issues.map((i) => i.message).join('; ') } };
      const diff = diffContact(desired, live, { customFields });
      // An undo row's email is the primary it restores. diffContact leaves an address the contact holds alone, and a server
      // whose PATCH email kept the replaced primary as a secondary one (pylon-api.md §10 q7) holds it: it is sent all the same.
      const email = entry.changes.find((c) => c.column === 'email' && c.to !== '');
      if (email && diff.body.email === undefined && live.email !== undefined && !sameEmail(live.email, email.to)) {
        diff.body.email = email.to;
        diff.changes.push({ column: 'email', from: live.email, to: email.to });
      } else if (options.input && email && !email.held && diff.body.email === undefined && email.from !== '' && !sameEmail(live.email, email.from) && (live.emails ?? []).some((e) => sameEmail(e, email.from))) {
        // The primary is back (or was never replaced: PATCH email added the run's address, and making it the primary
        // failed), but the contact still holds the address the run set as a secondary one: sent to be dropped (makePrimary).
        diff.body.email = email.to;
        diff.changes.push({ column: 'email', from: email.from, to: email.to });
      } else if (!options.input && email && !email.held && diff.body.email === undefined && email.from !== '' && !sameEmail(email.from, email.to) && sameEmail(live.email, email.to) && (live.emails ?? []).some((e) => sameEmail(e, email.from)) && journal?.sentBefore.get(line)?.changes?.some((c) => c.column === 'email') && journal.sentBefore.get(line)?.id === entry.id) {
        // An interrupted run's PATCH email landed with the replaced primary kept as a secondary address (a server that demotes
        // it) and the run was killed before the PATCH emails dropping it: sent again, so the follow-up drops it (makePrimary).
        diff.body.email = email.to;
        diff.changes.push({ column: 'email', from: email.from, to: email.to });
      } else if (options.input && email?.held && diff.body.email === undefined && sameEmail(live.email, email.to) && !(live.emails ?? []).includes(email.held)) {
        // The primary is back, but the address the contact held before the run is gone (a PATCH emails putting it back was refused): sent to be put back (makePrimary).
        diff.body.email = email.to;
        diff.changes.push({ column: 'email', from: email.from, to: email.to });
      }
      const drift: Drift[] = [];
      for (const change of entry.changes) {
        if (change.unchecked) continue;
        const now = diff.changes.find((c) => c.column === change.column);
        // Not in the diff: the contact already holds the planned value.
        if (now && !sameCell(now.from, change.from, change.column)) drift.push({ column: change.column, planned: change.from, live: now.from, to: change.to });
        // An account set by its external id: the account it replaces is compared by id too, since an account without an
        // external id (or no account) reads as "" either way: a contact moved to such an account since the plan has drifted.
        else if (now && change.accountId && now.accountId && now.accountId.from !== change.accountId.from) {
          drift.push({ column: change.column, planned: accountCell(change.from, change.accountId.from), live: accountCell(now.from, now.accountId.from), to: change.to });
        }
      }
      // A plan names each contact by its id and its primary email as planned: the reviewer saw that address. A contact
      // whose primary email is another one now (the record was reassigned, merged, or its address taken over) is not the
      // contact reviewed, whatever the fields the plan sets still hold. (A plan that changes the email is checked above.)
      if (!options.input && entry.email && !entry.changes.some((c) => c.column === 'email') && !sameEmail(live.email, entry.email)) {
        drift.push({ column: 'email', planned: entry.email, live: live.email ?? '', to: entry.email, identity: true });
      }
      return { diff, drift };
    };
    const driftIssue = (drift: readonly Drift[]): RowIssue => ({
      code: 'ROW_DRIFTED',
      field: drift[0].column,
      message: options.input
        ? `Changed since ${since}, left as it is: ${drift
            .map((d) => `${d.column} is now ${JSON.stringify(d.live)}, not ${JSON.stringify(d.planned)} as that change set it (to restore ${JSON.stringify(d.to)})`)
            .join('; ')}. Use --force to revert it anyway.`
        : `Changed since ${since}, left as it is: ${drift
            .map((d) =>
              d.identity
                ? `its primary email is now ${d.live ? JSON.stringify(d.live) : 'none'}, not ${JSON.stringify(d.planned)} as when the plan was made (the plan does not change it: this may no longer be the contact reviewed)`
                : `${d.column} is now ${JSON.stringify(d.live)}, the plan expected ${JSON.stringify(d.planned)} (to set ${JSON.stringify(d.to)})`,
            )
            .join('; ')}. Use --force to apply anyway.`,
    });

    const gone = (line: number, row: PlannedContact) =>
      fail(line, row, { code: 'ROW_NOT_FOUND', field: 'id', message: `Contact ${row.id}${row.email ? ` (${row.email})` : ''} no longer exists: it was deleted after ${since}` });

    /**
     * The address a PATCH email drops (`setEmail.from`: an undo row's, the one the run set; a plan's, the primary it
     * replaces) and the one it keeps (an undo row's `held`: the address the contact held before the run).
     */
    const emailToDrop = (entry: PlannedContact, changes: readonly FieldChange[]) => {
      const setEmail = (options.input ? entry.changes : changes).find((c) => c.column === 'email' && c.from !== '');
      // A plan's `held` (the new address was already a secondary one) is for its undo row: the replaced primary goes all the same.
      return { setEmail, keep: options.input ? setEmail?.held : undefined };
    };
    /** Whether the row's PATCH sets an email that drops another address: makePrimary's follow-up PATCH where the host keeps it. */
    const replacesEmail = (entry: PlannedContact, changes: readonly FieldChange[]) => {
      const { setEmail, keep } = emailToDrop(entry, changes);
      return changes.some((c) => c.column === 'email') && setEmail !== undefined && !keep;
    };
    const patch = async (line: number, entry: PlannedContact, left: readonly string[]) => {
      // Queued in the pool when the run stopped: never started, left for --resume.
      if (control.stopped) {
        ledger.notProcessed();
        return;
      }
      try {
        // Pylon has no conditional PATCH (no If-Match): the contact is read again by id just before its PATCH, once the
        // pool gives it its turn, so an edit made while the run goes (since the batch read, which may be minutes earlier
        // at the paced rate) is found drifted and left alone, and the undo row records the values this PATCH replaces.
        // A PATCH by an id another contact holds as an external id would change that contact (readById): gone too.
        const live = await readById(client, entry.id, signal);
        if (!live) {
          await gone(line, entry);
          return;
        }
        const compared = compare(entry, live, line);
        if ('issue' in compared) {
          await fail(line, entry, compared.issue);
          return;
        }
        if (compared.drift.length > 0 && !options.force) {
          await fail(line, entry, driftIssue(compared.drift));
          return;
        }
        if (compared.diff.changes.length === 0) {
          // Someone else set the planned values meanwhile: nothing to send.
          if (left.length > 0) await fail(line, entry, leftAsItIs(left, 'none'));
          else await record(line, entry, 'unchanged');
          return;
        }
        const { body } = compared.diff;
        // An interrupted run's PATCH of this contact, sent and never answered, may have landed (a kill while its follow-up PATCH emails
        // waited): the fields it set no longer differ, so its changes are kept with these, each from its value before that run.
        const earlier = journal?.sentBefore.get(line);
        const changes = withEarlier(earlier?.id === entry.id ? earlier.changes : undefined, compared.diff.changes);
        // The journal's `sent` entry (the undo row's source) is written when the PATCH leaves the pacer, not while it waits there.
        let journaled = false;
        const sent = () => {
          if (!journaled) journal?.sent(line, { id: entry.id, email: live.email ?? entry.email, changes });
          journaled = true;
        };
        // A "" clear the server refuses or ignores: the rest is applied, the undo row leaves it out, the row says so.
        let answer: Awaited<ReturnType<typeof updateWithClears>>;
        try {
          // An undo row restoring an email drops the address the run set, should PATCH email keep it as a secondary one; a
          // plan's or an update file's new email drops the primary it replaces, as import does (write-policy.ts). An address
          // the contact held before the run (an undo row's `held`) is kept as a secondary address instead.
          const { setEmail, keep } = emailToDrop(entry, changes);
          answer = await updateWithClears(client, entry.id, body as ContactPatch, signal, sent, undefined, undefined, setEmail && !keep ? setEmail.from : undefined, keep);
        } catch (error) {
          // An undo row before each change: a PATCH sent and unanswered (Ctrl-C while the server stalls, a timeout) may have been applied.
          if (journaled && mayHaveChanged(error)) await undo?.write({ id: entry.id, email: live.email ?? entry.email }, changes);
          throw error;
        }
        const { res, uncleared, notPrimary, notDropped } = answer;
        const applied = changes.filter((c) => !uncleared.some((u) => u.field === c.column));
        if (applied.length > 0) await undo?.write({ id: entry.id, email: live.email ?? entry.email }, applied);
        if (answer.error !== undefined) throw answer.error;
        if (uncleared.length > 0 || left.length > 0) {
          const issues = [...(uncleared.length > 0 ? [unclearedIssue(uncleared, applied.length > 0)] : []), ...(left.length > 0 ? [leftAsItIs(left, applied.length > 0 ? 'restored' : 'none')] : [])];
          await fail(line, entry, { ...issues[0], message: issues.map((i) => i.message).join(' ') }, { requestId: res?.requestId });
        } else if (notPrimary) await fail(line, entry, { code: 'ROW_EMAIL_NOT_PRIMARY', field: 'email', message: notPrimary }, { requestId: res?.requestId });
        else if (notDropped) await fail(line, entry, { code: 'ROW_API_REJECTED', field: 'email', message: notDropped.message }, { status: notDropped.status, requestId: notDropped.requestId });
        else await record(line, entry, 'updated', { requestId: res?.requestId });
      } catch (error) {
        if (control.judge(error) === 'stop') {
          ledger.notProcessed();
          return;
        }
        const api = error instanceof PylonApiError ? error : undefined;
        await fail(
          line,
          entry,
          { code: rowCodeOfApiError(api), field: rowFieldOfApiError(api, entry.changes.map((c) => c.column)), message: rowMessageOfApiError(api, error) },
          { status: api?.status, requestId: api?.requestId },
        );
      }
    };

    const decide = async (line: number, row: PlannedContact, live: Contact | undefined) => {
      if (!live) {
        await gone(line, row);
        return;
      }
      // An undo row restoring "no value" to a field Pylon's API cannot clear (a contact that had no name before the
      // change): that field is left as it is and the rest restored; the row fails ROW_CANNOT_CLEAR naming it, as a
      // "" the server refuses does. (A saved plan never holds such a change: update refuses it when planning.)
      const left = options.input ? unclearable(row, validateRow(cellsOf(row), columns, validation).issues) : [];
      const entry = left.length > 0 ? { ...row, changes: row.changes.filter((c) => !left.includes(c.column)) } : row;
      if (left.length > 0 && entry.changes.length === 0) {
        await fail(line, row, leftAsItIs(left, 'none'));
        return;
      }
      const compared = compare(entry, live, line);
      if ('issue' in compared) {
        await fail(line, entry, compared.issue);
        return;
      }
      const { diff, drift } = compared;
      if (diff.changes.length === 0) {
        const sent = journal?.sentBefore.get(line);
        if (sent?.changes && sent.id === entry.id) {
          // An earlier run's PATCH that landed without its outcome being recorded.
          await undo?.write({ id: entry.id, email: live.email ?? entry.email }, sent.changes);
          await record(line, entry, 'updated');
        } else if (left.length > 0) {
          await fail(line, entry, leftAsItIs(left, 'none'));
        } else {
          await record(line, entry, 'unchanged');
        }
        return;
      }
      if (drift.length > 0 && !options.force) {
        await fail(line, entry, driftIssue(drift));
        return;
      }
      if (options.dryRun) {
        hooks.onPlan?.(entry, diff.changes);
        // The real run sends this row's PATCH (with the changes it can make, when it fails the rest): one call each, and a
        // second (`emails`, see patch()) after a PATCH email on a host seen to keep the address it replaces.
        plannedPatches++;
        if (replacesEmail(entry, diff.changes) && options.memory?.patchEmailKeepsReplaced()?.keeps) plannedFollowUps++;
        if (left.length > 0) await fail(line, entry, leftAsItIs(left, 'would'));
        else await record(line, entry, 'updated');
        return;
      }
      await pool.whenReady();
      void pool.run(() => patch(line, entry, left));
    };

    for (let from = 0; from < options.contacts.length; from += options.readBatch) {
      if (control.stopped) {
        ledger.notProcessed(options.contacts.length - from);
        break;
      }
      const batch: Array<{ line: number; entry: ApplyContact }> = [];
      for (let i = from; i < Math.min(from + options.readBatch, options.contacts.length); i++) {
        const entry = options.contacts[i];
        const line = (options.input ? entry.line : undefined) ?? i + 1;
        const previous = journal?.previous.get(line);
        if (previous) {
          if (previous.code === 'ROW_DRIFTED') stats.drifted++;
          await ledger.replay(ref(line, entry), { ...previous, id: previous.id ?? entry.id, email: previous.email ?? entry.email });
        } else {
          batch.push({ line, entry });
        }
      }
      if (batch.length === 0) continue;
      // Settled rows keep their place in the batch (the reports follow the file's order) but are not read.
      const ids = batch.filter((b) => !b.entry.settled).map((b) => b.entry.id);
      let live: Map<string, Contact>;
      try {
        live = ids.length > 0 ? await readLive(client, ids, signal) : new Map();
      } catch (error) {
        control.stopOrThrow(error);
        ledger.notProcessed(options.contacts.length - from);
        break;
      }
      for (const [k, { line, entry }] of batch.entries()) {
        if (control.stopped) {
          ledger.notProcessed(batch.length - k);
          break;
        }
        if (entry.settled) await settle(line, entry, entry.settled);
        else await decide(line, entry, live.get(entry.id));
      }
    }
    await pool.drain();
    if (options.dryRun) {
      // What the real run would send, as import and update dry runs say: the same reads (done here), and for each contact to
      // change its read by id just before its PATCH (patch(): one GET) and the PATCH.
      stats.plannedCalls = { ...callsSoFar(client), ...(plannedPatches > 0 ? { get: (client.stats.calls.get ?? 0) + plannedPatches, patch: (client.stats.calls.patch ?? 0) + plannedPatches + plannedFollowUps } : {}) };
      stats.etaSeconds = etaSeconds(stats.plannedCalls, options.connection);
    }

    if (stats.drifted > 0) {
      const changed = options.input ? 'changed since the change their undo rows revert' : 'changed since the plan was made';
      note(`${counted(stats.drifted, 'contact')} ${changed} and were left as they are (ROW_DRIFTED in ${options.errorsPath})`);
    }
    await run.close({ complete: stats.notProcessed === 0 });
    return stats;
  } catch (error) {
    await run?.abort({ nothingDone: false });
    // The contacts not reached get their outcome too: each is not processed (a Ctrl-C at the custom fields left all of them uncounted).
    const unreached = () => stats.total - (stats.created + stats.updated + stats.unchanged + stats.skipped + stats.failed + stats.notProcessed);
    // A call let go by a fatal stop (made outside a contact's work: a batch read) ends the run with that stop's error.
    if (control.fatal !== undefined && control.isAbort(error)) {
      stats.fatal = control.describeFatal();
      stats.notProcessed += unreached();
      refreshStats(stats, client, started);
      return stats;
    }
    // A call refused for the interruption, or the signal's own reason (a pacer slot waited for when Ctrl-C came, just after the plan was printed).
    if (interruptedBy(error, signal)) {
      stats.interrupted = true;
      stats.notProcessed += unreached();
      if (run === undefined) Object.assign(stats, { errorsPath: null, resultsPath: undefined }); // no report was opened
      refreshStats(stats, client, started);
      return stats;
    }
    // A wrong token or a host down before the first contact is read ends the run as it would later: resolved, with its code.
    const failure = apiFailure(error);
    if (failure === undefined) throw error;
    stats.fatal = failure;
    if (run === undefined) Object.assign(stats, { errorsPath: null, resultsPath: undefined }); // no report was opened
    stats.notProcessed += unreached();
    refreshStats(stats, client, started);
    return stats;
  } finally {
    // A journal this run created and never wrote to goes, unless Ctrl-C stopped the run: --resume then finds it.
    if (hold && hold !== hooks.journalHold) hold.release({ keep: hooks.signal?.aborted === true });
    // Stopped before the journal held anything, the run leaves none (here or at the caller's release): there is nothing to resume.
    if (stats.fatal && hold?.created && !hold.used && !hooks.signal?.aborted) stats.journalPath = undefined;
  }
}

/** The columns of an undo row's changes that restore "no value" where Pylon's API cannot clear (the validator's ROW_CANNOT_CLEAR). */
/**
 * A resumed row's changes with those of the interrupted run's PATCH (`earlier`, from the journal): a field in both goes
 * from the earlier value (before that run), and an email is `held` only if it was before that run, not because that
 * PATCH added it.
 */
function withEarlier(earlier: readonly FieldChange[] | undefined, now: readonly FieldChange[]): FieldChange[] {
  if (!earlier || earlier.length === 0) return [...now];
  const merged = earlier.map((e) => {
    const n = now.find((c) => c.column === e.column);
    if (!n) return e;
    const { held: _held, ...rest } = n;
    return e.held ? { ...rest, from: e.from, held: e.held } : { ...rest, from: e.from };
  });
  return [...merged, ...now.filter((c) => !earlier.some((e) => e.column === c.column))];
}

function unclearable(entry: PlannedContact, issues: readonly RowIssue[]): string[] {
  const refused = new Set(issues.filter((i) => i.code === 'ROW_CANNOT_CLEAR').map((i) => i.field));
  return entry.changes.filter((c) => c.to === '' && refused.has(c.column)).map((c) => c.column);
}

/** The issue of an undo row whose fields in `left` held no value before and stay as they are; `rest`: what became of its other changes. */
function leftAsItIs(left: readonly string[], rest: 'restored' | 'would' | 'none'): RowIssue {
  const others = rest === 'restored' ? "The row's other fields were restored" : rest === 'would' ? "The row's other fields would be restored" : 'Nothing else in the row differs, so nothing was sent';
  return {
    code: 'ROW_CANNOT_CLEAR',
    field: left[0],
    message: `Not restored: ${left.join(', ')} held no value before the change, and Pylon's API cannot clear ${left.length > 1 ? 'these fields' : 'this field'}, so ${left.length > 1 ? 'they are' : 'it is'} left as ${left.length > 1 ? 'they are' : 'it is'}. ${others}; to empty ${left.length > 1 ? 'them' : 'it'}, edit the contact in Pylon`,
  };
}

/** The live contacts of these ids (absent ones were deleted), paging through the search if it must. */
async function readLive(client: PylonClient, ids: readonly string[], signal?: AbortSignal): Promise<Map<string, Contact>> {
  try {
    return await readLiveOnce(client, ids, signal);
  } catch (error) {
    // A server that caps `values` ("at most N are allowed"): read in halves.
    if (ids.length > 1 && isRefusal(error) && /at most \d+/.test(error.message)) {
      const half = Math.ceil(ids.length / 2);
      const [a, b] = [await readLive(client, ids.slice(0, half), signal), await readLive(client, ids.slice(half), signal)];
      return new Map([...a, ...b]);
    }
    throw error;
  }
}

async function readLiveOnce(client: PylonClient, ids: readonly string[], signal?: AbortSignal): Promise<Map<string, Contact>> {
  const found = new Map<string, Contact>();
  const pages = paginate((cursor) => client.searchContacts({ filter: { field: 'id', operator: 'in', values: [...ids] }, limit: 999, ...(cursor ? { cursor } : {}) }, { signal }), { signal });
  for await (const page of pages) for (const contact of page.data) found.set(contact.id, contact);
  // Search may lag behind writes (a contact changed moments ago can be missing from it): an id it
  // does not return is read directly; only a 404 there means the contact was deleted.
  for (const id of ids) {
    if (found.has(id)) continue;
    const contact = await readById(client, id, signal);
    if (contact) found.set(id, contact);
  }
  return found;
}

/** The journal key of an undo file applied as a plan: its content hash. */
export function fileHash(path: string): { size: number; sha256: string } {
  const bytes = readFileSync(path);
  return { size: statSync(path).size, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** What an apply's journal is keyed by: the plan (or undo file) read, its size in contacts and hash, the host, and --force (it decides what is written). */
export function applyJournalKey(options: Pick<ApplyOptions, 'source' | 'contacts' | 'connection' | 'force'>): JournalKey {
  return {
    input: { path: resolvePath(options.source.path), size: options.contacts.length, sha256: options.source.hash },
    mode: 'apply',
    host: hostOf(options.connection.baseUrl),
    settings: options.force ? { '--force': 'true' } : {},
  };
}
