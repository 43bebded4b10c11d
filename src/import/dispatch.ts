import type { PylonClient } from '../pylon/api.js';
import { PylonApiError } from '../pylon/errors.js';
import { DEFAULT_RETRY } from '../pylon/retry.js';
import type { Journal, JournalOutcome } from '../run/journal.js';
import type { OutcomeLedger } from '../run/ledger.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { findByEmail, type Lookup, type LookupKey, type Match } from './lookup.js';
import { DEFAULT_EXTERNAL_ID_LABEL, emailKey, externalIdKey, heldExternalIdKey, secondaryKeysOf, type KeyedRow } from './lookup-key.js';
import type { Contact } from '../pylon/types.js';
import { externalIdConflict, unnamedExternalIdHolder } from './identity.js';
import { sameEmail, unclearedIssue, type ServerMemory } from './clears.js';
import { planRow, type FieldChange, type Plan, type PlanContext } from './plan.js';
import { rowCodeOfApiError, rowFieldOfApiError, rowMessageOfApiError, sentColumns, type RowIssue } from './desired.js';
import type { Pool } from '../run/pool.js';
import type { RunControl } from '../run/run-control.js';
import type { UndoWriter } from '../run/undo-writer.js';
import { IDEMPOTENCY_LABEL, lateWindowMs, mergeIssue, type PendingRow, type WritePlan, type WritePolicy } from './write-policy.js';

/** Rounds of "look up after the late window, then send again" before an uncertain create fails its row: as many as the client's retries. */
const MAX_ROUNDS = DEFAULT_RETRY.limit;

interface Deferred {
  row: ChunkRow;
  plan: WritePlan & { action: 'create' };
  sentAt: number;
  /** How long after `sentAt` it may still be applied (0: the server answered, it is done with it). */
  lateMs: number;
  /** Answered with success without the contact: it was created, and is never sent again (found by email, or created with its id unknown). */
  applied?: boolean;
}

/** A row waiting in a chunk for its lookup. */
export interface ChunkRow extends PendingRow {
  key: LookupKey | undefined;
}

/** The key finding whoever holds the row's external id under any label (see identity.ts). */
const heldKeyOf = (row: ChunkRow): LookupKey | undefined => (row.desired.external_id ? heldExternalIdKey(row.desired.external_id) : undefined);

/**
 * The key finding whoever holds the row's email, for a row matched by its id or external id first (its contact may hold
 * another email): asked of the list lookup with the row's key, as it answers from memory.
 */
const emailHolderKeyOf = (row: ChunkRow, lookup: Lookup): LookupKey | undefined =>
  lookup.strategy === 'list' && (row.desired.id || row.desired.external_id) && row.desired.email ? emailKey(row.desired.email) : undefined;

/**
 * With search, the same key, asked in a second search only for the rows whose contact was found (by its id or external id)
 * and does not hold the row's email: those alone would take an address, and one another contact holds fails the row
 * ROW_EMAIL_TAKEN before any write. Without it, the dry run and the plan counted them updated and the real run got Pylon's
 * refusal. A row that keeps its contact's email costs no search.
 */
const searchedHolderKeyOf = (row: ChunkRow, lookup: Lookup, matches: ReadonlyMap<LookupKey, Match>): LookupKey | undefined => {
  const email = row.desired.email;
  if (lookup.strategy !== 'search' || !(row.desired.id || row.desired.external_id) || !email || row.key === undefined) return undefined;
  const match = matches.get(row.key);
  if (match?.kind !== 'one') return undefined;
  const key = emailKey(email);
  return [match.contact.email, ...(match.contact.emails ?? [])].some((e) => e && emailKey(e) === key) ? undefined : key;
};

/**
 * What a row's secondary emails found, asked only when its email (and external id) found no contact: one contact
 * (`via`: the address that found it), or several (the row fails, never a guess). Undefined: none, or nothing asked.
 */
export type SecondaryMatch = { kind: 'one'; contact: Contact; via: string } | { kind: 'many'; found: Array<{ email: string; ids: string[] }> };

/** Whether the row's secondary emails are to be looked up: it has some, no id, and its key found no contact. */
const needsSecondary = (row: ChunkRow, matches: ReadonlyMap<LookupKey, Match>): boolean =>
  secondaryKeysOf(row.desired).length > 0 && (row.key === undefined || (matches.get(row.key)?.kind ?? 'none') === 'none');

/** The contacts the row's secondary emails found, from the lookup's answers. */
export function secondaryMatchOf(row: Pick<ChunkRow, 'desired'>, matches: ReadonlyMap<LookupKey, Match>): SecondaryMatch | undefined {
  const found: Array<{ email: string; ids: string[]; contact?: Contact }> = [];
  for (const key of secondaryKeysOf(row.desired)) {
    const match = matches.get(key);
    const email = key.slice(2);
    if (match?.kind === 'one') found.push({ email, ids: [match.contact.id], contact: match.contact });
    else if (match?.kind === 'many') found.push({ email, ids: match.ids });
  }
  const ids = new Set(found.flatMap((f) => f.ids));
  if (ids.size === 0) return undefined;
  const one = found.find((f) => f.contact);
  if (ids.size === 1 && one) return { kind: 'one', contact: one.contact!, via: one.email };
  return { kind: 'many', found: found.map(({ email, ids }) => ({ email, ids })) };
}

