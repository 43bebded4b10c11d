import { createHash } from 'node:crypto';
import type { PylonClient } from '../pylon/api.js';
import { PylonApiError, RequestAbortedError, isRefusal } from '../pylon/errors.js';
import type { DesiredContact } from './desired.js';
import type { Outcome } from '../run/journal.js';
import { holderOfRefusedEmail } from './lookup.js';
import { mayHaveChanged, sameEmail, unclearedIssue, updateWithClears, type UnclearedField } from './clears.js';
import type { RowIssue } from './desired.js';
import type { FieldChange, Plan, PlanContext } from './plan.js';
import { diffContact } from './plan.js';
import type { SearchVisibility } from './search-visibility.js';
import type { UndoWriter } from '../run/undo-writer.js';
import { externalIdConflict } from './identity.js';
import type { Contact, ContactCreate } from '../pylon/types.js';
import { accountCell } from '../update/plan-file.js';

/** A row ready to be written: validated, de-duplicated, matched. */
export interface PendingRow {
  line: number;
  cells: readonly string[];
  desired: DesiredContact;
  /** What the migration left out of the row (see RowRef). */
  notes?: readonly string[];
  /**
   * The row comes from an error report that says it was a duplicate (`_error_code` ROW_DUPLICATE_IN_FILE), with its line in
   * the file that report came from: it must not be written over a contact that exists (the kept row's), see dispatch.ts.
   */
  reportedDuplicate?: ReportedDuplicate;
  /**
   * The row's external id is held under another label by another contact (the lookup saw it), named by this issue: a
   * refusal of the write is that (ROW_EXTERNAL_ID_TAKEN), and the server's answer tells whether it keeps ids per label.
   */
  heldExternalId?: RowIssue;
}

/** An error report's ROW_DUPLICATE_IN_FILE row: its line in the file the report came from, and the line (`of`) and reason (`same …`) of the row it duplicated there, when the report says them. */
export interface ReportedDuplicate {
  line: string;
  of?: string;
  same?: string;
}

export type WritePlan = Plan & { action: 'create' | 'update' };

export interface WriteResult {
  /** `uncertain`: a create whose answer was lost; the caller defers it (see dispatch.ts), nothing is recorded yet. */
  outcome: Outcome | 'uncertain';
  /** With `uncertain`: no earlier than the create went out (ms since the epoch). */
  sentAt?: number;
  /** With `uncertain`: how long after `sentAt` the server may still apply it. */
  lateMs?: number;
  /** With `uncertain`: the server answered the create with success (without the contact): it was applied, and is never sent again. */
  applied?: boolean;
  id: string;
  requestId?: string;
  /** With outcome `skipped`: why. */
  message?: string;
  /** With outcome `failed`: why (the write went out, but not all of it took). */
  issue?: RowIssue;
}

export interface WritePolicyContext {
  client: PylonClient;
  planContext: PlanContext;
  /** The client's request timeout: a create cut off by it may still be applied until about then. */
  timeoutMs: number;
  signal?: AbortSignal;
  undo?: UndoWriter;
  /** Called just before a write goes out (the journal's `sent` entry). */
  beforeSend?: (line: number, update?: { id: string; email?: string | null; changes: FieldChange[]; replaced?: string }) => void;
  /** Called when a create that went out was answered without being applied (the journal's `unsent` entry). */
  notApplied?: (line: number) => void;
  onNote?: (message: string) => void;
  /** How long search takes to show a new contact: measured on the first create, waited out before a reconciling search. */
  visibility?: SearchVisibility;
  /** `--idempotency-key external-id`: the external id a row's create carries (Pylon refuses a second contact with it). */
  idempotencyKey?: (row: PendingRow) => string | undefined;
  /**
   * Read the contact again by id just before each planned PATCH (`update`): the lookup may be minutes or hours old by the
   * time a paced PATCH goes out, and Pylon has no conditional PATCH. A field edited since the lookup fails the row
   * ROW_DRIFTED, nothing sent; otherwise the PATCH and its undo row are computed from that read.
   */
  rereadBeforePatch?: boolean;
  /** Called for each email whose create was uncertain (sent more than once, or reconciled): checked for duplicates at the end. */
  onUncertainCreate?: (email: string, line: number) => void;
  /** Called for a row without an email whose create Pylon answered 2xx without the contact's id: created, but nothing finds it to confirm. */
  onCreatedWithoutId?: (line: number) => void;
}

