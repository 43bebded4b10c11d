import { setTimeout as sleep } from 'node:timers/promises';
import type { PylonClient } from '../pylon/api.js';
import { PylonApiError } from '../pylon/errors.js';
import { DEFAULT_RETRY, decideRetry, type Failure } from '../pylon/retry.js';
import type { Contact } from '../pylon/types.js';
import type { DesiredContact } from './desired.js';
import type { Outcome } from './journal.js';
import { findByEmail, holderOfRefusedEmail } from './lookup.js';
import { unclearedIssue, updateWithClears } from './clears.js';
import type { RowIssue } from './desired.js';
import type { FieldChange, Plan, PlanContext } from './plan.js';
import { diffContact } from './plan.js';
import type { SearchVisibility } from './search-visibility.js';
import type { UndoWriter } from './undo-writer.js';

/** A row ready to be written: validated, de-duplicated, matched. */
export interface PendingRow {
  line: number;
  cells: readonly string[];
  desired: DesiredContact;
  /** What the migration left out of the row (see RowRef). */
  notes?: readonly string[];
}

export type WritePlan = Plan & { action: 'create' | 'update' };

export interface WriteResult {
  outcome: Outcome;
  id: string;
  requestId?: string;
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
  beforeSend?: (line: number, update?: { id: string; changes: FieldChange[] }) => void;
  onNote?: (message: string) => void;
  /** How long search takes to show a new contact: measured on the first create, waited out before a reconciling search. */
  visibility?: SearchVisibility;
  /** Called for each email whose create was uncertain (sent more than once, or reconciled): checked for duplicates at the end. */
  onUncertainCreate?: (email: string, line: number) => void;
}

export interface WritePolicy {
  /** Sends a planned create or update; resolves with the row's outcome, or rejects with the error that ended it. */
  write(row: PendingRow, plan: WritePlan): Promise<WriteResult>;
}

/**
 * What one planned row sends, and what its answer means. It does not count or
 * report anything (the ledger does), so it is tested against a scripted server
 * without a CSV.
 *
 * - update: one PATCH of the changed fields; the undo file gets the old values.
 *   A `""` clear the server refuses or ignores fails the row (ROW_CANNOT_CLEAR)
 *   after the rest was applied, and is left out of the undo row.
 * - create: one POST. A refusal carrying `exists_id` (the email is taken) becomes
 *   an update of that contact (`--mode create`: skipped). A create that may have
 *   been applied (timeout, 5xx, connection cut) is reconciled: first the policy
 *   waits out the request's own time budget, because a server that accepts
 *   duplicate emails may still be processing it; then it searches the email. A
 *   hit is the contact this row created; only a miss sends the create again,
 *   paced by the client's retry policy (the search proved the earlier send did
 *   not land, so the resend is as safe as an idempotent call).
 */
export function createWritePolicy(ctx: WritePolicyContext): WritePolicy {
  const { client, signal } = ctx;

  const update = async (row: PendingRow, id: string, body: WritePlan['body'], changes: FieldChange[]): Promise<WriteResult> => {
    ctx.beforeSend?.(row.line, { id, changes });
    // A "" clear may be refused or ignored by the server: the undo row then leaves that field out, and the row says so.
    const { res, uncleared } = await updateWithClears(client, id, body, signal);
    const applied = uncleared.length === 0 ? changes : changes.filter((c) => !uncleared.some((u) => u.field === c.column));
    if (applied.length > 0) await ctx.undo?.write({ id, email: row.desired.email }, applied);
    if (uncleared.length > 0) return { outcome: 'failed', id, requestId: res.requestId, issue: unclearedIssue(uncleared) };
    return { outcome: 'updated', id, requestId: res.requestId };
  };

  /** The email is taken by `existingId`: update that contact (only what differs), or skip it in create mode. */
  const takeOver = async (row: PendingRow, existingId: string, requestId: string | undefined, createdByUs: boolean): Promise<WriteResult> => {
    if (ctx.planContext.mode === 'create' && !createdByUs) return { outcome: 'skipped', id: existingId, requestId };
    const existing = await client.getContact(existingId, { signal });
    const diff = diffContact(row.desired, existing.data, ctx.planContext);
    const patched = diff.changes.length > 0 ? await update(row, existingId, diff.body, diff.changes) : undefined;
    if (patched?.outcome === 'failed') return patched;
    if (createdByUs) return { outcome: 'created', id: existingId, requestId: existing.requestId };
    return { outcome: patched ? 'updated' : 'unchanged', id: existingId, requestId: existing.requestId };
  };

  const create = async (row: PendingRow, plan: WritePlan & { action: 'create' }): Promise<WriteResult> => {
    const email = row.desired.email;
    let uncertain = false;
    for (let resends = 0; ; resends++) {
      try {
        ctx.beforeSend?.(row.line);
        const res = await client.createContact(plan.body, { signal });
        if (email) await ctx.visibility?.measure(email, res.data.id);
        return { outcome: 'created', id: res.data.id, requestId: res.requestId };
      } catch (error) {
        // A duplicate may also be refused without `exists_id` (undocumented): the email's holder is looked up.
        const existsId = error instanceof PylonApiError ? error.existsId ?? (await holderOfRefusedEmail(client, error, email, signal)) : undefined;
        if (existsId) return takeOver(row, existsId, (error as PylonApiError).requestId, uncertain);
        if (!(error instanceof PylonApiError) || !error.maybeApplied || !email || signal?.aborted) throw error;
        uncertain = true;
        ctx.onUncertainCreate?.(email, row.line);
        ctx.onNote?.(`line ${row.line}: create may have been applied (${error.message}); checking by email before sending again`);
        // A server that answered (5xx) or closed the connection is done with the request; one that
        // we stopped waiting for (timeout) may still be processing it for about as long again.
        if (error.code === 'PYLON_TIMEOUT') await sleep(ctx.timeoutMs, undefined, { signal }).catch(() => undefined);
        // A search that lags behind writes would miss the contact a lost create made.
        await ctx.visibility?.settle();
        if (signal?.aborted) throw error;
        const found: Contact[] = await findByEmail(client, email, signal);
        if (found.length > 0) return { outcome: 'created', id: found[0]!.id };
        const decision = decideRetry({ endpoint: 'get', failure: failureOf(error), retriesDone: resends, options: DEFAULT_RETRY, random: Math.random });
        if (!decision.retry) throw error;
        await sleep(decision.delayMs, undefined, { signal }).catch(() => undefined);
        if (signal?.aborted) throw error;
      }
    }
  };

  return {
    write(row, plan) {
      return plan.action === 'update' ? update(row, plan.id, plan.body, plan.changes) : create(row, plan);
    },
  };
}

/** The retry policy's view of an API error. */
function failureOf(error: PylonApiError): Failure {
  if (error.status !== undefined) return { kind: 'status', status: error.status };
  if (error.code === 'PYLON_TIMEOUT') return { kind: 'timeout', event: 'request' };
  return { kind: 'network', code: error.code };
}