export interface DispatchParts {
  client: PylonClient;
  lookup: Lookup;
  pool: Pool;
  ledger: OutcomeLedger;
  control: RunControl;
  policy: WritePolicy;
  planContext: PlanContext;
  /** Known account ids by external id; null: no such account. Filled by `dispatch`. */
  accountIds: Map<string, string | null>;
  /**
   * Check each account id a row sets (`account_id`) with `GET /accounts/{id}`, once per id: an id no account has fails its
   * rows ROW_ACCOUNT_NOT_FOUND in the dry run and the real run alike (Pylon would refuse the write). Off when the ids come
   * from the account list itself (--match-accounts), where a dry run's `(new account …)` stands for an account not yet made.
   */
  checkAccountIds?: boolean;
  journal?: Journal;
  undo?: UndoWriter;
  dryRun: boolean;
  /** The client's request timeout: the late window of an uncertain create follows from it. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** [ops: issue 12] with the contact (id and email), for saved plans. */
  onPlan?: (line: number, action: 'create' | 'update', changes: readonly FieldChange[], contact: { id?: string; email?: string | null }) => void;
  /** Dry run: called with the contact each row matched (it would be updated, or already holds the row's values). */
  onMatch?: (line: number, contactId: string) => void;
  onUncertainCreate?: (email: string, line: number) => void;
  onNote?: (message: string) => void;
  /** Waited out before looking up a create that may still land (search may lag behind writes). */
  visibility?: { settle(): Promise<void> };
  /** The first line of the file carrying a key (the duplicate index): whether another row is the record a contact holds the id of. */
  fileLineOf?: (key: LookupKey) => number | undefined;
}

/** A row matched by its email to a contact that holds another id under the row's label (a record of the same system). */
interface OtherRecordMatch {
  row: ChunkRow;
  match: Match;
  held: Match | undefined;
  otherId: string;
  emailHolder: Match | undefined;
  /** The secondary email that found the contact, when the row's email did not. */
  via?: string;
}

/** A row found its contact by a secondary email only: whether another row of the file owns that contact is known at the end. */
interface SecondaryOnlyMatch {
  row: ChunkRow;
  held: Match | undefined;
  emailHolder: Match | undefined;
  contact: Contact;
  via: string;
}

/**
 * Whose a contact found by one of the row's secondary emails only is, when it is another record's (else undefined): it
 * holds an external id of another system than the row's (a row without an external id: any system's), or its primary
 * email is none of the row's emails (the address that found it is only a secondary one of another person). Taking it would
 * rewrite that record's email and name, and each run of the two sources would take it back from the other. The same
 * system's record under another id (a record merged in the source) is not another record here: see otherIdUnderLabel.
 */
export function ownedElsewhere(desired: KeyedRow, contact: Contact): string | undefined {
  const label = desired.external_id ? desired.external_id_label || DEFAULT_EXTERNAL_ID_LABEL : undefined;
  // The id --idempotency-key external-id gives the contacts this tool created names no record.
  const other = contact.external_ids?.find((e) => (e.label ?? '') !== label && e.label !== IDEMPOTENCY_LABEL);
  if (other) return `${other.label ? `${other.label} record` : 'the record'} ${other.external_id}`;
  const emails = new Set([...(desired.email ? [emailKey(desired.email)] : []), ...secondaryKeysOf(desired)]);
  if (contact.email && !emails.has(emailKey(contact.email))) return `the contact of ${contact.email}, an address this row does not have`;
  return undefined;
}

/** The id the contact holds under the row's label when it is not the row's own, else undefined. */
export function otherIdUnderLabel(desired: KeyedRow, contact: Contact): string | undefined {
  if (!desired.external_id) return undefined;
  const label = desired.external_id_label || DEFAULT_EXTERNAL_ID_LABEL;
  const held = contact.external_ids?.find((e) => (e.label ?? '') === label);
  return held && held.external_id !== desired.external_id ? held.external_id : undefined;
}

export interface Dispatcher {
  /** Looks a chunk up and gives every row its outcome, or hands its write to the pool. */
  dispatch(chunk: ChunkRow[]): Promise<void>;
  /**
   * Rows whose create was sent without an answer (by this run, or by a killed
   * earlier one according to its journal) and not found since: that create may
   * still land. Once it can no longer be in flight (the late window after its
   * send), each is looked up again, and only a miss is created. Call after the pool has drained.
   */
  finishDeferred(): Promise<void>;
  /**
   * Rows matched by email to a contact that holds another id under their label
   * (set aside by `dispatch`), once every row of the file has been read: when a
   * row of the file is that other record, the contact is that row's and this row
   * fails (ROW_EMAIL_OF_OTHER_RECORD), whichever comes first in the file; else the
   * row takes the contact, its id replacing the old one (a record merged in the
   * source). Call after the pool has drained, and drain it again after.
   */
  finishOtherRecords(): Promise<void>;
  /**
   * A row an earlier run of this journal did (replayed on --resume): the contact it took stays its own, so a later row
   * naming that contact fails ROW_DUPLICATE_IN_FILE as it would in one uninterrupted run.
   */
  replayed(line: number, previous: JournalOutcome): void;
  /**
   * Dry run: the writes the real run would send, and the searches they add: the real run searches for the
   * first contact it creates with an email, to measure how long search takes to show it (SearchVisibility).
   */
  readonly planned: { create: number; patch: number; followUp: number; search: number };
  /**
   * Dry run by search: the creates planned for rows with an external id. Search cannot find a contact by its
   * external id, so one that holds it (its email changed in the source) is found only when Pylon refuses the real
   * run's create, and that row is updated instead.
   */
  readonly createsByExternalIdUnknown: number;
  /**
   * Dry run by search: the updates planned that add the row's external id while no contact seen holds it. Another
   * contact may (search cannot filter on external ids): a host refusing such a write fails the row in the real run.
   */
  readonly updatesByExternalIdUnknown: number;
}

