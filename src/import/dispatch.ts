import type { PylonClient } from '../pylon/api.js';
import { PylonApiError } from '../pylon/errors.js';
import type { Journal } from './journal.js';
import type { OutcomeLedger } from './ledger.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { findByEmail, type Lookup, type LookupKey, type Match } from './lookup.js';
import { heldExternalIdKey } from './lookup-key.js';
import { externalIdConflict } from './identity.js';
import { planRow, type FieldChange, type PlanContext } from './plan.js';
import type { Pool } from './pool.js';
import type { RunControl } from './run-control.js';
import type { UndoWriter } from './undo-writer.js';
import type { PendingRow, WritePlan, WritePolicy } from './write-policy.js';

/** A row waiting in a chunk for its lookup. */
export interface ChunkRow extends PendingRow {
  key: LookupKey | undefined;
}

/** The key finding whoever holds the row's external id under any label (see identity.ts). */
const heldKeyOf = (row: ChunkRow): LookupKey | undefined => (row.desired.external_id ? heldExternalIdKey(row.desired.external_id) : undefined);

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
  journal?: Journal;
  undo?: UndoWriter;
  dryRun: boolean;
  signal?: AbortSignal;
  /** [ops: issue 12] with the contact (id and email), for saved plans. */
  onPlan?: (line: number, action: 'create' | 'update', changes: readonly FieldChange[], contact: { id?: string; email?: string | null }) => void;
  onUncertainCreate?: (email: string, line: number) => void;
  onNote?: (message: string) => void;
  /** Waited out before looking up a create that may still land (search may lag behind writes). */
  visibility?: { settle(): Promise<void> };
}

export interface Dispatcher {
  /** Looks a chunk up and gives every row its outcome, or hands its write to the pool. */
  dispatch(chunk: ChunkRow[]): Promise<void>;
  /**
   * Rows whose create a killed earlier run sent without a recorded answer, and
   * that the lookup did not find: that create may still land. Once the killed
   * run's request can no longer be in flight, each is looked up again, and only a
   * miss is created. Call after the pool has drained.
   */
  finishDeferred(timeoutMs: number): Promise<void>;
  /** Dry run: the writes the real run would send. */
  readonly planned: { create: number; patch: number };
}

/**
 * Between the row loop and the write policy: one lookup per chunk, the account
 * ids the chunk needs, a plan per row, and then the outcome (for rows that
 * need no write) or a write on the pool (its outcome recorded when it settles).
 */
