import { ENDPOINTS, type EndpointKey } from '../config.js';
import type { CreatedDuplicate } from './duplicate-check.js';

/** The contract between the engine, the CLI and the tests. */
export interface ImportStats {
  /** Data rows read from the file (header and blank lines excluded). */
  total: number;
  /**
   * `update --sync`: the contacts not in the file that the run took the --set values from (the removals). Each is
   * counted among `updated`, `unchanged` or `failed` (or `notProcessed`), not among `total`, the file's rows. Absent without --sync.
   */
  syncRemovals?: number;
  /** Rows expected in the file, estimated from its size (for progress). */
  estimatedRows: number;
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  failed: number;
  /** Rows never reached because the run was interrupted or hit a fatal error (finish them with --resume). */
  notProcessed: number;
  /** Rows whose outcome came from the journal of an earlier run (--resume). */
  resumed: number;
  /** Requests sent per endpoint, retries included. */
  calls: Record<EndpointKey, number>;
  retries: number;
  rateLimited: number;
  /** How existing contacts were found: batched search, or one read of the whole list; absent when the run stopped before it was decided. */
  lookupStrategy?: 'search' | 'list';
  dryRun: boolean;
  /** Dry run only: the calls the real run would make, and how long they take at the configured rates. */
  plannedCalls?: Partial<Record<EndpointKey, number>>;
  /** Dry run only: of `plannedCalls.patch`, the second PATCHes (`emails`) of rows replacing a primary on a host whose PATCH email keeps it. Absent when none. */
  plannedFollowUps?: number;
  etaSeconds?: number;
  durationMs: number;
  interrupted: boolean;
  /**
   * A writing run (update, an undo file applied) that stopped while it planned, before its
   * first write: nothing was written, and the counts (with `dryRun`) are those of the rows planned so far.
   */
  planning?: boolean;
  /** A dry run whose real run would stop before its first write (an `update` guard: --max-changes, --max-removals); it exits 1 as that run would. */
  wouldStop?: { code: 'RUN_GUARD'; message: string };
  /** Set when the run stopped on a fatal error. */
  fatal?: { code: string; message: string };
  /** The error report; null once the run ended with no row to report (no file is written then). */
  errorsPath: string | null;
  resultsPath?: string;
  undoPath?: string;
  /**
   * Contacts whose external id change a journal recorded without its label (an interrupted run of an older
   * version): the undo file cannot say which id to put back, so the summary names them apart. Absent when none.
   */
  undoKeepsExternalIds?: number;
  journalPath?: string;
  /** Reports (error report, results) the run could not write (a full disk): none is left under that name. Absent when none. */
  unwritten?: { report: 'errors' | 'results'; path: string }[];
  warnings: string[];
  /** Migrations: rows the preset's or map's filters left out (deleted records, agents…), among `skipped`; the reason is in `_message`. */
  filtered?: number;
  /** Migrations: phone numbers left out of their contact because they are not valid numbers (`--on-bad-phone drop`). */
  phonesDropped?: number;
  /**
   * Emails this run created a contact for that more than one contact holds: only
   * possible on a server that accepts duplicate emails, after a create that was
   * uncertain (timed out, cut off) landed after every check. Empty when none.
   */
  duplicatesCreated?: CreatedDuplicate[];
  /**
   * Dry run by search: of `created` and `updated`, the rows that send an external id, whose contact (or the contact
   * holding that id under another label) search cannot find: the real run may update instead of creating, or fail
   * the row ROW_EXTERNAL_ID_TAKEN. Absent when none (and always with the list, which counts them exactly).
   */
  uncertainByExternalId?: { created: number; updated: number };
}


export function createImportStats(init: Pick<ImportStats, 'calls' | 'dryRun' | 'errorsPath' | 'resultsPath' | 'undoPath' | 'journalPath'>): ImportStats {
  return {
    total: 0,
    estimatedRows: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    skipped: 0,
    failed: 0,
    notProcessed: 0,
    resumed: 0,
    retries: 0,
    rateLimited: 0,
    durationMs: 0,
    interrupted: false,
    warnings: [],
    ...init,
  };
}

/**
 * The stats of a run that an API or network failure stopped before it read anything (a wrong token or
 * a host down at `GET /me`): nothing was done, and `fatal` says why, as for a run stopped later.
 */
export function stoppedAtStart(client: { stats: Pick<ImportStats, 'calls' | 'retries' | 'rateLimited'> }, dryRun: boolean, fatal: { code: string; message: string }, started: number): ImportStats {
  const { calls, retries, rateLimited } = client.stats;
  return { ...createImportStats({ calls, dryRun, errorsPath: null }), retries, rateLimited, fatal, durationMs: Date.now() - started };
}

/**
 * The stats of a run that Ctrl-C stopped before it read anything (while `GET /me` was unanswered): nothing was
 * done; `journalPath` names the journal the run keeps for --resume, when it had begun one.
 */
export function interruptedAtStart(client: { stats: Pick<ImportStats, 'calls' | 'retries' | 'rateLimited'> }, dryRun: boolean, started: number, journalPath?: string): ImportStats {
  const { calls, retries, rateLimited } = client.stats;
  return { ...createImportStats({ calls, dryRun, errorsPath: null }), retries, rateLimited, interrupted: true, durationMs: Date.now() - started, ...(journalPath ? { journalPath } : {}) };
}

/** The calls a client has sent so far, by endpoint (those it sent none of left out): a dry run's reads, which the real run sends too. */
export function callsSoFar(client: { stats: { calls: Record<EndpointKey, number> } }): Partial<Record<EndpointKey, number>> {
  const calls: Partial<Record<EndpointKey, number>> = {};
  for (const endpoint of ENDPOINTS) if (client.stats.calls[endpoint] > 0) calls[endpoint] = client.stats.calls[endpoint];
  return calls;
}

/** The time `calls` take at the configured rates (each endpoint paced on its own: the slowest one's). */
export function etaSeconds(calls: Partial<Record<EndpointKey, number>>, connection: { rates: Record<EndpointKey, number>; rateWindowMs: number }): number {
  return Math.max(...Object.entries(calls).map(([e, n]) => ((n ?? 0) * connection.rateWindowMs) / 1000 / connection.rates[e as EndpointKey]), 0);
}
