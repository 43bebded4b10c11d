import { filtersOnEmail, noteCaseSensitiveEmailFilter } from '../import/lookup.js';
import { counted } from '../plural.js';
import { resolveFilter } from '../pylon/filter-expr.js';
import { mkdir, open, readFile, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createReadStream, rmSync } from 'node:fs';
import { createTempDir } from '../output/temp-dir.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ENDPOINTS, type EndpointKey } from '../config.js';
import { ConfigError, InternalError, PylonCliError, invalidOption, type ErrorCode } from '../errors.js';
import type { ApiPage, PylonClient } from '../pylon/api.js';
import { connect, noteLongWaits } from '../pylon/connect.js';
import { PylonApiError } from '../pylon/errors.js';
import type { Contact, Filter } from '../pylon/types.js';
import { checkWritable, describe, isSpecialFile, openOutput, outputWriteError, stagedWriteError, sweepDeadPartials, type OutputFile } from '../output/output-file.js';
import { hostOf } from '../update/target.js';
import { createChangeLog, type ChangeLog } from './changes.js';
import { deadJournals, describeRecovery, openJournal, recoverRun, type PublishJournal, type Recovery } from '../output/publish-journal.js';
import { connectLoad, lastCommittedLoad, loadCommitted, loadedColumnNames, openLoader, recordAbandonedLoad, type LoadConnection, type MergeCounts, type MergeStep, type TableLoader } from './load/loader.js';
import {
  compareSchemas,
  describeSchemaChange,
  schemaRecord,
  toBigQuerySchema,
  toJsonSchema,
  recordedNames,
  toPostgresDdl,
  typedColumns,
  type SchemaRecord,
  type TypedColumn,
} from './schema.js';
import { availableColumns, recordProblem, selectColumns, type ExportColumn } from './columns.js';
import { ValuesDigest } from './values-digest.js';
import { CopyTextDigest } from './load/copy-digest.js';
import { stateGzipCopy } from './load/common.js';
import { columnsKey, createStateWriter, loadBaseline, loadStateFile, stateRowHash, writeDeleted, type Baseline, type StateOwner, type StateWriter } from './delta.js';
import { idKey } from './id-index.js';
import { hasLoneSurrogateEscape, LONE_SURROGATE_ESCAPES, nulAsStored } from './lone-surrogate.js';
import { lockJournal } from '../run/journal-lock.js';
import { ROW_HASH, rowHasher, type RowHashKind } from './row-hash.js';
import { ListTracker, type ListCheck } from './list-check.js';
import { relativeTo, writeManifest, type DeltaCounts, type ExportManifest, type StateRef, type StopPoint } from './manifest.js';
import { outputPaths, type ExportOptions } from './options.js';
import { paginate, PaginationError, type PaginationState } from '../pylon/paginate.js';
import { ErrorReport, type ReportEntry } from './report.js';
import { commitSinks, createPageEncoder, DATA_BUFFER_BYTES, Digest, fileSink, forwardTo, RANK, type EncodedChunk, type EncoderRow, type ExportSink, type PageEncoder, type PageSink } from './sink.js';
import { recordMaker, type ExportRecord } from './record.js';

/** The delta in the run's stats: paths as given, where the manifest has them relative to itself. */
export interface ExportDeltaStats extends DeltaCounts {
  /** The manifest given to --since, the --state file, or (for messages) what holds the state kept in the --to table. */
  since: string;
  /** The baseline is the state kept in the --to table: the manifest's `delta.since` is this, not a path. */
  sinceTable?: { table: string; runId: string | null };
  /** The deleted ids' file, once published with the rest (null in a run that failed or was interrupted). */
  deletedPath: string | null;
}

/** What an export did. The CLI prints it; `--json` prints it whole; the manifest records it. */
export interface ExportStats {
  complete: boolean;
  interrupted: boolean;
  output: string;
  format: ExportOptions['format'];
  gzip: boolean;
  /** Rows written (in a delta run: new and changed contacts only). */
  rows: number;
  contactsRead: number;
  /** Records that could not be written (listed in the error report). */
  recordErrors: number;
  pages: number;
  calls: Record<EndpointKey, number>;
  retries: number;
  rateLimited: number;
  /** Bytes written (after gzip) and their sha256; sha256 is null unless complete. */
  bytes: number;
  sha256: string | null;
  columns: string[];
  startedAt: string;
  endedAt: string;
  durationMs: number;
  manifestPath: string | null;
  errorsPath: string | null;
  statePath: string | null;
  delta: ExportDeltaStats | null;
  stoppedAt: StopPoint | null;
  /** Set when the run stopped on an error (not when interrupted): its code and message, as import, update and apply give them. */
  fatal?: { code: string; message: string };
  /** Whether contacts created or deleted during the walk could have been missed (see list-check.ts). */
  listCheck: ListCheck;
  warnings: string[];
  runId: string;
  /** sha256 of the typed columns (names, types, nullability); see schema.ts. */
  schemaHash: string | null;
  /** Order-independent hash of every exported contact's typed values (loads and typed NDJSON); a loaded table gives the same. */
  valuesSha256: string | null;
  /** Contacts whose values went into valuesSha256 (every contact read, in a delta run too). */
  valuesRows: number;
  /** What --to did; `mergeMs`: the merge statements and the COMMIT (staging happens during the walk). */
  load: (MergeCounts & { target: string; table: string; mergeMs: number; /** `changes`: only the new and changed rows were staged (the table matched its kept state); `all`: every row. */ staged: 'changes' | 'all' }) | null;
  changes: { path: string; insert: number; update: number; delete: number } | null;
  /** Schema sidecars written beside the data file. */
  schemaFiles: string[];
}

export interface RunExportHooks {
  /** Default: a client from options.connection, closed at the end. */
  client?: PylonClient;
  signal?: AbortSignal;
  /** Called after every page. */
  onProgress?: (stats: ExportStats) => void;
  /** Called as each statement of a load's merge finishes, with the counts so far. */
  onMergeStep?: (step: MergeStep, counts: Partial<MergeCounts>) => void;
  /** Where `-` writes (default process.stdout). */
  stdout?: NodeJS.WritableStream;
  /** A line to show as it happens (a long wait Pylon asks for), as import, update and apply show theirs. */
  onNote?: (message: string) => void;
  /**
   * Called once every output is renamed into place, as a load's COMMIT starts (`what` names it): from here an interrupt
   * is no longer honoured, since stopping would leave the outputs published and the table not (or not known to be).
   */
  onCommitting?: (what: string) => void;
}

function emptyCalls(): Record<EndpointKey, number> {
  return Object.fromEntries(ENDPOINTS.map((e) => [e, 0])) as Record<EndpointKey, number>;
}

/** Where the run was when it failed: the error report's `kind` depends on it. The walk moves it on: pages from its start, outputs once the file took the last page. */
interface Progress {
  step: 'me' | 'custom_fields' | 'page' | 'output';
  pages: PaginationState;
}

/**
 * Exports every contact (or a filtered subset) in constant memory: pages are
 * pulled only as fast as the outputs take them. Every output is a sink
 * (sink.ts) staged under a temporary name; when every page was read, they are
 * published together (and a load committed), or none of them changes. On
 * failure or interrupt the manifest (or `<manifest>.failed.json`) says
 * `complete: false` and where the run stopped. Never throws for API or write
 * failures (they are in the stats); throws ConfigError for usage problems.
 */