export interface WritePolicy {
  /** Sends a planned create or update; resolves with the row's outcome, or rejects with the error that ended it. */
  write(row: PendingRow, plan: WritePlan, options?: { resend?: boolean }): Promise<WriteResult>;
}

/**
 * What one planned row sends, and what its answer means. It does not count or
 * report anything (the ledger does), so it is tested against a scripted server
 * without a CSV.
 *
 * - update: one PATCH of the changed fields; the undo file gets the old values.
 *   A `""` clear the server refuses or ignores fails the row (ROW_CANNOT_CLEAR)
 *   after the rest was applied, and is left out of the undo row; the clear is
 *   remembered (clears.ts ServerMemory) and not sent again.
 * - create: one POST. A refusal carrying `exists_id` (the email is taken) becomes
 *   an update of that contact (`--mode create`: skipped). A create that may have
 *   been applied (timeout, 5xx, connection cut) is `uncertain`: it is not sent
 *   again here. The dispatcher defers it to the end of the run and looks its email
 *   up until the late window (`lateWindowMs`) has passed since it was sent; only
 *   a miss then sends it again (`resend`: a refusal naming the holder means it did land).
 */
export function createWritePolicy(ctx: WritePolicyContext): WritePolicy {
  const { client, signal } = ctx;

  const update = async (row: PendingRow, id: string, body: WritePlan['body'], changes: FieldChange[], planned: readonly UnclearedField[] = [], replacedEmail?: string): Promise<WriteResult> => {
    // The journal's `sent` entry (from which the undo row can be rebuilt) is written when the PATCH leaves the pacer.
    let wentOut = false;
    // The primary a new email replaces is dropped should the server keep it as a secondary address (PATCH email that
    // demotes it): left there, it is still the source's old address on this contact, and the row of another record
    // holding that address (ROW_EMAIL_OF_OTHER_RECORD, imported again as its message says) took the contact over.
    // A resumed run's follow-up (no change of its own) journals it: a run resumed again still drops it.
    const replaced = changes.find((c) => c.column === 'email' && c.from !== '')?.from ?? replacedEmail;
    const sent = once(() => {
      wentOut = true;
      ctx.beforeSend?.(row.line, { id, email: row.desired.email, changes, ...(replacedEmail && changes.length === 0 ? { replaced: replacedEmail } : {}) });
    });
    // A "" clear may be refused or ignored by the server: the undo row then leaves that field out, and the row says so.
    // What it shows is remembered (planContext.clears): later rows, and later runs, do not send it again.
    let answer: Awaited<ReturnType<typeof updateWithClears>>;
    try {
      answer = await updateWithClears(client, id, body, signal, sent, ctx.planContext.clears, ctx.onNote, replaced);
    } catch (error) {
      // An undo row before each change: a PATCH that went out and got no answer (Ctrl-C while the server stalls, a
      // timeout, a cut connection) may have been applied, so its undo row is written now (for a change that did not
      // happen it is harmless: undo finds the value already there).
      if (wentOut && mayHaveChanged(error)) await ctx.undo?.write({ id, email: row.desired.email }, changes);
      throw error;
    }
    const uncleared = [...planned, ...answer.uncleared];
    const applied = uncleared.length === 0 ? changes : changes.filter((c) => !uncleared.some((u) => u.field === c.column));
    if (applied.length > 0) await ctx.undo?.write({ id, email: row.desired.email }, applied);
    if (answer.error !== undefined) throw answer.error;
    const requestId = answer.res?.requestId;
    if (uncleared.length > 0) return { outcome: 'failed', id, requestId, issue: unclearedIssue(uncleared, applied.length > 0) };
    if (answer.notPrimary) return { outcome: 'failed', id, requestId, issue: { code: 'ROW_EMAIL_NOT_PRIMARY', field: 'email', message: answer.notPrimary } };
    return { outcome: 'updated', id, requestId };
  };

  /** The email is taken by `existingId`: update that contact (only what differs), or skip it in create mode. */
  const takeOver = async (row: PendingRow, existingId: string, requestId: string | undefined, createdByUs: boolean): Promise<WriteResult> => {
    if (ctx.planContext.mode === 'create' && !createdByUs) return { outcome: 'skipped', id: existingId, requestId, message: `a contact with this email already exists (${existingId}); --mode create never updates` };
    const existing = await client.getContact(existingId, { signal });
    // Refused because another system's record holds the row's external id: never "the same person". The server keeps ids per contact type.
    const conflict = externalIdConflict(row.desired, [existing.data]);
    if (conflict) {
      ctx.planContext.clears?.learnExternalIdUnderOtherLabel(false, ctx.onNote);
      // The contact is the holder's, not the row's: the results file leaves _contact_id empty (the message names the holder).
      return { outcome: 'failed', id: '', requestId: existing.requestId, issue: conflict };
    }
    const diff = diffContact(row.desired, existing.data, ctx.planContext);
    // The clears the server is known not to take are left out by updateWithClears, and fail the row there.
    const patched = diff.changes.length > 0 ? await update(row, existingId, diff.body, diff.changes) : undefined;
    if (patched?.outcome === 'failed') return patched;
    if (createdByUs) return { outcome: 'created', id: existingId, requestId: existing.requestId };
    return { outcome: patched ? 'updated' : 'unchanged', id: existingId, requestId: existing.requestId };
  };

  const create = async (row: PendingRow, plan: WritePlan & { action: 'create' }, resend: boolean): Promise<WriteResult> => {
    const email = row.desired.email;
    const key = ctx.idempotencyKey?.(row);
    /** When the create left the pacer; undefined while it never went out. */
    let sentAt: number | undefined;
    try {
      // Journaled once the request leaves the pacer: a create still queued at a stop was never sent.
      const body = key ? { ...plan.body, external_ids: [...(plan.body.external_ids ?? []), { external_id: key, label: IDEMPOTENCY_LABEL }] } : plan.body;
      const res = await client.createContact(body, {
        signal,
        onSent: once(() => {
          sentAt = Date.now();
          ctx.beforeSend?.(row.line);
        }),
      });
      if (email) await ctx.visibility?.measure(email, res.data.id, sentAt);
      // A server that merges a create into the contact already holding its email answers that contact: an update whose
      // previous values nobody read, so no undo row can hold them. Reported as such, never as created.
      const merged = mergeIssue(body, res.data);
      if (merged) return { outcome: 'failed', id: res.data.id, requestId: res.requestId, issue: merged };
      return { outcome: 'created', id: res.data.id, requestId: res.requestId };
    } catch (error) {
      // A create is sent again only when its answer proved it was not applied (a 429; the client never resends one whose answer
      // was lost: retry.ts 'unsafe-write'): one that failed that way, or was let go waiting to be sent again (a stop, thrown as
      // RequestAbortedError), created nothing, so a --resume has no lost answer to wait for.
      if (sentAt !== undefined && ((error instanceof PylonApiError && !error.maybeApplied) || error instanceof RequestAbortedError)) ctx.notApplied?.(row.line);
      // A duplicate may also be refused without `exists_id` (undocumented): the email's holder is looked up.
      const existsId = error instanceof PylonApiError ? error.existsId ?? (await holderOfRefusedEmail(client, error, email, signal)) : undefined;
      if (existsId) return takeOver(row, existsId, (error as PylonApiError).requestId, resend);
      // A 2xx without the created contact's id (204, `{}`, `{"data": {}}`) did create it: it is found by email as a lost answer's
      // is, never sent again. A row without an email has nothing to find it by: created, its id unknown, and it says so.
      const answered = error instanceof PylonApiError && error.status !== undefined && error.status >= 200 && error.status < 300;
      if (answered && !email) {
        ctx.onCreatedWithoutId?.(row.line);
        const again = row.desired.external_id
          ? 'importing the row again finds it by its external id'
          : 'importing the row again would create a second one: do not, and find the contact in Pylon by its name to get its id';
        return { outcome: 'created', id: '', requestId: error.requestId, message: `Pylon answered ${error.status} to the create without the created contact's id, and the row has no email to look it up by: the contact was created (a 2xx), but its id is unknown; ${again}` };
      }
      if (!(error instanceof PylonApiError) || !error.maybeApplied || !email || signal?.aborted) throw error;
      // It may still land: never sent again now, but looked up after the late window, at the end of the run.
      ctx.onUncertainCreate?.(email, row.line);
      // Applied for sure: search's lag is measured on it (by its email), so that the lookup at the end of the run waits
      // for search to show it. Unmeasured, a lagging search missed it and it was sent again, once more each round.
      if (answered) await ctx.visibility?.measure(email, undefined, sentAt);
      ctx.onNote?.(
        answered
          ? `line ${row.line}: Pylon answered ${error.status} to the create without the created contact; finding it by email at the end of the run`
          : `line ${row.line}: create may have been applied (${error.message}); checking by email before sending again, at the end of the run`,
      );
      // A server that answered (5xx) is done with the request; one we stopped waiting for, or lost the connection to, may still apply it.
      // With an idempotency key a resend is refused (`exists_id`) if the first send landed: it need not wait for the late window.
      return { outcome: 'uncertain', id: '', sentAt: Date.now(), lateMs: error.status !== undefined || key ? 0 : lateWindowMs(ctx.timeoutMs), ...(answered ? { applied: true } : {}) };
    }
  };

  /** A planned update, checked first against a fresh read of its contact when asked (rereadBeforePatch). */
  const reread = async (row: PendingRow, plan: WritePlan & { action: 'update' }): Promise<WriteResult> => {
    // A --resume's follow-up of a PATCH email that landed as a secondary address (dispatch.ts): no change of its own to
    // check (its undo row is written from the journal); what it sends is the address that PATCH set, dropping the primary
    // it replaced (kept as a secondary by a server that demotes it).
    if (plan.changes.length === 0) return update(row, plan.id, plan.body, [], plan.uncleared, plan.replacedEmail);
    let live;
    try {
      live = await client.getContact(plan.id, { signal });
    } catch (error) {
      if (!(error instanceof PylonApiError && error.status === 404)) throw error;
      return { outcome: 'failed', id: plan.id, issue: { code: 'ROW_NOT_FOUND', field: 'id', message: `Contact ${plan.id} no longer exists: it was deleted while the run was going; nothing was written` } };
    }
    const diff = diffContact(row.desired, live.data, ctx.planContext);
    // A field whose live value is no longer the one the lookup read, unless it already holds the value to set.
    const drift = [...plan.changes, ...diff.changes.filter((d) => !plan.changes.some((c) => c.column === d.column))]
      .map((c) => {
        const read = plan.changes.find((p) => p.column === c.column);
        const now = diff.changes.find((d) => d.column === c.column);
        // An account set by its external id: the account it replaces is compared by id too (one without an external id, or
        // none, reads as "" either way), and named by its id when it has no external id.
        if (read?.accountId && now?.accountId && read.from === now.from && read.accountId.from !== now.accountId.from) {
          return { column: c.column, planned: accountCell(read.from, read.accountId.from), now: { ...now, from: accountCell(now.from, now.accountId.from) } };
        }
        return { column: c.column, planned: read?.from, now };
      })
      .filter((d) => d.now !== undefined && d.now.from !== d.planned);
    if (drift.length > 0) {
      return {
        outcome: 'failed',
        id: plan.id,
        requestId: live.requestId,
        issue: {
          code: 'ROW_DRIFTED',
          field: drift[0].column,
          message: `Changed while the run was going, left as it is: ${drift.map((d) => `${d.column} is now ${JSON.stringify(d.now!.from)}, the run read ${JSON.stringify(d.planned ?? d.now!.to)} (to set ${JSON.stringify(d.now!.to)})`).join('; ')}. Run the update again to apply it to the current values`,
        },
      };
    }
    if (diff.changes.length === 0) return { outcome: 'unchanged', id: plan.id, requestId: live.requestId };
    return update(row, plan.id, diff.body, diff.changes, plan.uncleared);
  };

  const send = (row: PendingRow, plan: WritePlan, resend: boolean) =>
    plan.action === 'update' ? (ctx.rereadBeforePatch ? reread(row, plan) : update(row, plan.id, plan.body, plan.changes, plan.uncleared, plan.replacedEmail)) : create(row, plan, resend);

  return {
    async write(row, plan, options) {
      const held = row.heldExternalId;
      if (!held) return send(row, plan, options?.resend ?? false);
      // The write carries an external id another contact holds under another label: the server decides, and is remembered.
      try {
        const result = await send(row, plan, options?.resend ?? false);
        if (result.outcome === 'created' || result.outcome === 'updated') ctx.planContext.clears?.learnExternalIdUnderOtherLabel(true, ctx.onNote);
        return result;
      } catch (error) {
        if (!isRefusal(error)) throw error;
        const why = error.errors.join('; ') || error.message;
        // Learnt only from a refusal that is about the id: a 400 for another field says nothing about it.
        if (row.desired.external_id && (why.includes(row.desired.external_id) || /external/i.test(why))) ctx.planContext.clears?.learnExternalIdUnderOtherLabel(false, ctx.onNote);
        return { outcome: 'failed', id: '', requestId: error.requestId, issue: { ...held, message: `${held.message} (Pylon refused the write: ${why})` } };
      }
    },
  };
}

