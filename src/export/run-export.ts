import { mkdir, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ENDPOINTS, type EndpointKey } from '../config.js';
import { ConfigError, PylonCliError, invalidOption } from '../errors.js';
import type { ApiPage, PylonClient } from '../pylon/api.js';
import { connect } from '../pylon/connect.js';
import { PylonApiError } from '../pylon/errors.js';
import type { Contact } from '../pylon/types.js';
import { checkWritable, openOutput, outputWriteError, sweepDeadPartials, writeFileAtomic, type OutputFile } from '../output/output-file.js';
import { createChangeLog, type ChangeLog } from './changes.js';
import { openLoader, type MergeCounts, type MergeStep, type TableLoader } from './load/loader.js';
import {
  compareSchemas,
  describeSchemaChange,
  schemaRecord,
  toBigQuerySchema,
  toJsonSchema,
  toPostgresDdl,
  toTypedRow,
  typedColumns,
  typedJsonLine,
  ValuesDigest,
  type SchemaRecord,
  type TypedColumn,
  type TypedRow,
} from './schema.js';
import { availableColumns, recordProblem, selectColumns, toCells, toJsonRecord, type ExportColumn } from './columns.js';
import { columnsKey, createStateWriter, loadBaseline, recordHash, writeDeleted, type Baseline, type StateWriter } from './delta.js';
import { key64 } from './id-index.js';
import { ListTracker, type ListCheck } from './list-check.js';
import { relativeTo, writeManifest, type DeltaCounts, type ExportManifest, type StateRef, type StopPoint } from './manifest.js';
import type { ExportOptions } from './options.js';
import { paginate, PaginationError, type PaginationState } from '../pylon/paginate.js';
import { ErrorReport, type ReportEntry } from './report.js';
import { createPageEncoder, Digest, forwardTo, type EncoderRow, type PageEncoder } from './sink.js';

/** The delta in the run's stats: paths as given, where the manifest has them relative to itself. */
export interface ExportDeltaStats extends DeltaCounts {
  /** The manifest given to --since. */
  since: string;
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
  load: (MergeCounts & { target: string; table: string; mergeMs: number }) | null;
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
}

type Phase = 'custom_fields' | 'page' | 'output' | 'load';

function emptyCalls(): Record<EndpointKey, number> {
  return Object.fromEntries(ENDPOINTS.map((e) => [e, 0])) as Record<EndpointKey, number>;
}

/**
 * Exports every contact (or a filtered subset) to CSV or NDJSON in constant
 * memory: pages are pulled only as fast as the file takes them. Writes to a
 * temporary file and renames it into place only when every page was read; on
 * failure or interrupt nothing appears at the target, and the manifest says
 * `complete: false` and where the run stopped. Never throws for API or write
 * failures (they are in the stats); throws ConfigError for usage problems.
 */