export async function runExport(options: ExportOptions, hooks: RunExportHooks = {}): Promise<ExportStats> {
  // First, before this run makes its folders: undoing a killed run removes the (empty) partition folders it made, which may be this run's too.
  const recovered = await recoverDeadRuns(options);
  const madeDirs: string[] = [];
  let journal: PublishJournal | undefined;
  let unlockState: (() => void) | undefined;
  try {
    await checkDirectories(options, madeDirs);
    unlockState = lockStateFile(options);
    await removeStaleFiles(options, recovered.unsettled);
    // Recorded before the run makes any file, so a kill -9 at any point is undone by the next run (publish-journal.ts).
    const dir = options.journalDir;
    if (dir !== undefined) {
      journal = await openJournal(dir, { runId: options.runId, load: options.to?.display ?? null, loadKey: options.to?.key, dirs: madeDirs, startedAt: options.runStartedAt }).catch((error: unknown) => {
        throw new ConfigError('OUTPUT_UNWRITABLE', `Cannot write the run's journal in ${dir}: ${error instanceof Error ? error.message : String(error)}. Nothing was sent to Pylon.`, { cause: error });
      });
    }
  } catch (error) {
    unlockState?.();
    await removeEmptyMadeDirs(madeDirs);
    throw error;
  }
  let stats: ExportStats | undefined;
  try {
    stats = await exportWithJournal(options, hooks, madeDirs, journal, recovered.warnings);
    return stats;
  } finally {
    await journal?.close();
    unlockState?.();
    // The journal's folder may be one the run made (a dataset's first `_meta`): a run that published nothing takes it back too.
    if (!stats?.complete) await removeEmptyMadeDirs(madeDirs);
  }
}

/**
 * One night of a pipeline at a time on a --state file: the run holds `<state>.lock` from before it reads the state until it ends.
 * Two overlapping runs would both read the same state, and both publish a delta and change log of the same changes (the last to
 * finish replacing the other's state); the second is refused at its start instead (CONFIG_RUN_LOCKED, exit 2, nothing sent or
 * written). A lock left by a run killed with -9 is taken over. Undefined without --state.
 */
function lockStateFile(options: ExportOptions): (() => void) | undefined {
  if (!options.stateFile || options.statePath === undefined || isSpecialFile(options.statePath)) return undefined;
  const shown = `${options.statePath}.lock`;
  return lockJournal(options.statePath, {
    what: `using the --state file ${options.statePath}`,
    option: '--state',
    shown,
    unwritable: (_path, error) => new ConfigError('OUTPUT_UNWRITABLE', `Cannot write ${shown} (the lock of the --state file): ${describe(error)}. Nothing was sent to Pylon.`, { option: '--state', cause: error }),
  });
}

async function exportWithJournal(options: ExportOptions, hooks: RunExportHooks, madeDirs: string[], journal: PublishJournal | undefined, recovered: readonly string[]): Promise<ExportStats> {
  const sinceBaseline = options.since === undefined ? undefined : await loadBaseline(options.since, { filter: options.filter });
  const client = hooks.client ?? connect(options.connection, hooks.onNote ? { onEvent: noteLongWaits(hooks.onNote) } : {});
  const stats = emptyStats(options);
  stats.warnings.push(...recovered);
  const refresh = statsRefresher(client, stats);
  const report = new ErrorReport(options.errorsPath, journal);
  const progress: Progress = { step: 'custom_fields', pages: { pages: 0, cursor: undefined } };
  const sinks: ExportSink[] = [];
  let run: OpenRun | undefined;
  try {
    run = await openRun(options, client, hooks, sinceBaseline, stats, sinks, progress);
    await warnReplacedPartition(options, run, stats);
    const outputs = await openPageOutputs(options, run, stats, sinks, journal);
    await walk(options, client, run, outputs, { stats, report, progress, hooks, onPage: refresh });
    await closeOutputs(options, run, outputs, sinks, stats, journal);
    refresh();
    sinks.push(...(await manifestSinks(options, run, outputs, stats, report, journal)));
    await commitSinks(sinks, hooks.signal, journal, hooks.onCommitting);
    stats.statePath = options.statePath === undefined ? null : (outputs.state?.ref?.path ?? null);
    if (options.manifestPath !== undefined) await unlink(`${options.manifestPath}.failed.json`).catch(() => {});
  } catch (error) {
    // A schema change refused after the load opened is the load's failed night: its load log says why.
    const cause = error instanceof PylonCliError && error.code === 'SCHEMA_CHANGED' ? error.message : undefined;
    await Promise.all(sinks.map((sink) => sink.abort(cause)));
    if (error instanceof ConfigError) {
      await report.close();
      await removeEmptyMadeDirs(madeDirs);
      throw error;
    }
    failed(stats, error, progress, hooks.signal);
    await report.add(describeFailure(error, progress, stats.interrupted));
  } finally {
    // A client passed in belongs to the caller.
    if (hooks.client === undefined) client.close?.();
    for (const dir of run?.scratch ?? []) rmSync(dir, { recursive: true, force: true });
    run?.copyDigest?.close();
  }
  refresh();
  stats.errorsPath = (await report.close()) ?? null;
  if (!stats.complete) {
    await writeFailedManifest(options, stats, run?.baseline ?? sinceBaseline, run?.schema, journal);
    await removeEmptyMadeDirs(madeDirs);
  }
  return stats;
}

/** What the run knows once it has read the custom fields: the columns, their types, the baseline of a delta. */
interface OpenRun {
  columns: ExportColumn[];
  typed: TypedColumn[];
  schema: SchemaRecord;
  baseline: Baseline | undefined;
  /** `--state`: whose state the run writes. */
  owner: StateOwner | undefined;
  /** Order-independent hash of the typed values (loads and typed NDJSON). */
  values: ValuesDigest | undefined;
  /** A PostgreSQL load that stages every row: the values hash is taken from its COPY text, on a worker thread (the records carry no JSON line). */
  copyDigest: CopyTextDigest | undefined;
  /** `--to`: the load, already a sink of the run. */
  load: ReturnType<typeof loadSink> | undefined;
  /** Scratch folders staging the table's state (ids and row hashes): removed when the run ends. */
  scratch: string[];
  /** How this run hashes its records: as its baseline did, else the current kind. */
  rowHash: RowHashKind;
  /** Baseline ids marked seen by keepUnexported (contacts whose records could not be written). */
  keptUnexported: number;
  /** `--filter` as the search is sent it (resolveFilter). */
  filter: Filter | undefined;
  /** Rows the PostgreSQL load staged whose text held a NUL (stored as U+FFFD), and the first one's id. */
  nul: { rows: number; first: string | undefined };
}