/**
 * A create's answer that is a contact which existed before it: it holds an address, an external id or a phone number the
 * create did not send (a server that merges a create into the holder of its email, keeping the holder's own addresses,
 * and its ids and numbers unless the create sent its own: the body is applied as a PATCH, which replaces `external_ids`
 * and `phone_numbers`). A new contact holds only what was sent. Such a row changed an existing contact, whose values before
 * the write were never read: it fails ROW_MERGED_BY_SERVER, naming the contact, so the user sees the write the undo file
 * cannot restore. A holder with nothing the create did not send (or only what the create's own ids and numbers replaced)
 * cannot be told from a new contact (docs/import.md, "Undo").
 */
export function mergeIssue(sent: Pick<ContactCreate, 'email' | 'external_ids' | 'phone_numbers' | 'primary_phone_number'>, answer: Contact | undefined): RowIssue | undefined {
  if (!sent.email || !answer?.id) return undefined;
  const other = [...new Set([answer.email, ...(answer.emails ?? [])].filter((e): e is string => !!e && !sameEmail(e, sent.email!)))];
  const sentIds = new Set((sent.external_ids ?? []).map((e) => e.external_id));
  const ids = (answer.external_ids ?? []).filter((e) => e.label !== IDEMPOTENCY_LABEL && !sentIds.has(e.external_id)).map((e) => `${e.external_id} (${e.label})`);
  // No server makes up a phone number: one the create did not send is the holder's (its external ids a create carrying
  // ids of its own replaced, so they no longer show it).
  // Compared by their digits: a server that answers a number sent as 14155550199 as +1 415 555 0199 made no other.
  const digits = (n: string) => n.replace(/\D/g, '');
  const sentPhones = new Set([...(sent.phone_numbers ?? []), ...(sent.primary_phone_number ? [sent.primary_phone_number] : [])].map(digits));
  const phones = [...new Set([...(answer.phone_numbers ?? []), ...(answer.primary_phone_number ? [answer.primary_phone_number] : [])])].filter((n) => !sentPhones.has(digits(n)));
  if (other.length === 0 && ids.length === 0 && phones.length === 0) return undefined;
  const held = [
    other.length > 0 ? `the address${other.length === 1 ? '' : 'es'} ${other.join(', ')}` : '',
    ids.length > 0 ? `the external id${ids.length === 1 ? '' : 's'} ${ids.join(', ')}` : '',
    phones.length > 0 ? `the phone number${phones.length === 1 ? '' : 's'} ${phones.join(', ')}` : '',
  ]
    .filter((x) => x)
    .join(' and ');
  return {
    code: 'ROW_MERGED_BY_SERVER',
    field: 'email',
    message: `Pylon answered the create with contact ${answer.id}, which existed before it (it holds ${held}, which the create did not send): the server merged the row into the contact holding ${sent.email}, writing the row's values over its own. Its values before were not read (the lookup did not show it: another client made it, or search lagged), so the undo file cannot restore them, and nothing undoes this write. Check contact ${answer.id} in Pylon; importing this row again finds it and changes nothing more`,
  };
}

/** `fn` on the first call only (a retried request is journaled once per send decision). */
function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}

/**
 * How long after it was sent a create whose answer was lost may still be applied
 * by the server: six times the request timeout (a server holding creates up to five
 * times the timeout is covered). Only then does a miss in search mean it did not land.
 */
export function lateWindowMs(timeoutMs: number): number {
  return 6 * timeoutMs;
}

/** The label of the external id `--idempotency-key external-id` gives each created contact. */
export const IDEMPOTENCY_LABEL = 'pylon-contacts';

/**
 * The external id of a row's create: a hash of the input file's identity (its
 * sha256) and the row's key (its email, lower-cased, or its line without one).
 * The same row of the same file always gets the same id, in a resumed run too.
 */
export function idempotencyKeyOf(fileSha256: string, row: PendingRow): string {
  const key = row.desired.email ? `email:${row.desired.email.trim().toLowerCase()}` : `line:${row.line}`;
  return `pc-${createHash('sha256').update(`${fileSha256}\u0000${key}`).digest('hex').slice(0, 32)}`;
}