export async function runExport(options: ExportOptions, hooks: RunExportHooks = {}): Promise<ExportStats> {
  const started = Date.now();
  const { signal } = hooks;
  await checkDirectories(options);
  await removeStaleFiles(options);
  const baseline = options.since === undefined ? undefined : await loadBaseline(options.since, { filter: options.filter });
  const client = hooks.client ?? connect(options.connection);
  const callsBefore = { ...client.stats.calls };
  const retriesBefore = client.stats.retries;
  const rateLimitedBefore = client.stats.rateLimited;
  const stats: ExportStats = {
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
    delta: baseline ? { since: baseline.manifestPath, sinceStartedAt: baseline.manifest.startedAt, new: 0, changed: 0, unchanged: 0, deleted: 0, deletedPath: null } : null,
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
  const refresh = () => {
    for (const endpoint of ENDPOINTS) stats.calls[endpoint] = client.stats.calls[endpoint] - (callsBefore[endpoint] ?? 0);
    stats.retries = client.stats.retries - retriesBefore;
    stats.rateLimited = client.stats.rateLimited - rateLimitedBefore;
    stats.durationMs = Date.now() - started;
  };
  const report = new ErrorReport(options.errorsPath);
  const pageState: PaginationState = { pages: 0, cursor: undefined };
  let phase: Phase = 'custom_fields';
  let dataFile: OutputFile | undefined;
  let deletedFile: OutputFile | undefined;
  let stateWriter: StateWriter | undefined;
  let changeLog: ChangeLog | undefined;
  let loader: TableLoader | undefined;
  const sidecars: OutputFile[] = [];
  let newState: StateRef | undefined;
  let schema: SchemaRecord | undefined;
  const digest = new Digest();
  // The values hash costs a JSON line and a sha256 per contact: kept for loads (to check a table against) and typed NDJSON (whose lines it hashes).
  const values = options.to || (options.typed && options.format === 'ndjson') ? new ValuesDigest() : undefined;

  try {
    const definitions = await client.listCustomFields({ signal });
    const columns = selectColumns(availableColumns(definitions), options.columns);
    stats.columns = columns.map((c) => c.name);
    const typed = typedColumns(columns);
    schema = schemaRecord(typed);
    stats.schemaHash = schema.hash;
    if (baseline && baseline.manifest.columns.join(',') !== stats.columns.join(',')) {
      stats.warnings.push(`the columns differ from ${options.since}: every contact counts as changed in this run`);
    }
    if (options.typed || options.to) await checkSchema(options, baseline, schema, stats);
    phase = 'page';
    if (options.to) {
      phase = 'load';
      loader = await openLoader({ target: options.to, columns: typed, allowSchemaChange: options.allowSchemaChange, tempDir: dirname(options.to.kind === 'duckdb' ? options.to.path : resolve(options.manifestPath ?? options.output)) });
      phase = 'page';
    }
    if (options.fileOutput && !options.toStdout) dataFile = await openOutput(options.output);
    if (options.statePath !== undefined) stateWriter = await createStateWriter(options.statePath);
    if (options.changesPath !== undefined) changeLog = await createChangeLog(options.changesPath, { validFrom: options.runStartedAt, runId: options.runId });
    // hyparquet-writer is loaded only for Parquet output.
    const parquet = options.format === 'parquet' ? (await import('./parquet.js')).createParquetEncoder(typed, { rowGroupSize: options.rowGroupSize }) : undefined;
    const encoder = createPageEncoder({ format: options.format, header: stats.columns, bom: options.bom, excelSafe: options.excelSafe, typed, parquet });
    const tracker = new ListTracker();
    stats.listCheck = tracker.check;
    const chunks = encodedPages({ options, client, columns, typed, encoder, baseline, stateWriter, changeLog, loader, values, report, stats, pageState, tracker, signal, columnsKey: columnsKey(stats.columns), onPage: () => {
      refresh();
      hooks.onProgress?.(stats);
    } });
    // One page of text in flight at a time: memory stays flat whatever the contact count.
    const source = Readable.from(chunks, { highWaterMark: 1 });
    if (options.fileOutput) {
      const destination = dataFile ? dataFile.stream : forwardTo(hooks.stdout ?? process.stdout);
      await pipeline(options.gzip ? [source, createGzip(), digest, destination] : [source, digest, destination]).catch((error: unknown) => {
        // A failed write (ENOSPC, EIO…) names the file it was for.
        throw dataFile && (error as NodeJS.ErrnoException)?.syscall !== undefined ? outputWriteError(options.output, error) : error;
      });
    } else {
      for await (const _chunk of source) void _chunk;
    }
    phase = 'output';
    stats.bytes = digest.bytes;
    if (baseline && (options.deletedPath !== undefined || changeLog)) {
      deletedFile = options.deletedPath !== undefined ? await openOutput(options.deletedPath) : undefined;
      stats.delta!.deleted = await writeDeletedIds(baseline, deletedFile, changeLog);
      if (deletedFile) stats.delta!.deletedPath = options.deletedPath!;
    }
    if (options.schemaPaths) {
      const title = `pylon-contacts export ${options.output}`;
      for (const [path, text] of [
        [options.schemaPaths.jsonSchema, JSON.stringify(toJsonSchema(typed, title), null, 2) + '\n'],
        [options.schemaPaths.bigquery, JSON.stringify(toBigQuerySchema(typed), null, 2) + '\n'],
        [options.schemaPaths.postgres, `-- ${title}; schema sha256 ${schema.hash}\n${toPostgresDdl(typed)}`],
      ] as const) {
        const file = await openOutput(path);
        sidecars.push(file);
        await file.write(text);
      }
    }
    if (values) {
      stats.valuesSha256 = values.hex;
      stats.valuesRows = values.rows;
    }
    // The load's transaction stays open until the files are in place; a failure before its COMMIT rolls it back.
    if (loader) {
      phase = 'load';
      const mergeStarted = Date.now();
      const counts = await loader.merge({ runId: options.runId, extractedAt: options.runStartedAt, hardDelete: options.hardDelete, valuesSha256: stats.valuesSha256 ?? undefined, schemaHash: stats.schemaHash ?? undefined, onStep: hooks.onMergeStep });
      stats.load = { target: loader.display, table: options.to!.table, ...counts, mergeMs: Date.now() - mergeStarted };
      phase = 'output';
    }
    // Data before state: if the state cannot be saved, the next delta repeats
    // this run's rows (at least once) instead of losing them.
    await deletedFile?.commit();
    for (const file of sidecars) await file.commit();
    stats.schemaFiles = sidecars.map((f) => f.path);
    await dataFile?.commit();
    if (changeLog) {
      await changeLog.commit();
      stats.changes = { path: options.changesPath!, ...changeLog.counts };
    }
    if (stateWriter && options.statePath !== undefined) {
      newState = { path: options.statePath, ...(await stateWriter.commit()) };
      stats.statePath = options.statePath;
    }
    if (loader) {
      phase = 'load';
      const commitStarted = Date.now();
      await loader.commit();
      stats.load!.mergeMs += Date.now() - commitStarted;
    }
    stats.sha256 = options.fileOutput ? digest.sha256 : null;
    stats.complete = true;
  } catch (error) {
    await Promise.all([dataFile?.discard(), deletedFile?.discard(), stateWriter?.discard(), changeLog?.discard(), loader?.abort(), ...sidecars.map((f) => f.discard())]);
    if (error instanceof ConfigError) {
      await report.close();
      throw error;
    }
    stats.bytes = digest.bytes;
    stats.interrupted = signal?.aborted === true;
    stats.load = null;
    stats.changes = null;
    stats.schemaFiles = [];
    const entry = describeFailure(error, phase, pageState, stats.interrupted);
    stats.stoppedAt = { cursor: entry.cursor ?? '', pagesRead: pageState.pages, code: entry.code, status: entry.status ?? null, requestId: entry.requestId ?? null, message: entry.message };
    await report.add(entry);
  } finally {
    // A client passed in belongs to the caller.
    if (hooks.client === undefined) client.close?.();
  }
  refresh();
  stats.errorsPath = (await report.close()) ?? null;
  stats.endedAt = new Date().toISOString();
  if (options.manifestPath !== undefined) {
    const state = newState ?? (baseline && !stats.complete ? { ...baseline.manifest.state, path: baseline.statePath } : undefined);
    // A failed run never replaces the manifest of a complete one: its facts go to <manifest>.failed.json.
    const failedPath = `${options.manifestPath}.failed.json`;
    const path = !stats.complete && (await manifestIsComplete(options.manifestPath)) ? failedPath : options.manifestPath;
    stats.manifestPath = path;
    await writeManifest(path, buildManifest(options, path, stats, state, schema));
    if (stats.complete) await unlink(failedPath).catch(() => {});
    // Last: a scheduler waiting for _SUCCESS finds every file in place.
    if (stats.complete && stats.listCheck.verdict !== 'unverified' && options.successPath !== undefined) await writeFileAtomic(options.successPath, '');
  }
  return stats;
}

interface PagesInput {
  options: ExportOptions;
  client: PylonClient;
  columns: ExportColumn[];
  typed: TypedColumn[];
  encoder: PageEncoder;
  baseline: Baseline | undefined;
  stateWriter: StateWriter | undefined;
  changeLog: ChangeLog | undefined;
  loader: TableLoader | undefined;
  values: ValuesDigest | undefined;
  report: ErrorReport;
  stats: ExportStats;
  pageState: PaginationState;
  tracker: ListTracker;
  signal: AbortSignal | undefined;
  /** See columnsKey() in delta.ts. */
  columnsKey: string;
  onPage: () => void;
}

/** The file's text, one chunk per page, pulled page by page: the next page is fetched only when the file took this one. */
async function* encodedPages(input: PagesInput): AsyncGenerator<string | Uint8Array> {
  const { options, client, encoder, pageState, signal } = input;
  const fetchPage = (cursor: string | undefined) =>
    options.filter
      ? client.searchContacts({ filter: options.filter, cursor, limit: options.pageSize }, { signal })
      : client.listContacts({ cursor, limit: options.pageSize }, { signal });
  const start = encoder.start();
  if (start !== '') yield start;
  // A walk that shows the list moved is followed by another (list-check.ts).
  do {
    pageState.cursor = undefined;
    const pages = paginate(fetchPage, { maxPages: options.maxPages, signal, prefetch: options.connection.concurrency > 1 }, pageState);
    // Only the page's text stays referenced while the writer takes it: the
    // contacts of a page are garbage before the next one is fetched.
    for (let text = await nextChunk(pages, input); text !== undefined; text = await nextChunk(pages, input)) {
      input.onPage();
      if (text.length > 0) yield text;
    }
  } while (input.tracker.walkAgain(options.recheck));
  const end = encoder.end();
  if (end.length > 0) yield end;
}

async function nextChunk(pages: AsyncGenerator<ApiPage<Contact>>, input: PagesInput): Promise<string | Uint8Array | undefined> {
  const next = await pages.next();
  return next.done ? undefined : encodePage(next.value, input);
}

/** One page as text (or Parquet bytes); updates the counters, the state, the delta, the change log and the load on the way. */
async function encodePage(page: ApiPage<Contact>, input: PagesInput): Promise<string | Uint8Array> {
  const { options, columns, typed, encoder, baseline, stateWriter, changeLog, loader, values, report, stats, pageState } = input;
  stats.pages = pageState.pages;
  const rows: EncoderRow[] = [];
  const loadRows: TypedRow[] = [];
  const loadHashes: string[] = [];
  const wantTyped = options.typed || loader !== undefined;
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
    let typedRow: TypedRow | undefined;
    let line: string | undefined;
    if (wantTyped) {
      const result = toTypedRow(contact, typed, columns);
      if (typeof result === 'string') {
        await recordError(record, result);
        continue;
      }
      typedRow = result;
      if (values || options.format === 'ndjson') {
        line = typedJsonLine(typed, typedRow);
        values?.add(line);
      }
    }
    const cells = toCells(contact, columns);
    if (stateWriter || baseline || changeLog || loader) {
      const hash = recordHash(input.columnsKey, cells);
      stateWriter?.add(contact.id, hash);
      if (loader) {
        loadRows.push(typedRow!);
        loadHashes.push(hash.hex);
      }
      const change = baseline ? baseline.classify(key64(contact.id), hash) : 'new';
      if (baseline) stats.delta![change] += 1;
      if (changeLog && change !== 'unchanged') changeLog.add(change === 'new' ? 'insert' : 'update', contact.id, hash.hex);
      if (baseline && change === 'unchanged') continue;
    }
    if (options.format === 'csv') rows.push(cells);
    else if (options.format === 'parquet') rows.push(typedRow!);
    else rows.push(options.typed ? line! : toJsonRecord(contact, columns));
  }
  await stateWriter?.flush();
  await changeLog?.flush();
  if (loader && loadRows.length > 0) await loader.add(loadRows, loadHashes);
  stats.rows += rows.length;
  return encoder.page(rows);
}