async function openRun(options: ExportOptions, client: PylonClient, hooks: RunExportHooks, sinceBaseline: Baseline | undefined, stats: ExportStats, sinks: ExportSink[], progress: Progress): Promise<OpenRun> {
  const signal = hooks.signal;
  // GET /me (whose organisation a state file or a load records) comes first: its failure is reported as `me`.
  progress.step = 'me';
  // A load keeps the pipeline's state in the database too (format 3, with its owner), so a loading cron line needs no --state file.
  const owner = options.stateFile || options.to ? await stateOwner(options, client, signal) : undefined;
  progress.step = 'custom_fields';
  const definitions = await client.listCustomFields({ signal });
  // A field Pylon cannot filter on is a usage error before the first search (as update --where), not a server 400 that leaves a failed run's report and manifest.
  // Sent as resolveFilter rewrites it (an operator the field allows); the manifest and state keep the filter as given.
  const filter = options.filter ? resolveFilter(options.filter, definitions, '--filter', hooks.onNote) : undefined;
  // A case-sensitive email search exports fewer contacts than the filter says: said before the first page.
  if (filter && filtersOnEmail(filter)) {
    await noteCaseSensitiveEmailFilter(client, '--filter', 'To select addresses whatever their case, export without --filter and select from the file.', hooks.onNote, signal);
  }
  const columns = selectColumns(availableColumns(definitions), options.columns);
  stats.columns = columns.map((c) => c.name);
  /** Set below once the run knows the load stages every row. */
  let copyDigest: CopyTextDigest | undefined;
  const onCopyText = (text: string, bytes: Uint8Array) => copyDigest?.add(text, bytes);
  // Rows of a PostgreSQL load whose text held a NUL, stored as U+FFFD (copy-text.ts): said once, in closeOutputs.
  const nul: OpenRun['nul'] = { rows: 0, first: undefined };
  const onNul = (id: string) => {
    nul.rows += 1;
    nul.first ??= id;
  };
  // The load's one connection: it reads the table's last load and column names first, then the loader takes it (closed here if the run fails before).
  let connection: LoadConnection | undefined = options.to ? await connectLoad({ target: options.to, tempDir: loaderTempDir(options), onCopyText, onNul }) : undefined;
  // Scratch folders of the run (the table's kept state, the state a load stages): removed when the run ends, or here if opening fails.
  const scratch: string[] = [];
  try {
    // Before the baseline is read: a load another run commits after this is one this run's delta does not know of (checked at the merge).
    const lastCommitted = options.to && connection ? await lastCommittedLoad(options.to, connection) : undefined;
    // Read before the columns are named: a field keeps the column the table, the state or the last manifest gave it (typedColumns).
    const stateBaseline = options.stateFile ? await loadStateFile(options.statePath!, owner!, undefined, { withTable: options.to !== undefined }) : undefined;
    const typed = typedColumns(columns, await previousNames(options, stateBaseline ?? sinceBaseline, connection));
    const schema = schemaRecord(typed);
    stats.schemaHash = schema.hash;
    let load: ReturnType<typeof loadSink> | undefined;
    if (options.to) {
      const keptDir = createTempDir('state');
      scratch.push(keptDir);
      const input = { target: options.to, columns: typed, allowSchemaChange: options.allowSchemaChange, tempDir: loaderTempDir(options), keptStatePath: join(keptDir, 'table.state'), run: { runId: options.runId, extractedAt: options.runStartedAt, schemaHash: schema.hash }, changesOnly: !options.stateFile && options.since === undefined, onCopyText, onNul, lastCommitted };
      const handed = connection;
      connection = undefined;
      load = loadSink(await openLoader(input, handed), options, stats, hooks.onMergeStep, hooks.signal);
      sinks.push(load);
    }
    let baseline = options.stateFile ? stateBaseline : options.since === undefined && load && owner ? await tableState(load.loader, owner) : sinceBaseline;
    // A --state file that does not exist (deleted, lost) while the table keeps this pipeline's state: that state is the baseline, so the delta and
    // change log agree with the load (without it every contact was an insert in the change log while the load updated or left it).
    const lostState = options.stateFile && !stateBaseline && options.since === undefined && load !== undefined && owner !== undefined;
    if (lostState) baseline = await keptInPlaceOfStateFile(options, load!.loader, owner!, stats);
    if (baseline) stats.delta = { since: baseline.source, ...(baseline.table ? { sinceTable: baseline.table } : {}), sinceStartedAt: baseline.startedAt, new: 0, changed: 0, unchanged: 0, deleted: null, deletedPath: null };
    if (baseline && baseline.columns.join(',') !== stats.columns.join(',')) {
      stats.warnings.push(`the columns differ from ${baseline.source}: every contact counts as changed in this run`);
    }
    if (options.typed || options.to) await checkSchema(options, baseline, schema, stats);
    // The values hash costs a JSON line and a sha256 per contact: kept for loads (to check a table against) and typed NDJSON (whose lines it hashes).
    const values = options.to || (options.typed && options.format === 'ndjson') ? new ValuesDigest() : undefined;
    // No baseline (a first night, or a new --state path) but a table loaded before: its `_row_hash` values are compared in the kind its kept state names,
    // so an older version's sha256 table is not rewritten whole; a table with no kept state is compared in ROW_HASH, and the summary says so if rows differ.
    // The baseline is the table's own kept state (committed with it) and the columns are the same: the load may stage only what the delta says is new or changed.
    if (load && baseline && !options.stateFile && options.since === undefined && baseline.columns.join(',') === stats.columns.join(',')) {
      load.changesOnly = load.loader.stageChangesOnly({ entries: baseline.state.entries });
    }
    // A PostgreSQL load that stages every row takes the values hash on a worker thread, from the COPY text it sends (copy-digest.ts), unless typed
    // NDJSON makes the JSON lines anyway.
    if (values && load && options.to!.kind === 'postgresql' && !load.changesOnly && !(options.typed && options.format === 'ndjson')) copyDigest = new CopyTextDigest(values, typed, { onReplaced: (id) => warnReplacedText(stats, id) });
    const keptKind = !baseline && load ? await keptRowHash(load.loader) : undefined;
    if (load && !baseline && !keptKind) load.unknownRowHash = true;
    // No baseline (a first night, a new --state file): nothing vouches for the table's rows, so the merge compares their values too, not only their hashes (a value changed by hand is rewritten).
    // A new --state file heals the table so even when the table's kept state stood in for it.
    if (load && (!baseline || lostState)) load.compareValues = true;
    return { columns, typed, schema, baseline, owner, values, copyDigest, load, scratch, rowHash: baseline?.rowHash ?? keptKind ?? ROW_HASH, keptUnexported: 0, filter, nul };
  } catch (error) {
    copyDigest?.close();
    await connection?.close();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The columns earlier runs gave the custom fields (source → name), for
 * typedColumns: what the table's loads recorded (`_pylon_columns`) first, then
 * the baseline's schema (the --state file, the --since manifest), then the last
 * manifest at this run's manifest path; a lower one's name that a higher one
 * gives another field is left out.
 */
async function previousNames(options: ExportOptions, baseline: Baseline | undefined, connection: LoadConnection | undefined): Promise<Map<string, string>> {
  const sources = [options.to && connection ? await loadedColumnNames(options.to, connection) : new Map<string, string>(), recordedNames(baseline?.schema)];
  if (options.manifestPath !== undefined) sources.push(recordedNames((await readPreviousManifest(options.manifestPath))?.schema));
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const source of sources) {
    const added: Array<[string, string]> = [];
    for (const [field, name] of source) if (!names.has(field) && !taken.has(name.toLowerCase())) added.push([field, name]);
    for (const [field, name] of added) {
      names.set(field, name);
      taken.add(name.toLowerCase());
    }
  }
  return names;
}

/** How the `_row_hash` values of the table were made, as its kept state says (undefined without one); reads the state file's first lines only. */
async function keptRowHash(loader: TableLoader): Promise<RowHashKind | undefined> {
  const path = loader.keptStatePath();
  if (path === undefined) return undefined;
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return stateRowHash(head.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

/** The state the table's last committed load kept (`_pylon_state`, written to a scratch file as the load opened), as the baseline of this run's delta and change log; undefined on the first load. */
async function tableState(loader: TableLoader, owner: StateOwner): Promise<Baseline | undefined> {
  const path = loader.keptStatePath();
  if (path === undefined) return undefined;
  const label = `the state kept in ${loader.display} (table _pylon_state)`;
  try {
    // The table is the pipeline's: the organisation, --columns and --filter must match; the API host may differ (a proxy, a new region).
    const baseline = await loadStateFile(path, owner, label, { checkHost: false, withTable: true });
    // Not a path: the manifest names the table and the run whose load kept the state (delta.since).
    return baseline && { ...baseline, table: { table: loader.display, runId: baseline.runId ?? null } };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(error.code, error.message.replace(`Invalid option \`--state\`: the state file ${path}`, `Invalid option \`--to\`: ${label}`).replace('delete it to start again', 'delete its row to start again')
        // No state file to choose here: a run with a new --state file compares the table in full and leaves it that run's state.
        .replace('; use one state file per column set', '; to change the columns (or the filter) of this table\'s pipeline, run once with --state naming a new file: the table is then compared in full and keeps that run\'s state')
        .replace('(otherwise the deleted ids would be wrong)', '(otherwise the deleted ids would be wrong); to change it for this table, run once with --state naming a new file'), { option: '--to' });
  }
}

/**
 * The baseline of a run whose --state file does not exist while it loads into a table that keeps a state: the table's, when it is this
 * pipeline's (the same organisation, columns and filter), and the summary says so. Else none, as before (a new --state file is how a
 * pipeline changes its columns), and the summary says that the change log then lists every contact as an insert.
 */
async function keptInPlaceOfStateFile(options: ExportOptions, loader: TableLoader, owner: StateOwner, stats: ExportStats): Promise<Baseline | undefined> {
  const label = `the state kept in ${loader.display}`;
  try {
    const kept = await tableState(loader, owner);
    if (kept) stats.warnings.push(`the --state file ${options.statePath} does not exist, so this run's delta and change log are against ${label} (run ${kept.runId ?? 'unknown'}), the state its load starts from; the new state is written to ${options.statePath}`);
    return kept;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    stats.warnings.push(`the --state file ${options.statePath} does not exist, and ${label} is not this pipeline's (another organisation, --columns or --filter), so this run has no baseline: its change log lists every contact as an insert, and its load compares the table in full`);
    return undefined;
  }
}

interface WalkContext {
  stats: ExportStats;
  report: ErrorReport;
  progress: Progress;
  hooks: RunExportHooks;
  onPage: () => void;
}

/** The outputs written while the run walks: the data file, and the sinks that take every page's records (state, change log, load). */
interface PageOutputs {
  dataFile: OutputFile | undefined;
  state: StateWriter | undefined;
  changes: ChangeLog | undefined;
  pageSinks: PageSink[];
}

/** Opens the outputs the walk writes and registers each in the run's sink list. */
async function openPageOutputs(options: ExportOptions, run: OpenRun, stats: ExportStats, sinks: ExportSink[], journal: PublishJournal | undefined): Promise<PageOutputs> {
  const add = <T extends ExportSink>(sink: T): T => {
    sinks.push(sink);
    return sink;
  };
  const loader = run.load;
  const dataFile = options.fileOutput && !options.toStdout ? await openOutput(options.output, { highWaterMark: DATA_BUFFER_BYTES, journal }) : undefined;
  add(fileSink(RANK.data, dataFile));
  const meta = run.owner ? { ...run.owner, columns: stats.columns, runId: options.runId, startedAt: options.runStartedAt, schema: run.schema } : undefined;
  // A load without a state file of its own writes the state only into the table (a scratch file stages it).
  const stateDir = options.statePath === undefined && loader ? createTempDir('state') : undefined;
  if (stateDir) run.scratch.push(stateDir);
  const statePath = options.statePath ?? (stateDir ? join(stateDir, 'table.state') : undefined);
  // A load that keeps the state in gzip parts (DuckDB) gets them compressed while the run walks, not after it.
  const copy = statePath !== undefined && loader?.loader.stateLayout === 'gzip' ? stateGzipCopy(scratchFile(run, 'state', 'table.state.gz')) : undefined;
  // The table's state staged in a scratch folder is no output: the journal does not list it (a killed run left no file of its own there to take back).
  const state = statePath !== undefined ? add(await createStateWriter(statePath, meta, run.rowHash, copy, journal, { scratch: stateDir !== undefined })) : undefined;
  loader?.keepState(state);
  const changes = options.changesPath !== undefined ? add(await createChangeLog(options.changesPath, { validFrom: options.runStartedAt, runId: options.runId }, journal)) : undefined;
  const pageSinks = ([state, changes, loader] as Array<PageSink | undefined>).filter((sink): sink is PageSink => sink !== undefined);
  return { dataFile, state, changes, pageSinks };
}

/** A path for a scratch file in a folder of its own, removed with the run's other scratch folders. */
function scratchFile(run: OpenRun, kind: string, name: string): string {
  const dir = createTempDir(kind);
  run.scratch.push(dir);
  return join(dir, name);
}

/**
 * A contact Pylon still lists whose record this run could not make (a value
 * that does not fit its column; the error report names it) is not a deletion:
 * the baseline marks it seen (no deleted id, no delete in the change log), the
 * new state keeps its previous hash (the next run compares with what was last
 * published), and the load leaves its row as it was.
 */
async function keepUnexported(id: string, run: OpenRun, outputs: PageOutputs): Promise<void> {
  run.load?.keep(id);
  const baseline = run.baseline;
  if (!baseline) return;
  const key = idKey(id);
  const previous = baseline.index.get(key);
  if (previous === undefined || baseline.index.isMarked(key)) return;
  baseline.index.mark(key);
  run.keptUnexported += 1;
  const hex = previous.hi.toString(16).padStart(8, '0') + previous.lo.toString(16).padStart(8, '0');
  await outputs.state?.page([{ id, hash: { ...previous, hex }, cells: [], typed: undefined, line: undefined, json: undefined, change: 'unchanged' }]);
}

/** Pulls every page through the page sinks into the data file (or stdout), which sets the pace. */
async function walk(options: ExportOptions, client: PylonClient, run: OpenRun, outputs: PageOutputs, context: WalkContext): Promise<void> {
  const { stats, report, progress, hooks } = context;
  const { dataFile, pageSinks } = outputs;
  progress.step = 'page';
  // hyparquet-writer is loaded only for Parquet output. A row group's pages wait in a scratch file, not in memory (SpilledPages).
  const parquet = options.format === 'parquet' ? (await import('./parquet.js')).createParquetEncoder(run.typed, { rowGroupSize: options.rowGroupSize, spill: scratchFile(run, 'parquet', 'pages') }) : undefined;
  const encoder = createPageEncoder({ format: options.format, header: stats.columns, bom: options.bom, excelSafe: options.excelSafe, typed: run.typed, parquet });
  const tracker = new ListTracker();
  stats.listCheck = tracker.check;
  // Each record carries only the forms some output takes.
  const needs = {
    typed: options.typed || options.format === 'parquet' || run.load !== undefined,
    line: (run.values !== undefined && run.copyDigest === undefined) || (options.typed && options.format === 'ndjson'),
    json: options.format === 'ndjson' && !options.typed,
    hash: pageSinks.length > 0 || run.baseline !== undefined,
  };
  const chunks = encodedPages({
    filter: run.filter,
    options, client, encoder, makeRecord: recordMaker(run.columns, run.typed, rowHasher(run.rowHash, columnsKey(stats.columns)), needs), baseline: run.baseline, pageSinks, values: run.copyDigest ? undefined : run.values, report, stats,
    pageState: progress.pages, tracker, signal: hooks.signal,
    keepUnexported: (id) => keepUnexported(id, run, outputs),
    onPage: () => {
      context.onPage();
      hooks.onProgress?.(stats);
    },
  });
  // One page of text in flight at a time: memory stays flat whatever the contact count.
  const source = Readable.from(chunks, { highWaterMark: 1 });
  const digest = new Digest();
  if (!options.fileOutput) {
    try {
      for await (const _chunk of source) void _chunk;
    } finally {
      parquet?.close();
    }
    progress.step = 'output';
    return;
  }
  const destination = dataFile ? dataFile.stream : forwardTo(hooks.stdout ?? process.stdout);
  await pipeline(options.gzip ? [source, createGzip(), digest, destination] : [source, digest, destination])
    .catch((error: unknown) => {
      stats.bytes = digest.bytes;
      // A failed write (ENOSPC, EIO…) names the file it was for.
      throw dataFile && (error as NodeJS.ErrnoException)?.syscall !== undefined ? (dataFile.inPlace ? outputWriteError(options.output, error) : stagedWriteError(options.output, error)) : error;
    })
    .finally(() => parquet?.close());
  stats.bytes = digest.bytes;
  stats.sha256 = digest.sha256;
  progress.step = 'output';
}

/** After the walk: the deleted ids (and their change-log rows), the schema sidecars; the counts the manifest records. */
async function closeOutputs(options: ExportOptions, run: OpenRun, outputs: PageOutputs, sinks: ExportSink[], stats: ExportStats, journal: PublishJournal | undefined): Promise<void> {
  const changeLog = outputs.changes;
  if (run.baseline && stats.listCheck.verdict === 'unverified') {
    // The list was still moving when the walk ended: a contact not met may have been skipped, so none is called deleted.
    const kept = await keepUnseen(run.baseline, outputs.state);
    stats.delta!.deleted = 0;
    if (kept > 0) {
      stats.warnings.push(
        `the list was still changing when the export ended, so the ${counted(kept, 'contact')} of the last committed run it did not meet ${kept === 1 ? 'was kept as it was' : 'were kept as they were'} (in the state${run.load ? ' and the table' : ''}), not reported as deleted; the next run whose list is not unverified settles them`,
      );
    }
  } else if (run.baseline && (options.deletedPath !== undefined || changeLog)) {
    const deletedFile = options.deletedPath !== undefined ? await openOutput(options.deletedPath, { journal }) : undefined;
    sinks.push(fileSink(RANK.data, deletedFile));
    stats.delta!.deleted = await writeDeletedIds(run.baseline, deletedFile, changeLog, run.load?.changesOnly ? run.load : undefined);
    if (deletedFile) stats.delta!.deletedPath = options.deletedPath!;
  } else if (run.baseline) {
    // Nothing lists them, but the summary and the manifest still count them: every baseline id this run did not mark as seen.
    stats.delta!.deleted = run.baseline.index.size - stats.delta!.changed - stats.delta!.unchanged - run.keptUnexported;
    // A load that staged only the changes marks the deleted ids itself: when there are any, a pass over the baseline lists them for it.
    const load = run.load;
    if (load?.changesOnly && stats.delta!.deleted > 0) stats.delta!.deleted = await writeDeleted(run.baseline, undefined, async (id) => load.gone(id));
  }
  if (options.schemaPaths) {
    const title = `pylon-contacts export ${options.output}`;
    const files: OutputFile[] = [];
    for (const [path, text] of [
      [options.schemaPaths.jsonSchema, JSON.stringify(toJsonSchema(run.typed, title), null, 2) + '\n'],
      [options.schemaPaths.bigquery, JSON.stringify(toBigQuerySchema(run.typed), null, 2) + '\n'],
      [options.schemaPaths.postgres, `-- ${title}; schema sha256 ${run.schema.hash}\n${toPostgresDdl(run.typed)}`],
    ] as const) {
      const file = await openOutput(path, { journal });
      sinks.push(fileSink(RANK.data, file));
      await file.write(text);
      files.push(file);
    }
    stats.schemaFiles = files.map((f) => f.path);
  }
  if (changeLog) stats.changes = { path: options.changesPath!, ...changeLog.counts };
  if (run.nul.rows > 0) {
    stats.warnings.push(
      `the text of ${counted(run.nul.rows, 'contact')} this load wrote (contact ${run.nul.first} first) held a NUL character (U+0000), which PostgreSQL text and jsonb cannot hold; ` +
        `the table has U+FFFD (\ufffd) in its place, the files keep the NUL, and the values digest is of the text as the table stores it`,
    );
  }
  if (run.values) {
    if (run.copyDigest) {
      await run.copyDigest.finish();
      // Every row staged must be in the sum taken from the COPY text, and nothing else.
      if (run.values.rows !== run.load!.staged) throw new InternalError(`the values hash covers ${counted(run.values.rows, 'row')}, the load staged ${run.load!.staged}`);
    }
    stats.valuesSha256 = run.values.hex;
    stats.valuesRows = run.values.rows;
  }
  if (!options.fileOutput) stats.sha256 = null;
}

/** The manifest and `_SUCCESS`, published last; the manifest is written when the other sinks are prepared (it records the state's hash and the load's counts). */
async function manifestSinks(options: ExportOptions, run: OpenRun, outputs: PageOutputs, stats: ExportStats, report: ErrorReport, journal: PublishJournal | undefined): Promise<ExportSink[]> {
  if (options.manifestPath === undefined) {
    stats.complete = true;
    stats.endedAt = new Date().toISOString();
    return [];
  }
  const manifestPath = options.manifestPath;
  const stateWriter = outputs.state;
  const manifest = await openOutput(manifestPath, { journal });
  const marks: ExportSink[] = [
    {
      rank: RANK.manifest,
      async prepare() {
        stats.complete = true;
        stats.endedAt = new Date().toISOString();
        stats.errorsPath = report.entries > 0 ? (options.errorsPath ?? null) : null;
        stats.statePath = stateWriter?.ref ? stateWriter.ref.path : null;
        await manifest.write(JSON.stringify(buildManifest(options, manifestPath, stats, stateWriter?.ref, run.schema), null, 2) + '\n');
        await manifest.prepare();
        return [manifest];
      },
      abort: () => manifest.discard(),
    },
  ];
  const successPath = options.successPath;
  if (stats.listCheck.verdict !== 'unverified' && successPath !== undefined) {
    // Made after the manifest, so its time says it came last too.
    let success: OutputFile | undefined;
    marks.push({
      rank: RANK.success,
      async prepare() {
        success = await openOutput(successPath, { journal });
        await success.prepare();
        return [success];
      },
      abort: async () => success?.discard(),
    });
  }
  return marks;
}
type LoadSink = PageSink & {
  loader: TableLoader;
  keepState(state: StateWriter | undefined): void;
  keep(id: string): void;
  unknownRowHash: boolean;
  /** MergeInput.compareValues: set when the run has no baseline. */
  compareValues: boolean;
  /** The loader stages only the new and changed rows (TableLoader.stageChangesOnly); the deleted ids go to gone(). */
  changesOnly: boolean;
  /** Rows handed to the loader. */
  staged: number;
  gone(id: string): void;
};

/** The load as a sink: staged during the walk, merged when the files are staged, committed when they are in place. */
function loadSink(
  loader: TableLoader,
  options: ExportOptions,
  stats: ExportStats,
  onMergeStep: RunExportHooks['onMergeStep'],
  signal: AbortSignal | undefined,
): LoadSink {
  // An interrupt stops the merge after the statement running when it came (the transaction then rolls back).
  const onStep: RunExportHooks['onMergeStep'] = (step, counts) => {
    signal?.throwIfAborted();
    onMergeStep?.(step, counts);
  };
  let state: StateWriter | undefined;
  /** Contacts the run could not export: their rows stay (MergeInput.keep). */
  const kept: string[] = [];
  /** changesOnly: the ids of the baseline the run did not meet, and the rows it met unchanged (not staged). */
  const gone: string[] = [];
  let unstaged = 0;
  const sink: LoadSink = {
    rank: RANK.load,
    loader,
    /** Set when neither a baseline nor the table's kept state says how the table's `_row_hash` values were made. */
    unknownRowHash: false,
    compareValues: false,
    changesOnly: false,
    staged: 0,
    async page(all) {
      const records = sink.changesOnly ? all.filter((r) => r.change !== 'unchanged') : all;
      unstaged += all.length - records.length;
      sink.staged += records.length;
      if (records.length > 0) await loader.add(records.map((r) => r.typed!), records.map((r) => r.hash!.hex));
    },
    gone(id) {
      gone.push(id);
    },
    keepState(writer) {
      state = writer;
    },
    keep(id) {
      kept.push(id);
    },
    async prepare() {
      const started = Date.now();
      const counts = await loader.merge({ runId: options.runId, extractedAt: options.runStartedAt, hardDelete: options.hardDelete, valuesSha256: stats.valuesSha256 ?? undefined, schemaHash: stats.schemaHash ?? undefined, keep: kept, keepUnseen: stats.listCheck.verdict === 'unverified', compareValues: sink.compareValues, ...(sink.changesOnly ? { changes: { gone, unstaged } } : {}), onStep });
      // The state (prepared before the load: RANK.state < RANK.load) commits or rolls back with the merge.
      if (state?.stagedPath !== undefined) await loader.writeState(state.copyPath !== undefined ? { gzipped: createReadStream(state.copyPath) } : createReadStream(state.stagedPath));
      stats.load = { target: loader.display, table: options.to!.table, ...counts, mergeMs: Date.now() - started, staged: sink.changesOnly ? 'changes' : 'all' };
      const added = loader.addedColumns;
      if (added.length > 0 && counts.updated > 0) {
        // A column dropped from the table by hand comes back empty: the rows are rewritten whatever the baseline says, or it would stay empty for good.
        stats.warnings.push(
          `table ${options.to!.table} had no column ${added.join(', ')} (a new field, or a column dropped by hand): the load added it and rewrote every row to fill it, ` +
            `so ${counted(counts.updated, 'row')} ${counts.updated === 1 ? 'counts as updated though its values' : 'count as updated though their values'} may not have changed in Pylon`,
        );
      }
      if (sink.unknownRowHash && counts.updated > 0) {
        stats.warnings.push(
          `${counted(counts.updated, 'row')} of ${options.to!.table} ${counts.updated === 1 ? 'was' : 'were'} rewritten and counted as updated: the table has no kept state saying how its _row_hash values were made, so they were compared as ${ROW_HASH} hashes ` +
            '(rows an older version hashed with sha256 differ once; later nights compare in the kind this load kept)',
        );
      }
      return [];
    },
    async commit() {
      const started = Date.now();
      await loader.commit();
      stats.load!.mergeMs += Date.now() - started;
    },
    abort: (cause) => loader.abort(cause),
  };
  return sink;
}

/** DuckDB writes its staging file beside the database (and sweeps those of killed runs there); PostgreSQL needs no folder (beside the manifest or output). */
function loaderTempDir(options: ExportOptions): string {
  return dirname(options.to!.kind === 'duckdb' ? options.to!.path : resolve(options.manifestPath ?? options.output));
}

/** Counts the client's calls, retries and waits since the run began. */
function statsRefresher(client: PylonClient, stats: ExportStats): () => void {
  const started = Date.now();
  const callsBefore = { ...client.stats.calls };
  const retriesBefore = client.stats.retries;
  const rateLimitedBefore = client.stats.rateLimited;
  return () => {
    for (const endpoint of ENDPOINTS) stats.calls[endpoint] = client.stats.calls[endpoint] - (callsBefore[endpoint] ?? 0);
    stats.retries = client.stats.retries - retriesBefore;
    stats.rateLimited = client.stats.rateLimited - rateLimitedBefore;
    stats.durationMs = Date.now() - started;
  };
}

/** A failed run publishes nothing: the stats say so, and where it stopped. */
function failed(stats: ExportStats, error: unknown, progress: Progress, signal: AbortSignal | undefined): void {
  stats.complete = false;
  stats.sha256 = null;
  stats.interrupted = signal?.aborted === true;
  stats.load = null;
  stats.changes = null;
  stats.statePath = null;
  stats.schemaFiles = [];
  // The deleted ids' file was staged with the others and is gone with them; the count stays if it was made (null if not).
  if (stats.delta) stats.delta.deletedPath = null;
  const entry = describeFailure(error, progress, stats.interrupted);
  // The page named is the one whose request or answer failed; a failure of the outputs, the load or the calls before the walk names none.
  const pageFailed = entry.kind === 'page' || entry.kind === 'pagination' || (entry.kind === 'interrupted' && progress.step === 'page');
  const page = pageFailed ? (entry.page ?? null) : null;
  // The cursor is where the walk was (the page last requested), whatever failed; the report line names it only when a page failed.
  const cursor = entry.cursor ?? progress.pages.cursor ?? '';
  stats.stoppedAt = { cursor, pagesRead: progress.pages.pages, page, code: entry.code, status: entry.status ?? null, requestId: entry.requestId ?? null, message: entry.message };
  if (!stats.interrupted) stats.fatal = { code: entry.code, message: entry.message };
}

/**
 * A failed run never replaces the manifest of a complete one: its facts go to <manifest>.failed.json. Its temporary file is in the
 * run's journal, as every other file of the run is: a run killed while it writes it leaves a `.partial` that no later run's sweep by
 * target meets when the manifest's name holds {run_id} or {date} (each run's path is its own); the next run removes it from the journal.
 */
async function writeFailedManifest(options: ExportOptions, stats: ExportStats, baseline: Baseline | undefined, schema: SchemaRecord | undefined, journal: PublishJournal | undefined): Promise<void> {
  stats.endedAt = new Date().toISOString();
  if (options.manifestPath === undefined) return;
  const failedPath = `${options.manifestPath}.failed.json`;
  const path = (await manifestIsComplete(options.manifestPath)) ? failedPath : options.manifestPath;
  stats.manifestPath = path;
  try {
    await writeManifest(path, buildManifest(options, path, stats, baseline?.state, schema), { journal, killAt: 'failed-manifest' });
  } catch (error) {
    stats.manifestPath = null;
    stats.warnings.push(`the manifest of this failed run could not be written: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function stateOwner(options: ExportOptions, client: PylonClient, signal: AbortSignal | undefined): Promise<StateOwner> {
  const me = await client.me({ signal });
  return { host: hostOf(options.connection.baseUrl), organization: { id: me.data.id, name: me.data.name }, columnsOption: options.columns ?? null, filter: options.filter ?? null };
}

function emptyStats(options: ExportOptions): ExportStats {
  return {
    complete: false,
    interrupted: false,
    output: options.fileOutput ? options.output : `(no file; ${options.to?.display})`,
    format: options.format,
    gzip: options.gzip,
    rows: 0,
    contactsRead: 0,
    recordErrors: 0,
    pages: 0,
    calls: emptyCalls(),
    retries: 0,
    rateLimited: 0,
    bytes: 0,
    sha256: null,
    columns: [],
    startedAt: options.runStartedAt,
    endedAt: '',
    durationMs: 0,
    manifestPath: options.manifestPath ?? null,
    errorsPath: null,
    statePath: null,
    delta: null,
    stoppedAt: null,
    listCheck: new ListTracker().check,
    warnings: [],
    runId: options.runId,
    schemaHash: null,
    valuesSha256: null,
    valuesRows: 0,
    load: null,
    changes: null,
    schemaFiles: [],
  };
}

interface PagesInput {
  /** The search filter as sent (OpenRun.filter), or undefined to list every contact. */
  filter: Filter | undefined;
  options: ExportOptions;
  client: PylonClient;
  encoder: PageEncoder;
  makeRecord: ReturnType<typeof recordMaker>;
  baseline: Baseline | undefined;
  /** The state, the change log and the load: each takes every page's records. */
  pageSinks: readonly PageSink[];
  values: ValuesDigest | undefined;
  /** A contact whose record could not be made (reported): kept as the last committed run left it (keepUnexported). */
  keepUnexported: (id: string) => Promise<void>;
  report: ErrorReport;
  stats: ExportStats;
  pageState: PaginationState;
  tracker: ListTracker;
  signal: AbortSignal | undefined;
  onPage: () => void;
}

/** The file's text, one chunk per page, pulled page by page: the next page is fetched only when the file took this one. */
async function* encodedPages(input: PagesInput): AsyncGenerator<string | Uint8Array> {
  const { options, client, encoder, pageState, signal } = input;
  const fetchPage = (cursor: string | undefined) =>
    input.filter
      ? client.searchContacts({ filter: input.filter, cursor, limit: options.pageSize }, { signal })
      : client.listContacts({ cursor, limit: options.pageSize }, { signal });
  yield* pieces(encoder.start());
  // A walk that shows the list moved is followed by another (list-check.ts).
  do {
    pageState.cursor = undefined;
    const pages = paginate(fetchPage, { maxPages: options.maxPages, signal, prefetch: options.connection.concurrency > 1 }, pageState);
    // Only the page's text stays referenced while the writer takes it: the
    // contacts of a page are garbage before the next one is fetched.
    for (let text = await nextChunk(pages, input); text !== undefined; text = await nextChunk(pages, input)) {
      input.onPage();
      yield* pieces(text);
    }
  } while (input.tracker.walkAgain(options.recheck));
  yield* pieces(encoder.end());
}

/** The non-empty pieces of an encoded chunk, in order. */
function* pieces(chunk: EncodedChunk): Generator<string | Uint8Array> {
  if (typeof chunk === 'string' || chunk instanceof Uint8Array) {
    if (chunk.length > 0) yield chunk;
    return;
  }
  for (const piece of chunk) if (piece.length > 0) yield piece;
}

async function nextChunk(pages: AsyncGenerator<ApiPage<Contact>>, input: PagesInput): Promise<EncodedChunk | undefined> {
  const next = await pages.next();
  return next.done ? undefined : encodePage(next.value, input);
}

/**
 * A typed JSON line as the values digest hashes it, the text as stored: each lone surrogate as U+FFFD (UTF-8 cannot hold the half, so
 * the file, the table and the COPY text all have U+FFFD there) and, in a PostgreSQL load (`nulToo`), each NUL as U+FFFD too (copy-text.ts;
 * the load says how many). One `includes()` scan for a line with neither (every escape they are written as begins `\u`).
 */
function asStored(line: string, nulToo: boolean, stats: ExportStats, id: string): string {
  if (!line.includes('\\u')) return line;
  if (hasLoneSurrogateEscape(line)) {
    warnReplacedText(stats, id);
    line = line.replace(LONE_SURROGATE_ESCAPES, '$1\ufffd');
  }
  return nulToo ? nulAsStored(line) : line;
}

const warnedReplacedText = new WeakSet<ExportStats>();

/** The summary's warning, once a run, that text with a lone surrogate was stored as U+FFFD. */
function warnReplacedText(stats: ExportStats, id: string): void {
  if (warnedReplacedText.has(stats)) return;
  warnedReplacedText.add(stats);
  stats.warnings.push(
    `the text of contact ${id} holds an unpaired UTF-16 surrogate (half of a character, which Pylon's JSON can carry as \\ud800); UTF-8 cannot hold it, so every output (and the table) has U+FFFD (\ufffd) in its place, and the values digest is of the text as stored; this is said once a run, for the first such contact`,
  );
}

/** One page as text (or Parquet bytes): each contact made into one record, classified against the baseline, given to every page sink, then encoded for the file. */
async function encodePage(page: ApiPage<Contact>, input: PagesInput): Promise<EncodedChunk> {
  const { options, encoder, baseline, pageSinks, values, report, stats, pageState } = input;
  stats.pages = pageState.pages;
  const records: ExportRecord[] = [];
  const recordError = async (record: unknown, message: string) => {
    stats.recordErrors += 1;
    const id = (record as { id?: unknown } | null)?.id;
    await report.add({ kind: 'record', id: typeof id === 'string' ? id : undefined, cursor: pageState.cursor ?? '', page: pageState.pages, requestId: page.requestId, code: 'PYLON_BAD_RESPONSE', message: `Not exported: ${message}` });
  };
  for (const record of page.data as unknown[]) {
    const problem = recordProblem(record);
    if (problem !== undefined && input.tracker.check.walks > 1) continue; // reported by the first walk
    stats.contactsRead += 1;
    if (problem !== undefined) {
      await recordError(record, problem);
      continue;
    }
    const contact = record as Contact;
    if (!input.tracker.admit(contact.id)) {
      stats.contactsRead -= 1; // read again, written once
      continue;
    }
    const made = input.makeRecord(contact);
    if (typeof made === 'string') {
      await recordError(record, made);
      await input.keepUnexported(contact.id);
      continue;
    }
    if (values) values.add(asStored(made.line!, options.to?.kind === 'postgresql', stats, made.id));
    if (baseline) {
      made.change = baseline.classify(idKey(made.id), made.hash!);
      stats.delta![made.change] += 1;
    }
    records.push(made);
  }
  for (const sink of pageSinks) await sink.page(records);
  const written = baseline ? records.filter((r) => r.change !== 'unchanged') : records;
  stats.rows += written.length;
  // Without a file (a load only) nothing takes the encoded text: no page is encoded.
  if (!options.fileOutput) return '';
  const rowOf: (r: ExportRecord) => EncoderRow = options.format === 'csv' ? (r) => r.cells : options.format === 'parquet' ? (r) => r.typed! : options.typed ? (r) => r.line! : (r) => r.json!;
  return encoder.page(written.map(rowOf));
}

/** Carries the baseline entries this run did not meet into the new state (their previous hashes); returns how many. */
async function keepUnseen(baseline: Baseline, state: StateWriter | undefined): Promise<number> {
  let kept = 0;
  for await (const entry of baseline.entries()) {
    if (baseline.index.isMarked(entry.key)) continue;
    kept += 1;
    await state?.page([{ id: entry.id, hash: { hi: entry.hash.hi, lo: entry.hash.lo, hex: entry.hashHex }, cells: [], typed: undefined, line: undefined, json: undefined, change: 'unchanged' }]);
  }
  return kept;
}

/** Writes the deleted ids (when a file is asked for) and their `delete` rows in the change log. */
async function writeDeletedIds(baseline: Baseline, file: OutputFile | undefined, changeLog: ChangeLog | undefined, load: LoadSink | undefined): Promise<number> {
  const onDeleted =
    changeLog || load
      ? async (id: string, hashHex: string) => {
          load?.gone(id);
          if (!changeLog) return;
          changeLog.add('delete', id, hashHex);
          if (changeLog.counts.delete % 1000 === 0) await changeLog.flush();
        }
      : undefined;
  return writeDeleted(baseline, file, onDeleted);
}

/** Stops the run when a column was dropped or changed type against the previous run (its --since manifest, else the manifest this run replaces). */
async function checkSchema(options: ExportOptions, baseline: Baseline | undefined, schema: SchemaRecord, stats: ExportStats): Promise<void> {
  const previous = baseline?.schema ?? (options.manifestPath !== undefined ? (await readPreviousManifest(options.manifestPath))?.schema : undefined);
  if (!previous || !Array.isArray(previous.columns)) return;
  const change = compareSchemas(previous, schema);
  if (change.dropped.length === 0 && change.changed.length === 0) return;
  const text = describeSchemaChange(change);
  if (options.allowSchemaChange) {
    stats.warnings.push(`schema changed against the previous run (${text}); going on because of --allow-schema-change`);
    return;
  }
  throw new PylonCliError('SCHEMA_CHANGED', `The schema changed against the previous run: ${text}. Nothing was published; pass --allow-schema-change to accept it`);
}

/**
 * A delta written to a templated path whose partition already holds an
 * earlier committed run's file (the cron line run twice on one {date}) replaces
 * it: that run's rows (and change-log rows, on a templated --changes) are then
 * no longer in the lake, though the table and the state have them. Said in
 * the summary's warnings; a {time} or {run_id} in the file name keeps both.
 */
async function warnReplacedPartition(options: ExportOptions, run: OpenRun, stats: ExportStats): Promise<void> {
  if (!options.templated || !run.baseline || options.manifestPath === undefined) return;
  const previous = await readPreviousManifest(options.manifestPath);
  if (!previous || previous.runId === options.runId) return;
  stats.warnings.push(
    `${options.output} held the ${counted(previous.rows ?? 0, 'row')} of run ${previous.runId ?? previous.startedAt ?? 'unknown'}; this delta replaces that file` +
      `${options.changesPath !== undefined ? ` (and the change log ${options.changesPath}, if it was that run's)` : ''}, so ${previous.rows === 1 ? 'that row is' : 'those rows are'} no longer in the lake (the table and the state have them); ` +
      'put {time} or {run_id} in the file names to keep one file per run',
  );
}

async function readPreviousManifest(path: string): Promise<Partial<ExportManifest> | undefined> {
  try {
    const manifest = JSON.parse(await readFile(path, 'utf8')) as Partial<ExportManifest>;
    return manifest.kind === 'pylon-contacts-export' && manifest.complete === true ? manifest : undefined;
  } catch {
    return undefined;
  }
}

async function manifestIsComplete(path: string): Promise<boolean> {
  return (await readPreviousManifest(path)) !== undefined;
}

/**
 * Every file goes beside its target: a missing folder (or a file where a folder should be) is OUTPUT_UNWRITABLE,
 * as for the import's outputs, found before any request. Returns the directories it made.
 */
async function checkDirectories(options: ExportOptions, made: string[]): Promise<void> {
  const targets = outputPaths(options);
  // A partitioned layout (contacts/dt={date}/…) makes its directory.
  if (options.templated) {
    for (const { option, path } of targets) {
      if (!['<file>', '--manifest', '--errors', '--changes', '--state'].includes(option) || isSpecialFile(path)) continue;
      const dir = dirname(resolve(path));
      const first = await mkdir(dir, { recursive: true }).catch(() => undefined);
      for (let at = dir; first !== undefined && at.length >= first.length; at = dirname(at)) made.push(at);
    }
  }
  await checkWritable(targets);
  // The DuckDB file (and its .wal, its staging file) goes in a folder that must exist, like any output's: a usage error before the first call, not a failed load after the walk.
  if (options.to?.kind === 'duckdb') {
    const dir = dirname(options.to.path);
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) throw invalidOption('--to', `a DuckDB file in an existing folder (${dirname(options.to.shownPath)} ${info ? 'is not a folder' : 'does not exist'})`, options.to.display);
    await checkWritable([{ path: options.to.path, option: '--to' }]);
  }
}

/** A run that published nothing takes back the partition folders it made and left empty (a dt= folder with no data file in the dataset root). */
async function removeEmptyMadeDirs(made: readonly string[]): Promise<void> {
  for (const dir of [...new Set(made)].sort((a, b) => b.length - a.length)) await rmdir(dir).catch(() => {});
}

/**
 * Temporary files of earlier runs killed before they could clean up (kill -9), and files a killed publish had replaced (put back), at this run's
 * targets: what a run of a version without the publish journal left (recoverDeadRuns settles the others wherever their files are). The siblings
 * of a run left unsettled (its database could not be asked) stay for the run that can.
 */
async function removeStaleFiles(options: ExportOptions, unsettled: ReadonlySet<number>): Promise<void> {
  for (const { path } of outputPaths(options)) await sweepDeadPartials(path, unsettled);
}

/**
 * A killed run whose load did not commit, now settled (its files taken back): its row in the load log, `abandoned`,
 * so `_pylon_loads` accounts for every night that opened a load. Returns the summary's warning when the row could not be written.
 */
async function recordAbandoned(options: ExportOptions, recovery: Recovery, startedAt: string): Promise<string[]> {
  const dead = recovery.run;
  // A load that writes no file keeps a journal too (options.ts journalDirOf): its row says there was nothing to take back.
  const files = recovery.removed.length + recovery.restored.length + recovery.partials.length > 0;
  const why = `the run was killed (process ${dead.pid}) before its load committed; run ${options.runId} found it and ${files ? 'took back the files it had written' : 'had no file of it to take back (it wrote none)'}; the table was left as it was`;
  try {
    await recordAbandonedLoad(options.to!, { runId: dead.runId, startedAt }, why);
    return [];
  } catch (error) {
    return [`run ${dead.runId} (process ${dead.pid}) could not be recorded as abandoned in the load log of ${dead.load} (${error instanceof Error ? error.message : String(error)})`];
  }
}

/**
 * Settles the runs killed (kill -9) while they wrote or published their files, from their journals in options.journalDir (publish-journal.ts):
 * one whose load committed (its row in `_pylon_loads`, asked of this run's --to when it is the same table) or whose files were all in place
 * keeps them; any other has the files it published removed, those it replaced put back and its temporary files removed, wherever {date} or
 * {run_id} put them. Returns the summary's warnings, and the processes of runs left as they are: a load into another table than this run's,
 * or a database that could not be asked, is settled by a later run that loads there.
 */
async function recoverDeadRuns(options: ExportOptions): Promise<{ warnings: string[]; unsettled: Set<number> }> {
  const warnings: string[] = [];
  const unsettled = new Set<number>();
  for (const dead of options.journalDir === undefined ? [] : await deadJournals(options.journalDir)) {
    const leave = (why: string) => {
      unsettled.add(dead.pid);
      warnings.push(`run ${dead.runId} (process ${dead.pid}) was killed while it wrote its outputs and ${why}; its files were left as they are, for a later run that loads into ${dead.load}`);
    };
    let committed = dead.committed;
    if (!committed && dead.load !== null) {
      // The same table however it is spelled (the key, from another folder or with the password elsewhere); a journal of an earlier version has only the text.
      if (options.to === undefined || (dead.loadKey !== undefined ? options.to.key !== dead.loadKey : options.to.display !== dead.load)) {
        leave(`loaded into ${dead.load}, which this run does not load, so whether that load committed is not known here`);
        continue;
      }
      try {
        committed = await loadCommitted(options.to, dead.runId);
      } catch (error) {
        leave(`whether its load committed could not be read (${error instanceof Error ? error.message : String(error)})`);
        continue;
      }
    }
    try {
      // Read before the journal goes with the rest of the run's files: a journal of an earlier version has no start, its file's time stands in.
      const startedAt = dead.startedAt ?? (await stat(dead.path).then((s) => s.mtime.toISOString(), () => options.runStartedAt));
      const recovery = await recoverRun(dead, committed);
      const text = describeRecovery(recovery);
      if (text !== undefined) warnings.push(text);
      if (!committed && dead.load !== null) warnings.push(...(await recordAbandoned(options, recovery, startedAt)));
    } catch (error) {
      unsettled.add(dead.pid);
      warnings.push(`run ${dead.runId} (process ${dead.pid}) was killed while it wrote its outputs, and its files could not all be settled (${error instanceof Error ? error.message : String(error)}); the next run tries again (its journal is ${dead.path})`);
    }
  }
  return { warnings, unsettled };
}

function describeFailure(error: unknown, progress: Progress, interrupted: boolean): ReportEntry {
  const { step, pages: pageState } = progress;
  const cursor = pageState.cursor ?? '';
  const page = pageState.pages + 1;
  if (interrupted) {
    // Interrupted while committing: every page had been read, so the line names none.
    if (step === 'output') return { kind: 'interrupted', code: 'RUN_ABORTED', message: 'Interrupted while the outputs were being committed (every page had been read); nothing was published' };
    return { kind: 'interrupted', cursor, page, code: 'RUN_ABORTED', message: `Interrupted before page ${page} was written; nothing was published` };
  }
  if (error instanceof PaginationError) return { kind: 'pagination', cursor, page: error.page, code: error.code, message: error.message };
  if (error instanceof PylonApiError) {
    const kind = step === 'me' || step === 'custom_fields' ? step : 'page';
    return { kind, cursor: kind === 'page' ? cursor : undefined, page: kind === 'page' ? page : undefined, status: error.status, requestId: error.requestId, code: error.code, message: error.message };
  }
  // A write's, a load's and a schema check's failures are about the outputs, wherever the run was: their line names no page (none failed).
  if (error instanceof PylonCliError) {
    if (step === 'output' || isOutputCode(error.code)) return { kind: 'output', code: error.code, message: error.message };
    return { kind: 'page', cursor, page, code: error.code, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return { kind: 'output', code: 'OUTPUT_WRITE', message: `Cannot write the export: ${message}${code && !message.includes(code) ? ` (${code})` : ''}` };
}

/** The codes of a failure of the export's outputs: a file that could not be written, a load, a schema change refused. */
function isOutputCode(code: ErrorCode): boolean {
  return code.startsWith('OUTPUT_') || code.startsWith('LOAD_') || code === 'SCHEMA_CHANGED';
}

function buildManifest(options: ExportOptions, manifestPath: string, stats: ExportStats, state: StateRef | undefined, schema: SchemaRecord | undefined): ExportManifest {
  const rel = (path: string) => relativeTo(manifestPath, path);
  const unverified = stats.listCheck.verdict === 'unverified';
  return {
    kind: 'pylon-contacts-export',
    version: 1,
    // Every page was read, but the list moved under the walk: not claimed complete.
    complete: stats.complete && !unverified,
    status: stats.complete ? (unverified ? 'unverified' : 'complete') : stats.interrupted ? 'interrupted' : 'failed',
    file: !options.fileOutput ? null : options.toStdout ? '-' : rel(options.output),
    format: options.format,
    gzip: options.gzip,
    bom: options.bom,
    excelSafe: options.excelSafe,
    columns: stats.columns,
    filter: options.filter ?? null,
    rows: stats.rows,
    contactsRead: stats.contactsRead,
    recordErrors: stats.recordErrors,
    pages: stats.pages,
    apiCalls: {
      total: Object.values(stats.calls).reduce((a, b) => a + b, 0),
      list: stats.calls.list,
      search: stats.calls.search,
      customFields: stats.calls.customFields,
      // A load asks who the token belongs to (the state's owner): counted in total, so named here too.
      me: stats.calls.me,
      retries: stats.retries,
      rateLimited: stats.rateLimited,
    },
    bytes: stats.complete ? stats.bytes : null,
    sha256: stats.sha256,
    startedAt: stats.startedAt,
    endedAt: stats.endedAt,
    durationMs: stats.durationMs,
    state: state ? { ...state, path: rel(state.path) } : null,
    delta: stats.delta
      ? {
          since: stats.delta.sinceTable ?? rel(stats.delta.since),
          sinceStartedAt: stats.delta.sinceStartedAt,
          new: stats.delta.new,
          changed: stats.delta.changed,
          unchanged: stats.delta.unchanged,
          deleted: stats.delta.deleted,
          deletedFile: stats.delta.deletedPath ? rel(stats.delta.deletedPath) : null,
        }
      : null,
    stoppedAt: stats.stoppedAt,
    listCheck: stats.listCheck,
    errors: stats.errorsPath ? rel(stats.errorsPath) : null,
    runId: stats.runId,
    typed: options.typed,
    schema: schema ?? null,
    values: stats.valuesSha256 === null ? null : { rows: stats.valuesRows, sha256: stats.valuesSha256 },
    schemaFiles: stats.schemaFiles.map(rel),
    changes: stats.changes ? { ...stats.changes, path: rel(stats.changes.path) } : null,
    load: stats.load,
  };
}
