import { createReadStream, createWriteStream, existsSync, mkdtempSync, openSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { join, resolve as resolvePath } from 'node:path';
import type { Readable } from 'node:stream';
import type { PylonClient } from '../pylon/api.js';
import { connect } from '../pylon/connect.js';
import { PylonApiError } from '../pylon/errors.js';
import { ENDPOINTS, type EndpointKey } from '../config.js';
import { ConfigError, PylonCliError } from '../errors.js';
import { createRecordSource, isGzip, type RecordItem } from '../csv/read.js';
import { resolveColumns, loadMapping } from '../import/columns.js';
import { validateRow } from './validate.js';
import { createDuplicateTracker, keyOfCells, scanDuplicates } from './dedupe.js';
import type { DesiredContact, RowIssue } from './desired.js';
import { diffContact, planRow, type FieldChange, type Plan } from './plan.js';
import { createPool } from './pool.js';
import { createLookup, findByEmail, keyFor, type Lookup, type LookupKey, type Match } from './lookup.js';
import { openJournal, type Journal, type JournalOutcome, type Outcome } from './journal.js';
import { createErrorReport, createRawCsv, createResultsReport, type CsvReport, type ErrorRow, type ResultRow } from './report.js';
import type { ImportOptions } from './options.js';
import { UNDO_CLEAR_TOKEN, undoCells, undoColumns } from '../update/undo-rows.js';

/** The contract between the engine, the CLI and the tests. */
export interface ImportStats {
  /** Data rows read from the file (header and blank lines excluded). */
  total: number;
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
  lookup: 'search' | 'list';
  dryRun: boolean;
  /** Dry run only: the calls the real run would make, and how long they take at the configured rates. */
  plannedCalls?: Partial<Record<EndpointKey, number>>;
  etaSeconds?: number;
  durationMs: number;
  interrupted: boolean;
  /** Set when the run stopped on a fatal error. */
  fatal?: { code: string; message: string };
  errorsPath: string;
  resultsPath?: string;
  undoPath?: string;
  journalPath?: string;
  warnings: string[];
}

export interface RunImportHooks {
  signal?: AbortSignal;
  onProgress?: (stats: ImportStats) => void;
  onNote?: (message: string) => void;
  /** Use this client instead of building one from the options (tests, library use). */
  client?: PylonClient;
  /** Where `-` reads from (defaults to process.stdin). */
  stdin?: Readable;
  /** Dry run: called with each planned create/update and its field changes ([ops: issue 12] and the contact, for saved plans). */
  onPlan?: (line: number, action: 'create' | 'update', changes: readonly FieldChange[], contact: { id?: string; email?: string | null }) => void;
}

interface PendingRow {
  line: number;
  cells: string[];
  desired: DesiredContact;
  key: LookupKey | undefined;
}

const CHUNK_ROWS = 500;
/** Sends of one create, at most, when each may have been applied (checked by email in between). */
const CREATE_ATTEMPTS = 6;

/**
 * Streams the CSV, validates each row, finds existing contacts in batches and
 * sends the creates and patches through a bounded pool. Every row read ends in
 * exactly one outcome, recorded in the journal and the reports.
 */
export async function runImport(options: ImportOptions, hooks: RunImportHooks = {}): Promise<ImportStats> {
  const started = Date.now();
  const signal = hooks.signal;
  const client = hooks.client ?? connect(options.connection);
  const stats: ImportStats = {
    total: 0,
    estimatedRows: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    skipped: 0,
    failed: 0,
    notProcessed: 0,
    resumed: 0,
    calls: client.stats.calls,
    retries: 0,
    rateLimited: 0,
    lookup: 'search',
    dryRun: options.dryRun,
    durationMs: 0,
    interrupted: false,
    errorsPath: options.errorsPath,
    resultsPath: options.resultsPath,
    undoPath: options.undoPath,
    journalPath: options.journalPath,
    warnings: [],
  };
  const note = (message: string) => hooks.onNote?.(message);

  // stdin is spooled to a temporary file: duplicates can then be found in a
  // first pass and the rows read again in the second.
  let spoolDir: string | undefined;
  let inputPath = options.input;
  if (options.input === '-') {
    spoolDir = mkdtempSync(join(tmpdir(), 'pylon-contacts-stdin-'));
    inputPath = join(spoolDir, 'stdin.csv');
    await pipeline(hooks.stdin ?? process.stdin, createWriteStream(inputPath));
  } else if (!existsSync(options.input)) {
    throw new ConfigError('INPUT_NOT_FOUND', `Input file not found: ${options.input}`, { option: '<file>' });
  }

  const openSource = () => createRecordSource({ input: inputPath, delimiter: options.delimiter, encoding: options.encoding });
  let journal: Journal | undefined;
  let lookup: Lookup | undefined;
  let errors: CsvReport<ErrorRow> | undefined;
  let results: CsvReport<ResultRow> | undefined;
  let undo: UndoWriter | undefined;
  try {
    // Everything that can fail on configuration happens before the first write.
    const customFieldList = await client.listCustomFields({ signal });
    const customFields = new Map(customFieldList.map((f) => [f.slug, f]));
    const headerSource = openSource();
    const header = await headerSource.header();
    headerSource.close();
    const mapping = options.mapPath ? await loadMapping(options.mapPath) : undefined;
    // --set values behave as extra columns present in every row.
    const columns = resolveColumns([...header, ...Object.keys(options.set)], {
      map: mapping,
      ignoreUnknown: options.ignoreUnknownColumns,
      customFields: customFieldList,
    });
    if (options.mode !== 'create' && !columns.hasEmail && !columns.hasId) {
      throw new ConfigError(
        'CONFIG_INVALID_OPTION',
        `The file has no email or id column, so rows cannot be matched to contacts; add one, or use --mode create.`,
        { option: '--mode' },
      );
    }
    stats.warnings.push(...columns.warnings);
    const setCells = Object.values(options.set);
    const validationContext = { customFields, clearToken: options.clearToken };

    stats.estimatedRows = estimateRows(inputPath);
    // The journal is checked (a changed input stops a resume) before the lookup's calls.
    if (options.journalPath) {
      const fingerprint = { path: resolvePath(options.input), ...(await fingerprintFile(inputPath)) };
      journal = openJournal(options.journalPath, { input: fingerprint, mode: options.mode }, options.resume);
      if (journal.previous.size > 0) note(`resuming: ${journal.previous.size} rows already done in an earlier run`);
    }
    lookup = await createLookup({
      client,
      strategy: options.lookup,
      estimatedRows: stats.estimatedRows,
      batchSize: options.lookupBatch,
      byId: columns.hasId,
      signal,
      onNote: note,
    });
    stats.lookup = lookup.strategy;

    // In-file duplicates; keys the listed contacts hold are kept by their slot there (KeyRoute).
    let duplicateIndex: Awaited<ReturnType<typeof scanDuplicates>> | undefined;
    if (options.onDuplicate !== 'first') {
      duplicateIndex = await scanDuplicates(openSource(), columns, options.onDuplicate, stats.estimatedRows, lookup.route);
    }
    const duplicates = duplicateIndex ?? createDuplicateTracker(stats.estimatedRows, lookup.route);

    errors = createErrorReport(options.errorsPath, header);
    if (options.resultsPath) results = createResultsReport(options.resultsPath, options.dryRun);
    if (options.undoPath && !options.dryRun) undo = createUndoWriter(options.undoPath, columns.fields);

    const pool = createPool(options.connection.concurrency);
    const accountIds = new Map<string, string | null>();
    let fatal: unknown;
    let lastProgress = 0;
    const progress = () => {
      const now = Date.now();
      if (now - lastProgress < 250) return;
      lastProgress = now;
      stats.durationMs = now - started;
      stats.retries = client.stats.retries;
      stats.rateLimited = client.stats.rateLimited;
      hooks.onProgress?.(stats);
    };

    const record = async (row: { line: number; cells: readonly string[]; email?: string | null }, outcome: Outcome, detail: RowDetail = {}) => {
      stats[outcome]++;
      if (outcome === 'failed') {
        await errors!.write({ line: row.line, cells: row.cells, code: detail.code ?? 'ROW_API_FAILED', field: detail.field, message: detail.message ?? '', status: detail.status, requestId: detail.requestId });
      }
      await results?.write({ line: row.line, action: outcome, contactId: detail.id, email: row.email ?? undefined, requestId: detail.requestId, changes: detail.changes });
      if (journal && !detail.replayed) {
        const entry: JournalOutcome = { t: 'done', l: row.line, o: outcome };
        if (detail.id) entry.id = detail.id;
        if (row.email) entry.email = row.email;
        if (detail.requestId) entry.rid = detail.requestId;
        if (outcome === 'failed') Object.assign(entry, { code: detail.code, field: detail.field, message: detail.message, status: detail.status });
        journal.done(entry);
      }
      progress();
    };
    const failRow = (row: { line: number; cells: readonly string[]; email?: string | null }, issue: RowIssue, extra: RowDetail = {}) =>
      record(row, 'failed', { code: issue.code, field: issue.field, message: issue.message, ...extra });

    const isFatal = (error: unknown) =>
      error instanceof PylonCliError &&
      (['PYLON_AUTH', 'PYLON_FORBIDDEN', 'PYLON_NETWORK', 'PYLON_TIMEOUT', 'PYLON_RATE_LIMITED', 'PYLON_PAGINATION', 'OUTPUT_WRITE'].includes(error.code));

    /** A call refused because the run was interrupted: the row is not processed, and the run is not failed. */
    const isAbort = (error: unknown) => Boolean(signal?.aborted) && error instanceof PylonCliError && error.code === 'RUN_ABORTED';
    /** Stops the run: on a fatal error, or quietly on an interruption (stats.interrupted). */
    const stop = (error: unknown) => {
      if (!isAbort(error)) fatal ??= error;
    };

    /** Sends one planned write and records its outcome. Never rejects: fatal errors stop the run. */
    const execute = async (row: PendingRow, plan: Plan & { action: 'create' | 'update' }): Promise<void> => {
      try {
        if (plan.action === 'update') {
          journal?.sent(row.line, { id: plan.id, changes: plan.changes });
          const res = await client.updateContact(plan.id, plan.body, { signal });
          await undo?.write(row, plan.id, plan.changes);
          await record({ ...row, email: row.desired.email }, 'updated', { id: plan.id, requestId: res.requestId });
          return;
        }
        journal?.sent(row.line);
        const res = await createOnce(row, plan);
        await record({ ...row, email: row.desired.email }, res.outcome, { id: res.id, requestId: res.requestId });
      } catch (error) {
        // A request that reached the server and was cut off fails its row, not the run.
        const reachedServer = error instanceof PylonApiError && error.maybeApplied;
        // [ops: issue 11 finding 5] 401/403 stop the run whenever they come, even after an earlier
        // attempt that may have landed: the row stays "sent" in the journal and --resume reconciles it.
        if (isCredentialError(error) || (isFatal(error) && !reachedServer) || isAbort(error)) {
          stop(error);
          stats.notProcessed++;
          return;
        }
        const api = error instanceof PylonApiError ? error : undefined;
        await failRow(row, {
          code: api && api.status !== undefined && api.status < 500 ? 'ROW_API_REJECTED' : 'ROW_API_FAILED',
          field: guessField(api),
          message: api ? api.errors.join('; ') || api.message : String(error),
        }, { status: api?.status, requestId: api?.requestId, email: row.desired.email });
      }
    };

    /**
     * A create: retried by the client only on 429. A refusal with `exists_id`
     * becomes an update of that contact; a create that may have been applied
     * (timeout, 5xx, dropped connection) is looked up by email before anything is sent again.
     */
    const createOnce = async (row: PendingRow, plan: Plan & { action: 'create' }): Promise<{ outcome: Outcome; id: string; requestId?: string }> => {
      try {
        return await sendCreate(row, plan);
      } catch (error) {
        if (error instanceof PylonApiError && error.existsId) {
          if (options.mode === 'create') return { outcome: 'skipped', id: error.existsId, requestId: error.requestId };
          const existing = await client.getContact(error.existsId, { signal });
          const diff = diffContact(row.desired, existing.data, planContext);
          if (diff.changes.length === 0) return { outcome: 'unchanged', id: existing.data.id, requestId: existing.requestId };
          const res = await client.updateContact(existing.data.id, diff.body, { signal });
          await undo?.write(row, existing.data.id, diff.changes);
          return { outcome: 'updated', id: existing.data.id, requestId: res.requestId };
        }
        throw error;
      }
    };

    /**
     * Sends a create until it is confirmed. After a failure that may have been
     * applied (5xx, timeout, connection lost), the email is searched first: a hit
     * is the contact this row created; only a miss sends the create again.
     */
    const sendCreate = async (row: PendingRow, plan: Plan & { action: 'create' }): Promise<{ outcome: Outcome; id: string; requestId?: string }> => {
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await client.createContact(plan.body, { signal });
          return { outcome: 'created', id: res.data.id, requestId: res.requestId };
        } catch (error) {
          const email = row.desired.email;
          if (!(error instanceof PylonApiError) || !error.maybeApplied || !email || attempt >= CREATE_ATTEMPTS || signal?.aborted) throw error;
          note(`line ${row.line}: create may have been applied (${error.message}); checking by email before sending again`);
          // The search in between spaces the second send; later ones back off.
          if (attempt > 1) await sleep(Math.min(250 * 2 ** (attempt - 2), 4000), undefined, { signal }).catch(() => undefined);
          const [found] = await findByEmail(client, email, signal);
          if (found) return { outcome: 'created', id: found.id };
        }
      }
    };

    const planContext = {
      mode: options.mode,
      customFields,
      accountIdForExternalId: (externalId: string) => accountIds.get(externalId) ?? undefined,
    };

    const resolveAccounts = async (rows: PendingRow[]) => {
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

    const processChunk = async (chunk: PendingRow[]) => {
      if (chunk.length === 0) return;
      const keys = chunk.map((r) => r.key).filter((k): k is LookupKey => k !== undefined);
      let matches = new Map<LookupKey, Match>();
      if (keys.length > 0) matches = await pool.run(() => lookup!.resolve(keys, signal));
      await resolveAccounts(chunk);
      for (const row of chunk) {
        if (fatal || signal?.aborted) {
          stats.notProcessed++;
          continue;
        }
        const match: Match = row.key ? matches.get(row.key) ?? { kind: 'none' } : { kind: 'none' };
        const email = row.desired.email;
        if (match.kind === 'many') {
          await failRow({ ...row, email }, { code: 'ROW_AMBIGUOUS_MATCH', field: row.desired.id ? 'id' : 'email', message: `${match.ids.length} contacts match (${match.ids.join(', ')}); fix the duplicates in Pylon or add an id column` });
          continue;
        }
        const ext = row.desired.account_external_id;
        if (ext && accountIds.get(ext) === null) {
          await failRow({ ...row, email }, { code: 'ROW_ACCOUNT_NOT_FOUND', field: 'account_external_id', message: `No account has external id ${ext}` });
          continue;
        }
        const existing = match.kind === 'one' ? match.contact : undefined;
        const plan = planRow(row.desired, existing, planContext);
        // A write sent by an interrupted earlier run that did land: a create made this
        // contact; a PATCH changed it, from the values the journal kept.
        const sent = existing ? journal?.sentBefore.get(row.line) : undefined;
        if (sent && (plan.action === 'unchanged' || plan.action === 'skip')) {
          if (!sent.changes) {
            await record({ ...row, email }, 'created', { id: existing!.id });
            continue;
          }
          if (sent.id === existing!.id) {
            await undo?.write(row, sent.id, sent.changes);
            await record({ ...row, email }, 'updated', { id: sent.id });
            continue;
          }
        }
        switch (plan.action) {
          case 'fail':
            await failRow({ ...row, email }, plan.issue);
            break;
          case 'unchanged':
            await record({ ...row, email }, 'unchanged', { id: plan.id });
            break;
          case 'skip':
            await record({ ...row, email }, 'skipped', { id: plan.id, message: plan.reason });
            break;
          case 'create':
          case 'update':
            if (options.dryRun) {
              planned[plan.action === 'create' ? 'create' : 'patch']++;
              hooks.onPlan?.(row.line, plan.action, plan.changes, { id: plan.action === 'update' ? plan.id : undefined, email: existing?.email ?? email });
              await record({ ...row, email }, plan.action === 'create' ? 'created' : 'updated', {
                id: plan.action === 'update' ? plan.id : undefined,
                changes: describeChanges(plan.changes),
              });
            } else {
              await pool.whenReady();
              void pool.run(() => execute(row, plan));
            }
            break;
        }
      }
    };

    /** A chunk whose lookup hits a fatal error or an interruption stops the run; its rows are not processed. */
    const runChunk = async (rows: PendingRow[]) => {
      try {
        await processChunk(rows);
      } catch (error) {
        if (!isFatal(error) && !isAbort(error)) throw error;
        stop(error);
        stats.notProcessed += rows.length;
      }
    };

    const planned = { create: 0, patch: 0 };
    let chunk: PendingRow[] = [];
    let chunkKeys = 0;
    // One iterator for the whole file: after an early stop the rest of it is
    // only counted (breaking out of `for await` would close the source).
    const rowSource = openSource();
    const rows = rowSource[Symbol.asyncIterator]() as AsyncIterator<RecordItem>;
    for (let next = await rows.next(); !next.done; next = await rows.next()) {
      const item = next.value;
      if (signal?.aborted || fatal) {
        stats.total++;
        stats.notProcessed++;
        break;
      }
      stats.total++;
      const cells = setCells.length > 0 ? [...item.cells, ...setCells] : item.cells;
      const previous = journal?.previous.get(item.line);
      if (previous) {
        // Keep the duplicate tracker in step, so later rows are judged as in one uninterrupted run.
        const replayedKey = keyOfCells(cells, columns);
        if (replayedKey) duplicates.decide(item.line, replayedKey);
        stats.resumed++;
        await record({ line: item.line, cells: item.cells, email: previous.email }, previous.o, {
          id: previous.id, requestId: previous.rid, code: previous.code, field: previous.field, message: previous.message, status: previous.status, replayed: true,
        });
        continue;
      }
      const row = { line: item.line, cells: item.cells };
      if (item.error) {
        const extra = item.cells.length > header.length ? `; cells beyond the header: ${JSON.stringify(item.cells.slice(header.length))}` : '';
        await failRow(row, { code: 'ROW_MALFORMED', message: `${item.error.message} (${item.error.code})${extra}` });
        continue;
      }
      const { desired, issues } = validateRow(cells, columns, validationContext);
      if (issues.length > 0) {
        await failRow({ ...row, email: desired.email }, { ...issues[0], message: issues.map((i) => i.message).join('; ') });
        continue;
      }
      const key = keyFor(desired);
      if (!key && options.mode !== 'create') {
        await failRow(row, { code: 'ROW_EMAIL_REQUIRED', field: 'email', message: 'An email (or id) is needed to find the contact; this row has neither' });
        continue;
      }
      const decision = key ? duplicates.decide(item.line, key) : { keep: true as const };
      if (!decision.keep) {
        await failRow({ ...row, email: desired.email }, {
          code: 'ROW_DUPLICATE_IN_FILE',
          field: desired.id ? 'id' : 'email',
          message: `Duplicate of line ${decision.duplicateOf} (same ${desired.id ? 'id' : 'email'}; --on-duplicate ${options.onDuplicate})`,
        });
        continue;
      }
      chunk.push({ line: item.line, cells: item.cells, desired, key });
      if (key) chunkKeys++;
      if (chunkKeys >= options.lookupBatch || chunk.length >= CHUNK_ROWS) {
        const current = chunk;
        chunk = [];
        chunkKeys = 0;
        await runChunk(current);
      }
    }
    if (!fatal && !signal?.aborted) await runChunk(chunk);
    else stats.notProcessed += chunk.length;
    await pool.drain();
    // Rows never read because the run stopped early.
    if (fatal || signal?.aborted) {
      for (let next = await rows.next(); !next.done; next = await rows.next()) {
        stats.total++;
        stats.notProcessed++;
      }
    }

    stats.warnings.push(...rowSource.warnings);
    if (options.dryRun) {
      stats.plannedCalls = { ...plannedLookupCalls(client), create: planned.create, patch: planned.patch };
      stats.etaSeconds = Math.max(
        ...Object.entries(stats.plannedCalls).map(([endpoint, n]) => ((n ?? 0) * options.connection.rateWindowMs) / 1000 / options.connection.rates[endpoint as EndpointKey]),
        0,
      );
    }
    stats.interrupted = Boolean(signal?.aborted) && !fatal;
    if (fatal) {
      const err = fatal as Error & { code?: string };
      stats.fatal = { code: err.code ?? 'INTERNAL', message: err.message };
    }
    await errors.commit();
    await results?.commit();
    await undo?.commit();
    journal?.close();
    journal = undefined;
    // A finished run needs no journal; an interrupted or failed one keeps it for --resume.
    if (options.journalPath && !fatal && !signal?.aborted && stats.notProcessed === 0) rmSync(options.journalPath, { force: true });
    stats.durationMs = Date.now() - started;
    stats.retries = client.stats.retries;
    stats.rateLimited = client.stats.rateLimited;
    return stats;
  } catch (error) {
    // A run that stopped before its first row leaves no journal to resume.
    if (journal && options.journalPath && journal.previous.size === 0 && stats.total === 0) {
      journal.close();
      journal = undefined;
      rmSync(options.journalPath, { force: true });
    }
    await errors?.commit().catch(() => undefined);
    await results?.commit().catch(() => undefined);
    await undo?.commit().catch(() => undefined);
    // Ctrl-C before the first row (e.g. while reading the contact list) is an interruption, not a failure.
    if (signal?.aborted && error instanceof PylonCliError && error.code === 'RUN_ABORTED') {
      stats.interrupted = true;
      stats.durationMs = Date.now() - started;
      return stats;
    }
    throw error;
  } finally {
    journal?.close();
    lookup?.close();
    if (!hooks.client) client.close?.();
    if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
  }
}