/** Writes the deleted ids (when a file is asked for) and their `delete` rows in the change log. */
async function writeDeletedIds(baseline: Baseline, file: OutputFile | undefined, changeLog: ChangeLog | undefined): Promise<number> {
  const onDeleted = changeLog
    ? async (id: string, hashHex: string) => {
        changeLog.add('delete', id, hashHex);
        if (changeLog.counts.delete % 1000 === 0) await changeLog.flush();
      }
    : undefined;
  return writeDeleted(baseline, file, onDeleted);
}

/** Stops the run when a column was dropped or changed type against the previous run (its --since manifest, else the manifest this run replaces). */
async function checkSchema(options: ExportOptions, baseline: Baseline | undefined, schema: SchemaRecord, stats: ExportStats): Promise<void> {
  const previous = baseline?.manifest.schema ?? (options.manifestPath !== undefined ? (await readPreviousManifest(options.manifestPath))?.schema : undefined);
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

/** Every file goes beside its target: a missing directory is a usage error, found before any request. */
async function checkDirectories(options: ExportOptions): Promise<void> {
  const targets: Array<[string, string | undefined]> = [
    ['<file>', options.toStdout || !options.fileOutput ? undefined : options.output],
    ['--manifest', options.manifestPath],
    ['--errors', options.errorsPath],
    ['--changes', options.changesPath],
  ];
  for (const [flag, path] of targets) {
    if (path === undefined) continue;
    const dir = dirname(resolve(path));
    // A partitioned layout (contacts/dt={date}/…) makes its directory.
    if (options.templated) await mkdir(dir, { recursive: true }).catch(() => {});
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) throw invalidOption(flag, 'a path in an existing directory', path);
  }
  const more: Array<[string, string | undefined]> = [
    ['--since', options.statePath],
    ['--since', options.deletedPath],
    ...Object.values(options.schemaPaths ?? {}).map((path): [string, string] => ['<file>', path]),
  ];
  await checkWritable([...targets, ...more].filter((t): t is [string, string] => t[1] !== undefined).map(([option, path]) => ({ option, path })));
}