/**
 * Between the row loop and the write policy: one lookup per chunk, the account
 * ids the chunk needs, a plan per row, and then the outcome (for rows that
 * need no write) or a write on the pool (its outcome recorded when it settles).
 */
export function createDispatcher(parts: DispatchParts): Dispatcher {
  const { client, lookup, pool, ledger, control, policy, planContext, accountIds, journal, signal } = parts;
  const late = lateWindowMs(parts.timeoutMs);
  const planned = { create: 0, patch: 0, followUp: 0, search: 0 };
  let createsByExternalIdUnknown = 0;
  let updatesByExternalIdUnknown = 0;
  /** Creates that may still land (their answer was lost, here or in a killed earlier run), with when they were sent. */
  let deferred: Deferred[] = [];
  /** Rows matched by email to another record's contact, decided when the whole file has been read. */
  let otherRecords: OtherRecordMatch[] = [];
  /** Rows matched by a secondary email only, decided when the whole file has been read. */
  let secondaryOnly: SecondaryOnlyMatch[] = [];
  /** Whether the dry run has said that its ROW_EXTERNAL_ID_TAKEN predictions are unverified for this host. */
  let predictionNoted = false;
  /** Whether the dry run has said that its count of PATCHes for new primary emails is unverified for this host. */
  let patchEmailNoted = false;
  /** The line of the row that took each contact matched: one contact, one row, whichever of its emails each row names. */
  const contactLines = new Map<string, number>();
  const claimCreated = (id: string, line: number) => {
    if (!contactLines.has(id)) contactLines.set(id, line);
  };

  /** Sends one planned write and records its outcome (or defers an uncertain create). Never rejects. */
  const write = async (row: ChunkRow, plan: WritePlan, resend = false): Promise<void> => {
    const email = row.desired.email;
    // Queued in the pool when the run stopped: never started, left for --resume.
    if (control.stopped) {
      ledger.notProcessed();
      return;
    }
    try {
      const result = await policy.write(row, plan, { resend });
      if (result.outcome === 'uncertain') deferred.push({ row, plan: plan as Deferred['plan'], sentAt: result.sentAt ?? Date.now(), lateMs: result.lateMs ?? late, ...(result.applied ? { applied: true } : {}) });
      else if (result.issue) await ledger.fail({ ...row, email }, result.issue, { id: result.id, requestId: result.requestId });
      else {
        // The contact a create made is the row's, as a contact it matched is: a later row naming it (by its id) is a duplicate.
        if (result.outcome === 'created' && result.id) claimCreated(result.id, row.line);
        await ledger.record({ ...row, email }, result.outcome, { id: result.id, requestId: result.requestId, message: result.message });
      }
    } catch (error) {
      if (control.judge(error) === 'stop') {
        ledger.notProcessed();
        return;
      }
      const api = error instanceof PylonApiError ? error : undefined;
      try {
        // A PATCH answered 404: the contact the lookup found was deleted since (in Pylon, or by another run).
        if (api?.status === 404 && plan.action === 'update') {
          await ledger.fail({ ...row, email }, {
            code: 'ROW_NOT_FOUND',
            field: row.desired.id ? 'id' : 'email',
            message: `Contact ${plan.id} no longer exists: it was deleted while the run was going (Pylon answered 404 to its update); nothing was written. Import the row again to create the contact anew, or drop it`,
          }, { status: api.status, requestId: api.requestId, id: plan.id });
          return;
        }
        // Another contact holds the row's external id, and the refusal does not say which: ROW_EXTERNAL_ID_TAKEN, and as for that
        // code everywhere the results' _contact_id is empty (the message names an update's contact, the row's own).
        const taken = unnamedExternalIdHolder(row.desired, api, plan.action === 'update' ? plan.id : undefined);
        if (taken) {
          await ledger.fail({ ...row, email }, taken, { status: api?.status, requestId: api?.requestId });
          return;
        }
        await ledger.fail({ ...row, email }, {
          code: rowCodeOfApiError(api),
          field: rowFieldOfApiError(api, sentColumns(row.desired)),
          message: rowMessageOfApiError(api, error),
        }, { status: api?.status, requestId: api?.requestId, ...(plan.action === 'update' ? { id: plan.id } : {}) }); // an update's contact is known
      } catch (reportError) {
        control.judge(reportError);
        ledger.notProcessed();
      }
    }
  };

  /**
   * GET /accounts/{id} refused the id: 404, or a 400 or 422 from a server that checks an id's form (a UUID) before looking
   * it up. No account has it, so its rows fail ROW_ACCOUNT_NOT_FOUND; before, a 400 stopped the whole run.
   */
  const noSuchAccount = (error: unknown) => error instanceof PylonApiError && (error.status === 404 || error.status === 400 || error.status === 422);
  /** Account ids rows set, and whether an account has that id (checkAccountIds). */
  const knownAccountIds = new Map<string, boolean>();
  const resolveAccounts = async (rows: ChunkRow[]) => {
    for (const row of rows) {
      const id = parts.checkAccountIds ? (row.desired.account_id ?? row.desired.account_id_if_unset) : undefined;
      if (id && !knownAccountIds.has(id)) {
        try {
          // GET /accounts/{id} also answers an account's external id: only the account's own id is one a contact can take.
          const res = await pool.run(() => client.getAccount(id, { signal }));
          knownAccountIds.set(id, res.data.id === id);
        } catch (error) {
          if (noSuchAccount(error)) knownAccountIds.set(id, false);
          else throw error;
        }
      }
      const ext = row.desired.account_external_id;
      if (!ext || accountIds.has(ext)) continue;
      try {
        const res = await pool.run(() => client.getAccount(ext, { signal }));
        accountIds.set(ext, res.data.id);
      } catch (error) {
        if (noSuchAccount(error)) accountIds.set(ext, null);
        else throw error;
      }
    }
  };

  const dispatchRow = async (row: ChunkRow, match: Match, held: Match | undefined, emailHolder: Match | undefined, settled = false, secondary?: SecondaryMatch, via?: string) => {
    const email = row.desired.email;
    const ref = { ...row, email };
    // The row's external id held under another label by the contact it matched: another system's record, never this row's.
    const conflict = externalIdConflict(row.desired, [match.kind === 'one' ? match.contact : undefined]);
    if (conflict) {
      await ledger.fail(ref, conflict);
      return;
    }
    if (match.kind === 'many') {
      await ledger.fail(ref, { code: 'ROW_AMBIGUOUS_MATCH', field: row.desired.id ? 'id' : 'email', message: `${match.ids.length} contacts match (${match.ids.join(', ')}); fix the duplicates in Pylon or add an id column` });
      return;
    }
    // Nothing found by the row's email (or external id): its secondary emails may find the contact (a merged record's old address).
    if (match.kind === 'none' && secondary?.kind === 'many') {
      const ids = [...new Set(secondary.found.flatMap((f) => f.ids))];
      await ledger.fail(ref, {
        code: 'ROW_AMBIGUOUS_MATCH',
        field: 'emails',
        message: `No contact has ${describeOwnKeys(row)}, and its secondary emails match ${ids.length} contacts (${secondary.found.map((f) => `${f.email}: ${f.ids.join(', ')}`).join('; ')}): nothing was written, the tool never guesses. Merge those contacts in Pylon, or remove from the row the addresses that are not this person's`,
      });
      return;
    }
    if (match.kind === 'none' && secondary?.kind === 'one') {
      secondaryOnly.push({ row, held, emailHolder, contact: secondary.contact, via: secondary.via });
      return;
    }
    const ext = row.desired.account_external_id;
    if (ext && accountIds.get(ext) === null) {
      await ledger.fail(ref, { code: 'ROW_ACCOUNT_NOT_FOUND', field: 'account_external_id', message: `No account has external id ${ext}` });
      return;
    }
    const accountId = row.desired.account_id ?? row.desired.account_id_if_unset;
    if (accountId && knownAccountIds.get(accountId) === false) {
      await ledger.fail(ref, { code: 'ROW_ACCOUNT_NOT_FOUND', field: 'account_id', message: `No account has id ${accountId}: check the id in Pylon (an account's id, not its external id), or leave the cell empty` });
      return;
    }
    const existing = match.kind === 'one' ? match.contact : undefined;
    // A row an error report says was a duplicate, imported again from that report: the contact it finds is the one the kept
    // row made or matched (one email, one row), so it is not written over it, unless the user cleared its _error_code.
    if (row.reportedDuplicate && existing) {
      const { line, of, same } = row.reportedDuplicate;
      const label = row.desired.external_id_label || DEFAULT_EXTERNAL_ID_LABEL;
      // What found the contact: the row's id, a secondary email, its (label, id), or else its email.
      const [field, answersTo] = row.desired.id
        ? ['id', `id ${row.desired.id}`]
        : via
          ? ['emails', `secondary email ${via}`]
          : row.desired.external_id && existing.external_ids?.some((e) => e.external_id === row.desired.external_id && e.label === label)
            ? ['external_id', `external id ${row.desired.external_id} (label "${label}")`]
            : ['email', `email ${email}`];
      await ledger.fail(ref, {
        code: 'ROW_DUPLICATE_IN_FILE',
        field,
        message: `This row (line ${line} of the file this error report came from) was a duplicate of ${of ? `line ${of} there${same ? ` (${same})` : ''}` : 'another row there'}, and contact ${existing.id} answers to its ${answersTo}: one email, one row, so it is not written over that contact. If this row is the one to keep, empty its _error_code cell and import it again; otherwise delete it from the report`,
      });
      return;
    }
    // Found by email, holding another id of the row's system: whether that record is also a row of this file is known at the end.
    const otherId = !settled && existing && parts.fileLineOf ? otherIdUnderLabel(row.desired, existing) : undefined;
    if (otherId !== undefined) {
      otherRecords.push({ row, match, held, otherId, emailHolder, ...(via ? { via } : {}) });
      return;
    }
    // The row's contact (found by its id) would take an email another contact holds: Pylon refuses it, or keeps two contacts
    // with one email. Decided from the lookup, so the dry run says what the real run does whatever order the writes go in.
    const holders = emailHolder?.kind === 'one' ? [emailHolder.contact.id] : emailHolder?.kind === 'many' ? emailHolder.ids : [];
    // A contact that already holds the address (it is its own, beside a duplicate a server allowing them keeps) takes nothing.
    const own = typeof email === 'string' && existing !== undefined && [existing.email, ...(existing.emails ?? [])].some((e) => e?.toLowerCase() === email.toLowerCase());
    const others = existing && !own ? holders.filter((id) => id !== existing.id) : [];
    if (others.length > 0) {
      const matchedBy = row.desired.id ? `its id ${row.desired.id}` : `its external id ${row.desired.external_id}`;
      await ledger.fail(
        ref,
        {
          code: 'ROW_EMAIL_TAKEN',
          field: 'email',
          message: `Contact ${existing!.id} (matched by ${matchedBy}) would take the email ${email}, which contact ${others.join(', ')} holds; nothing was written. If that contact takes another email in this run, import this row again; otherwise merge or fix the two in Pylon or the source`,
        },
        { id: existing!.id },
      );
      return;
    }
    // Two rows naming two emails of one contact (its primary and a secondary, say) would both write it, each re-run flipping
    // it between them: the later row fails as a duplicate, as two rows of one email do, in the dry run as in the real run.
    if (existing) {
      const first = contactLines.get(existing.id);
      if (first !== undefined && first !== row.line) {
        await ledger.fail(
          ref,
          {
            code: 'ROW_DUPLICATE_IN_FILE',
            field: row.desired.id ? 'id' : 'email',
            message: `Duplicate of line ${first} (same contact: ${existing.id} answers to the ${row.desired.id ? 'id or email' : 'email'} of both rows); nothing was written for this row. Keep one row per contact: merge the two rows, or delete this one`,
          },
          { id: existing.id },
        );
        return;
      }
      contactLines.set(existing.id, row.line);
    }
    const plan = planRow(row.desired, existing, planContext);
    // The row's external id held under another label by another contact (the list lookup knows; search only when it saw that
    // contact): whether the write carrying it is taken is the server's to say (ids per contact type, as Pylon documents, or per
    // label). The real run sends it; the dry run predicts from what this host was seen to do.
    const heldElsewhere = held?.kind === 'one' && held.contact.id !== existing?.id && carriesExternalId(plan) ? externalIdConflict(row.desired, [held.contact]) : undefined;
    // A label that differs only in case most likely names the same system: another contact for it would be a duplicate person.
    if (heldElsewhere && sameLabelButCase(row.desired, held)) {
      await ledger.fail(ref, heldElsewhere);
      return;
    }
    // A host remembered to refuse such a write is not sent it again: the real run fails the row as the dry run predicts.
    if (heldElsewhere && (parts.dryRun || planContext.clears?.externalIdUnderOtherLabel()?.takes === false)) {
      const prediction = predictHeldExternalId(heldElsewhere, planContext.clears, parts.dryRun);
      if (prediction) {
        if (!predictionNoted && !planContext.clears?.externalIdUnderOtherLabel()) {
          predictionNoted = true;
          parts.onNote?.(`dry run: rows whose external id another contact holds under another label are counted failed (ROW_EXTERNAL_ID_TAKEN), as Pylon documents external ids unique per contact type; whether ${planContext.clears?.hostName ?? 'this host'} refuses them has not been seen yet, so that is unverified: the real run sends them and reports what the server does`);
        }
        await ledger.fail(ref, prediction);
        return;
      }
    }
    if (heldElsewhere) row = { ...row, heldExternalId: heldElsewhere };
    // A write an interrupted earlier run sent without recording its answer.
    const sent = journal?.sentBefore.get(row.line);
    // The email a PATCH that landed set: its change, or the row's when the entry is an earlier --resume's follow-up
    // PATCH emails (below: journaled with no change of its own), itself killed unanswered.
    const sentEmail = sent?.changes ? (sent.changes.find((c) => c.column === 'email')?.to ?? (sent.changes.length === 0 ? (email ?? undefined) : undefined)) : undefined;
    // Left to send after a PATCH that landed: at most the row's email, which the server added as a secondary address.
    const onlyEmailLeft = plan.action === 'update' && sentEmail !== undefined && plan.changes.every((c) => c.column === 'email' && sameEmail(sentEmail, c.to));
    if (sent && existing && (plan.action === 'unchanged' || plan.action === 'skip' || onlyEmailLeft)) {
      // It landed: a create made this contact; a PATCH changed it, from the values the journal kept.
      if (!sent.changes) {
        // Unless the server merged that create into a contact that existed (write-policy.ts mergeIssue).
        const { email: rowEmail, external_id, phone_numbers, primary_phone_number } = row.desired;
        const merged = mergeIssue(
          { email: rowEmail ?? undefined, external_ids: external_id ? [{ external_id, label: '' }] : undefined, phone_numbers: phone_numbers ?? undefined, primary_phone_number: primary_phone_number ?? undefined },
          existing,
        );
        return merged ? ledger.fail(ref, merged, { id: existing.id }) : ledger.record(ref, 'created', { id: existing.id });
      }
      if (sent.id === existing.id) {
        await parts.undo?.write({ id: sent.id, email }, sent.changes);
        // Its PATCH email landed as a secondary address (a server that adds it), or landed as the primary with the one it
        // replaced kept as a secondary (a server that demotes it), and the run stopped before the PATCH emails making the
        // contact's addresses what a replacing PATCH leaves (clears.ts makePrimary): sent now, with no change of its own to undo.
        const to = sentEmail;
        // (An earlier --resume's follow-up, itself killed unanswered, journaled the primary it drops.)
        const replaced = sent.changes.find((c) => c.column === 'email')?.from || sent.replaced || undefined;
        const demoted = replaced !== undefined && to !== undefined && !sameEmail(replaced, to) && (existing.emails ?? []).some((e) => sameEmail(e, replaced));
        if (to && !parts.dryRun && existing.email !== undefined && (!sameEmail(existing.email, to) || demoted)) {
          await pool.whenReady();
          void pool.run(() => write(row, { action: 'update', id: existing.id, body: { email: to }, changes: [], ...(replaced ? { replacedEmail: replaced } : {}) }));
          return;
        }
        return ledger.record(ref, 'updated', { id: sent.id });
      }
    }
    if (sent && !sent.changes && !existing && plan.action === 'create' && !parts.dryRun) {
      // That create may still be in flight from the killed process: decided at the end of the run.
      deferred.push({ row, plan, sentAt: sent.at ?? journal!.lastWrittenAt, lateMs: late });
      return;
    }
    if (parts.dryRun && plan.action !== 'fail' && plan.action !== 'create') parts.onMatch?.(row.line, plan.id);
    switch (plan.action) {
      case 'fail':
        return ledger.fail(ref, plan.issue);
      case 'unchanged':
        return ledger.record(ref, 'unchanged', { id: plan.id });
      case 'skip':
        return ledger.record(ref, 'skipped', { id: plan.id, message: plan.reason });
      case 'create':
      case 'update':
        if (parts.dryRun) {
          planned[plan.action === 'create' ? 'create' : 'patch']++;
          // A new email replacing a primary: a server whose PATCH email keeps the replaced address gets a second PATCH (emails).
          if (plan.action === 'update' && plan.changes.some((c) => c.column === 'email' && c.from !== '')) {
            const seen = planContext.clears?.patchEmailKeepsReplaced();
            if (seen?.keeps) {
              planned.followUp++;
              // Counted from memory: a host that stopped keeping it since is found out by the real run (and remembered).
              if (!patchEmailNoted && (patchEmailNoted = true)) {
                parts.onNote?.(`dry run: rows that replace a contact's primary email are counted as two PATCHes each (PATCH email, then PATCH emails dropping the address it kept), as ${planContext.clears?.hostName ?? 'this host'}'s PATCH email was seen to keep the address it replaces (${seen.at}); should it no longer do so, the real run sends one PATCH for each such row and remembers that`);
              }
            } else if (!seen && !patchEmailNoted && (patchEmailNoted = true)) {
              parts.onNote?.(`dry run: rows that replace a contact's primary email are counted as one PATCH each; what ${planContext.clears?.hostName ?? 'this host'}'s PATCH email does with the address it replaces has not been seen yet, and where it keeps it the real run sends a second PATCH (emails) for each such row`);
            }
          }
          if (plan.action === 'create' && row.desired.email) planned.search = 1; // the real run's probe of search's lag (one search when search is immediate)
          if (plan.action === 'create' && row.desired.external_id && lookup.strategy === 'search') createsByExternalIdUnknown++;
          if (plan.action === 'update' && lookup.strategy === 'search' && carriesExternalId(plan) && held?.kind !== 'one') updatesByExternalIdUnknown++;
          parts.onPlan?.(row.line, plan.action, plan.changes, { id: plan.action === 'update' ? plan.id : undefined, email: existing?.email ?? email });
          // The rest is sent, and the row fails on the clear the server does not take, as in the real run.
          if (plan.action === 'update' && plan.uncleared) return ledger.fail(ref, unclearedIssue(plan.uncleared), { id: plan.id });
          return ledger.record(ref, plan.action === 'create' ? 'created' : 'updated', {
            id: plan.action === 'update' ? plan.id : undefined,
            changes: describeChanges(plan.changes),
          });
        }
        await pool.whenReady();
        void pool.run(() => write(row, plan));
    }
  };

  /**
   * Each deferred create is looked up by email at checkpoints after its send: at
   * once, then 2, 4 and 6 × the timeout (the last being the late window); a hit is the
   * contact it created. Only a create still missing once the late window has
   * passed is sent again, and a resend that is uncertain in turn goes round again
   * (three rounds, then the row fails as uncertain).
   */
  const finishDeferred = async () => {
    // At once (a create cut off after it was applied is found then), then spaced out to the late window.
    const checkpoints = [0, 1 / 3, 2 / 3, 1];
    for (let round = 1; deferred.length > 0; round++) {
      let pending = deferred;
      deferred = [];
      if (round > MAX_ROUNDS) {
        for (const { row } of pending) {
          await ledger.fail({ ...row, email: row.desired.email }, { code: 'ROW_API_FAILED', field: 'email', message: `The create was sent ${MAX_ROUNDS} times without an answer; it was not found by email after waiting ${Math.ceil(late / 1000)} s or more each time. Check the contact in Pylon.` });
        }
        return;
      }
      let noted = false;
      for (const checkpoint of checkpoints) {
        const until = (share: number) => Math.max(...pending.map((d) => d.sentAt + share * d.lateMs));
        const wait = until(checkpoint) - Date.now();
        if (wait > 0) {
          // Said once, before the first wait (the first checkpoint, at once, usually has none).
          if (!noted && (noted = true)) parts.onNote?.(`checking ${pending.length} creates whose answer was lost, by email, for up to ${Math.ceil((until(1) - Date.now()) / 1000)} s (a server may apply a create late); none is sent again before`);
          await sleep(wait, undefined, { signal }).catch(() => undefined);
        }
        await parts.visibility?.settle();
        const missing: Deferred[] = [];
        for (const [k, item] of pending.entries()) {
          if (control.stopped) {
            ledger.notProcessed(pending.length - k);
            return;
          }
          const email = item.row.desired.email!;
          parts.onUncertainCreate?.(email, item.row.line);
          try {
            const [found] = await findByEmail(client, email, signal);
            // A server that merged the create into the contact holding the email: that contact, changed (write-policy.ts mergeIssue).
            const merged = found ? mergeIssue(item.plan.body, found) : undefined;
            if (merged) await ledger.fail({ ...item.row, email }, merged, { id: found!.id });
            else if (found) {
              claimCreated(found.id, item.row.line);
              await ledger.record({ ...item.row, email }, 'created', { id: found.id });
            }
            else missing.push(item);
          } catch (error) {
            if (control.judge(error) === 'stop') ledger.notProcessed();
            else await ledger.fail({ ...item.row, email }, { code: 'ROW_API_FAILED', message: error instanceof Error ? error.message : String(error) });
          }
        }
        pending = missing;
        // Creates the server answered, or that carry an idempotency key, have no late window to wait out.
        if (pending.length === 0 || pending.every((d) => d.lateMs === 0)) break;
      }
      // A create the server answered with success was applied: not found (search lags beyond what was measured), it is
      // counted created with its id unknown, never sent again (on a server allowing duplicate emails, a second contact).
      for (const { row } of pending.filter((d) => d.applied)) {
        const email = row.desired.email!;
        await ledger.record({ ...row, email }, 'created', {
          message: `Pylon answered the create with success but without the contact, and search did not show a contact with ${email} afterwards (it may lag): the contact was created, its id is unknown; it was not sent again. Check it in Pylon`,
        });
      }
      pending = pending.filter((d) => !d.applied);
      if (pending.length === 0) continue;
      // Not found after the late window: those creates did not land; each is sent again, backing off as the retry policy does.
      if (round > 1) await sleep(Math.min(DEFAULT_RETRY.baseDelayMs * 2 ** (round - 2), DEFAULT_RETRY.maxDelayMs), undefined, { signal }).catch(() => undefined);
      for (const [k, { row, plan }] of pending.entries()) {
        if (control.stopped) {
          ledger.notProcessed(pending.length - k);
          return;
        }
        await write(row, plan, true);
      }
    }
  };

  /**
   * Works through rows held back until the file was read, one at a time: a stop (or an error that stops the run)
   * counts the rest as not processed.
   */
  const settleHeld = async <T,>(pending: readonly T[], settle: (item: T) => Promise<void>) => {
    for (const [k, item] of pending.entries()) {
      if (control.stopped) {
        ledger.notProcessed(pending.length - k);
        return;
      }
      try {
        await settle(item);
      } catch (error) {
        control.stopOrThrow(error);
        ledger.notProcessed(pending.length - k);
        return;
      }
    }
  };

  /**
   * A row found by a secondary email only takes the contact (its email then becomes the row's) unless another row of
   * the file claims one of the contact's addresses: that row finds the contact by its own email, so it is that row's.
   */
  const finishSecondaryOnly = async () => {
    const pending = secondaryOnly;
    secondaryOnly = [];
    await settleHeld(pending, async ({ row, contact, via, held, emailHolder }) => {
      const addresses = [...new Set([contact.email, ...(contact.emails ?? [])].filter((e): e is string => !!e).map((e) => e.trim().toLowerCase()))];
      const owner = addresses.map((address) => ({ address, line: parts.fileLineOf?.(emailKey(address)) })).find((o) => o.line !== undefined && o.line !== row.line);
      if (!owner) {
        const elsewhere = ownedElsewhere(row.desired, contact);
        if (!elsewhere) return dispatchRow(row, { kind: 'one', contact }, held, emailHolder, false, undefined, via);
        return ledger.fail({ ...row, email: row.desired.email }, {
          code: 'ROW_EMAIL_OF_OTHER_RECORD',
          field: 'emails',
          message: `No contact has ${describeOwnKeys(row)}; its secondary email ${via} is held by contact ${contact.id}, which is ${elsewhere}: this row is not written over it (its email and name would replace that contact's, and each import of the two sources would then take it back). If ${via} is not this person's address, remove it from the row (or from the source); if the two are one person, merge them in Pylon or the source`,
        });
      }
      await ledger.fail({ ...row, email: row.desired.email }, {
        code: 'ROW_EMAIL_OF_OTHER_RECORD',
        field: 'emails',
        message: `No contact has ${describeOwnKeys(row)}; its secondary email ${via} is held by contact ${contact.id}, whose address ${owner.address} line ${owner.line} of this file has: that contact is line ${owner.line}'s, so this row is not written over it. Remove ${via} from one of the two rows, or merge them`,
      });
    });
  };

  const finishOtherRecords = async () => {
    // First the rows found by a secondary email: one may turn out to be found by another record's contact.
    await finishSecondaryOnly();
    const pending = otherRecords;
    otherRecords = [];
    await settleHeld(pending, async ({ row, match, held, otherId, emailHolder, via }) => {
      const label = row.desired.external_id_label || DEFAULT_EXTERNAL_ID_LABEL;
      const owner = parts.fileLineOf?.(externalIdKey(label, otherId));
      if (owner === undefined) return dispatchRow(row, match, held, emailHolder, true);
      const contact = (match as Extract<Match, { kind: 'one' }>).contact;
      await ledger.fail({ ...row, email: row.desired.email }, {
        code: 'ROW_EMAIL_OF_OTHER_RECORD',
        field: via ? 'emails' : 'email',
        message: `${via ? `Secondary email ${via}` : `Email ${row.desired.email}`} is held by contact ${contact.id}, which is ${label} record ${otherId}, and line ${owner} of this file is that record: this row (${label} record ${row.desired.external_id}) is not written over it. Once line ${owner}'s email is in Pylon, import this row again and its contact is created`,
      });
    });
  };

  return {
    finishDeferred,
    finishOtherRecords,
    planned,
    replayed(line, previous) {
      // The rows that took their contact in that run: any outcome reached past the claim in dispatchRow, and a create
      // (its contact is the row's, whether this run or an earlier resume made or recovered it). A duplicate or a taken
      // email failed before the claim; those took none.
      if (previous.id === undefined) return;
      if (previous.o === 'failed' && (previous.code === 'ROW_DUPLICATE_IN_FILE' || previous.code === 'ROW_EMAIL_TAKEN')) return;
      if (!contactLines.has(previous.id)) contactLines.set(previous.id, line);
    },
    get createsByExternalIdUnknown() {
      return createsByExternalIdUnknown;
    },
    get updatesByExternalIdUnknown() {
      return updatesByExternalIdUnknown;
    },
    async dispatch(chunk) {
      if (chunk.length === 0) return;
      let done = 0;
      try {
        // Held-id keys cost no call: the list answers them from memory, and search sends only email and id parts.
        const keys = chunk.flatMap((r) => [r.key, heldKeyOf(r), emailHolderKeyOf(r, lookup)]).filter((k): k is LookupKey => k !== undefined);
        const matches = keys.length > 0 ? await pool.run(() => lookup.resolve(keys, signal)) : new Map<LookupKey, Match>();
        // Secondary emails are looked up only for the rows nothing else found: search spends batch room on those alone.
        // With search, so are the emails a row's contact would take (searchedHolderKeyOf), in the same call.
        const holderKeys = chunk.map((r) => searchedHolderKeyOf(r, lookup, matches)).filter((k): k is LookupKey => k !== undefined && !matches.has(k));
        const secondaryKeys = [...new Set([...chunk.filter((r) => needsSecondary(r, matches)).flatMap((r) => secondaryKeysOf(r.desired)), ...holderKeys])];
        if (secondaryKeys.length > 0) for (const [key, match] of await pool.run(() => lookup.resolve(secondaryKeys, signal))) matches.set(key, match);
        await resolveAccounts(chunk);
        for (const [i, row] of chunk.entries()) {
          if (control.stopped) {
            ledger.notProcessed(chunk.length - i);
            return;
          }
          const held = heldKeyOf(row);
          const holder = emailHolderKeyOf(row, lookup) ?? searchedHolderKeyOf(row, lookup, matches);
          const secondary = needsSecondary(row, matches) ? secondaryMatchOf(row, matches) : undefined;
          await dispatchRow(row, row.key ? matches.get(row.key) ?? { kind: 'none' } : { kind: 'none' }, held ? matches.get(held) : undefined, holder ? matches.get(holder) : undefined, false, secondary);
          done++;
        }
      } catch (error) {
        // A lookup or a report that failed stops the run; the chunk's rows without an outcome are not processed.
        control.stopOrThrow(error);
        ledger.notProcessed(chunk.length - done);
      }
    },
  };
}