export function createDispatcher(parts: DispatchParts): Dispatcher {
  const { client, lookup, pool, ledger, control, policy, planContext, accountIds, journal, signal } = parts;
  const planned = { create: 0, patch: 0 };
  const deferred: Array<{ row: ChunkRow; plan: WritePlan & { action: 'create' } }> = [];

  /** Sends one planned write and records its outcome. Never rejects. */
  const write = async (row: ChunkRow, plan: WritePlan): Promise<void> => {
    const email = row.desired.email;
    try {
      const result = await policy.write(row, plan);
      if (result.issue) await ledger.fail({ ...row, email }, result.issue, { id: result.id, requestId: result.requestId });
      else await ledger.record({ ...row, email }, result.outcome, { id: result.id, requestId: result.requestId, message: result.message });
    } catch (error) {
      if (control.judge(error) === 'stop') {
        ledger.notProcessed();
        return;
      }
      const api = error instanceof PylonApiError ? error : undefined;
      try {
        await ledger.fail({ ...row, email }, {
          code: api && api.status !== undefined && api.status < 500 ? 'ROW_API_REJECTED' : 'ROW_API_FAILED',
          field: guessField(api),
          message: api ? api.errors.join('; ') || api.message : String(error),
        }, { status: api?.status, requestId: api?.requestId });
      } catch (reportError) {
        control.judge(reportError);
        ledger.notProcessed();
      }
    }
  };

  const resolveAccounts = async (rows: ChunkRow[]) => {
    for (const row of rows) {
      const ext = row.desired.account_external_id;
      if (!ext || accountIds.has(ext)) continue;
      try {
        const res = await pool.run(() => client.getAccount(ext, { signal }));
        accountIds.set(ext, res.data.id);
      } catch (error) {
        if (error instanceof PylonApiError && error.status === 404) accountIds.set(ext, null);
        else throw error;
      }
    }
  };

  const dispatchRow = async (row: ChunkRow, match: Match, held: Match | undefined) => {
    const email = row.desired.email;
    const ref = { ...row, email };
    // The row's external id held under another label (by the matched contact or another): fail, naming that contact.
    const conflict = externalIdConflict(row.desired, [match.kind === 'one' ? match.contact : undefined, held?.kind === 'one' ? held.contact : undefined]);
    if (conflict) {
      await ledger.fail(ref, conflict);
      return;
    }
    if (match.kind === 'many') {
      await ledger.fail(ref, { code: 'ROW_AMBIGUOUS_MATCH', field: row.desired.id ? 'id' : 'email', message: `${match.ids.length} contacts match (${match.ids.join(', ')}); fix the duplicates in Pylon or add an id column` });
      return;
    }
    const ext = row.desired.account_external_id;
    if (ext && accountIds.get(ext) === null) {
      await ledger.fail(ref, { code: 'ROW_ACCOUNT_NOT_FOUND', field: 'account_external_id', message: `No account has external id ${ext}` });
      return;
    }
    const existing = match.kind === 'one' ? match.contact : undefined;
    const plan = planRow(row.desired, existing, planContext);
    // A write an interrupted earlier run sent without recording its answer.
    const sent = journal?.sentBefore.get(row.line);
    if (sent && existing && (plan.action === 'unchanged' || plan.action === 'skip')) {
      // It landed: a create made this contact; a PATCH changed it, from the values the journal kept.
      if (!sent.changes) return ledger.record(ref, 'created', { id: existing.id });
      if (sent.id === existing.id) {
        await parts.undo?.write({ id: sent.id, email }, sent.changes);
        return ledger.record(ref, 'updated', { id: sent.id });
      }
    }
    if (sent && !sent.changes && !existing && plan.action === 'create' && !parts.dryRun) {
      // That create may still be in flight from the killed process: decided at the end of the run.
      deferred.push({ row, plan });
      return;
    }
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
          parts.onPlan?.(row.line, plan.action, plan.changes, { id: plan.action === 'update' ? plan.id : undefined, email: existing?.email ?? email });
          return ledger.record(ref, plan.action === 'create' ? 'created' : 'updated', {
            id: plan.action === 'update' ? plan.id : undefined,
            changes: describeChanges(plan.changes),
          });
        }
        await pool.whenReady();
        void pool.run(() => write(row, plan));
    }
  };

  const finishDeferred = async (timeoutMs: number) => {
    if (deferred.length === 0) return;
    // The killed run sent them no later than its last journal write; a server may process one for about twice the timeout.
    const wait = (journal?.lastWrittenAt ?? 0) + 2 * timeoutMs - Date.now();
    if (wait > 0) {
      parts.onNote?.(`waiting ${Math.ceil(wait / 1000)} s before checking ${deferred.length} creates the interrupted run may still have in flight`);
      await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
    await parts.visibility?.settle();
    for (const [i, { row, plan }] of deferred.entries()) {
      if (control.stopped) {
        ledger.notProcessed(deferred.length - i);
        return;
      }
      const email = row.desired.email!;
      parts.onUncertainCreate?.(email, row.line);
      try {
        const [found] = await findByEmail(client, email, signal);
        if (found) await ledger.record({ ...row, email }, 'created', { id: found.id });
        else await write(row, plan);
      } catch (error) {
        if (control.judge(error) === 'stop') ledger.notProcessed();
        else await ledger.fail({ ...row, email }, { code: 'ROW_API_FAILED', message: error instanceof Error ? error.message : String(error) });
      }
    }
  };

  return {
    finishDeferred,
    planned,
    async dispatch(chunk) {
      if (chunk.length === 0) return;
      let done = 0;
      try {
        // Held-id keys cost no call: the list answers them from memory, and search sends only email and id parts.
        const keys = chunk.flatMap((r) => [r.key, heldKeyOf(r)]).filter((k): k is LookupKey => k !== undefined);
        const matches = keys.length > 0 ? await pool.run(() => lookup.resolve(keys, signal)) : new Map<LookupKey, Match>();
        await resolveAccounts(chunk);
        for (const [i, row] of chunk.entries()) {
          if (control.stopped) {
            ledger.notProcessed(chunk.length - i);
            return;
          }
          const held = heldKeyOf(row);
          await dispatchRow(row, row.key ? matches.get(row.key) ?? { kind: 'none' } : { kind: 'none' }, held ? matches.get(held) : undefined);
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

function describeChanges(changes: FieldChange[]): string {
  return changes.map((c) => `${c.column}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join('; ');
}

/** Which column an API error is about, when its message names one. */
function guessField(error: PylonApiError | undefined): string | undefined {
  const text = error?.errors.join(' ') ?? '';
  const m = /\b(name|email|account_id|account_external_id|avatar_url|portal_role_id|portal_role|phone_numbers|primary_phone_number|custom_fields)\b/.exec(text);
  return m?.[1];
}