/** Temporary files of earlier runs killed before they could clean up (kill -9). */
async function removeStaleFiles(options: ExportOptions): Promise<void> {
  const paths = [
    options.fileOutput && !options.toStdout ? options.output : undefined,
    options.manifestPath,
    options.statePath,
    options.deletedPath,
    options.changesPath,
    options.manifestPath === undefined ? undefined : `${options.manifestPath}.failed.json`,
    ...(options.schemaPaths ? Object.values(options.schemaPaths) : []),
  ];
  for (const path of paths) if (path !== undefined) await sweepDeadPartials(path);
}

function describeFailure(error: unknown, phase: Phase, pageState: PaginationState, interrupted: boolean): ReportEntry {
  const cursor = pageState.cursor ?? '';
  const page = pageState.pages + 1;
  if (interrupted) return { kind: 'interrupted', cursor, page, code: 'RUN_ABORTED', message: `Interrupted before page ${page} was written; nothing was published` };
  if (error instanceof PaginationError) return { kind: 'pagination', cursor, page: error.page, code: error.code, message: error.message };
  if (error instanceof PylonApiError) {
    const kind = phase === 'custom_fields' ? 'custom_fields' : 'page';
    return { kind, cursor: kind === 'page' ? cursor : undefined, page: kind === 'page' ? page : undefined, status: error.status, requestId: error.requestId, code: error.code, message: error.message };
  }
  if (error instanceof PylonCliError) return { kind: phase === 'output' || phase === 'load' || error.code === 'SCHEMA_CHANGED' ? 'output' : 'page', cursor, page, code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return { kind: 'output', cursor, page, code: 'OUTPUT_WRITE', message: `Cannot write the export: ${message}${code && !message.includes(code) ? ` (${code})` : ''}` };
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
          since: rel(stats.delta.since),
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