/** Whether the contact holding the row's external id holds it under a label that differs from the row's only in case. */
function sameLabelButCase(desired: KeyedRow, held: Match | undefined): boolean {
  if (held?.kind !== 'one' || !desired.external_id) return false;
  const label = held.contact.external_ids?.find((e) => e.external_id === desired.external_id)?.label ?? '';
  return label.toLowerCase() === (desired.external_id_label || DEFAULT_EXTERNAL_ID_LABEL).toLowerCase();
}

/** Whether a planned write sends the row's external id (a create always does; an update when it adds it). */
function carriesExternalId(plan: Plan): boolean {
  return plan.action === 'create' ? plan.body.external_ids !== undefined : plan.action === 'update' && plan.changes.some((c) => c.column === 'external_id');
}

/**
 * The dry run's outcome for a write carrying an external id another contact holds under another label: the refusal,
 * unless this host was seen to take such a write (then undefined: it is planned as any other). Unknown: Pylon's
 * documented behaviour (ids unique per contact type), and the message says it is not verified for this host.
 * The real run (`dryRun` false) fails the row unsent only where the host was seen to refuse such a write.
 */
export function predictHeldExternalId(conflict: RowIssue, memory: ServerMemory | undefined, dryRun = true): RowIssue | undefined {
  const seen = memory?.externalIdUnderOtherLabel();
  if (seen?.takes) return undefined;
  const host = memory?.hostName ?? 'this host';
  if (!dryRun) {
    if (!seen) return undefined;
    return {
      ...conflict,
      message: `${conflict.message.replace(/; nothing was written$/, '')}. Not sent: ${host} refused such a write when it was last sent (${seen.at.slice(0, 10)}, recorded in ${memory!.where}), so nothing was written; if this host now keeps ids per label, delete that file and import the row again`,
    };
  }
  const why = seen
    ? `${host} refused such a write when it was last sent (${seen.at.slice(0, 10)}, recorded in ${memory!.where}), so the real run is expected to fail it the same way`
    : `predicted from Pylon's docs (an external id is unique per contact type); ${host} has not yet been seen to refuse or take one, so this is unverified: the real run sends the write, and a server that keeps ids per label takes it`;
  return { ...conflict, message: `${conflict.message.replace(/; nothing was written$/, '')}. Dry run: ${why}` };
}

/** What the row's own keys are, for a message saying they found no contact. */
function describeOwnKeys(row: ChunkRow): string {
  const { email, external_id: id, external_id_label: label } = row.desired;
  const ext = id ? `external id ${id} (label "${label || DEFAULT_EXTERNAL_ID_LABEL}")` : '';
  return [email ? `the row's email ${email}` : '', ext].filter((x) => x).join(' or ') || 'the row\'s email';
}

function describeChanges(changes: FieldChange[]): string {
  return changes.map((c) => `${c.column}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join('; ');
}