interface RowDetail {
  id?: string;
  requestId?: string;
  code?: string;
  field?: string;
  message?: string;
  status?: number;
  changes?: string;
  email?: string | null;
  replayed?: boolean;
}

function plannedLookupCalls(client: PylonClient): Partial<Record<EndpointKey, number>> {
  const calls: Partial<Record<EndpointKey, number>> = {};
  for (const endpoint of ENDPOINTS) if (client.stats.calls[endpoint] > 0) calls[endpoint] = client.stats.calls[endpoint];
  return calls;
}

function describeChanges(changes: FieldChange[]): string {
  return changes.map((c) => `${c.column}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join('; ');
}

/** [ops: issue 11 finding 5] A refused credential (401/403): never a row's failure, always the run's stop. */
export function isCredentialError(error: unknown): boolean {
  return error instanceof PylonCliError && (error.code === 'PYLON_AUTH' || error.code === 'PYLON_FORBIDDEN');
}

/** Which column an API error is about, when its message names one. */
function guessField(error: PylonApiError | undefined): string | undefined {
  const text = error?.errors.join(' ') ?? '';
  const m = /\b(name|email|account_id|account_external_id|avatar_url|portal_role_id|portal_role|phone_numbers|primary_phone_number|custom_fields)\b/.exec(text);
  return m?.[1];
}

async function fingerprintFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return { size: statSync(path).size, sha256: hash.digest('hex') };
}

/** Rows in the file, estimated from the size and the first 64 KiB. */
function estimateRows(path: string): number {
  let size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    let buffer = Buffer.alloc(Math.min(size, 65536));
    let read = readSync(fd, buffer, 0, buffer.length, 0);
    if (read >= 18 && isGzip(buffer)) {
      // gzip: the text's size is in the last 4 bytes (mod 2^32); its start inflates without the rest.
      const trailer = Buffer.alloc(4);
      readSync(fd, trailer, 0, 4, size - 4);
      size = Math.max(trailer.readUInt32LE(0), size);
      try {
        buffer = gunzipSync(buffer.subarray(0, read), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      } catch {
        return 0; // unreadable: the reader reports it
      }
      read = buffer.length;
    }
    let lines = 0;
    for (let i = 0; i < read; i++) if (buffer[i] === 10) lines++;
    if (read === 0) return 0;
    return Math.max(1, Math.round((size / read) * Math.max(lines, 1)));
  } finally {
    closeSync(fd);
  }
}

/** The undo file: one row per changed contact with the values it had before, in a form `update` applies directly. */
interface UndoWriter {
  write(row: PendingRow, contactId: string, changes: FieldChange[]): Promise<void>;
  commit(): Promise<void>;
}

// [ops: issue 12] the row format (with the `_set.` columns conditional undo reads) lives in update/undo-rows.ts,
// shared with `apply`; the lead's undo-writer module should call undoColumns/undoCells.
export { UNDO_CLEAR_TOKEN };

function createUndoWriter(path: string, fieldColumns: readonly string[]): UndoWriter {
  const columns = undoColumns(fieldColumns);
  const report = createRawCsv(path, columns);
  return {
    async write(row, contactId, changes) {
      await report.write(undoCells(columns, contactId, row.desired.email, changes));
    },
    commit: () => report.commit(),
  };
}
