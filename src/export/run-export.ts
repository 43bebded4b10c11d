import { stat } from 'node:fs/promises';
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
import { checkWritable, openOutput, type OutputFile } from '../output/output-file.js';
import { availableColumns, recordProblem, selectColumns, toCells, toJsonRecord, type ExportColumn } from './columns.js';
import { columnsKey, createStateWriter, loadBaseline, recordHash, writeDeleted, type Baseline, type StateWriter } from './delta.js';
import { key64 } from './id-index.js';
import { ListTracker, type ListCheck } from './list-check.js';
import { relativeTo, writeManifest, type DeltaCounts, type ExportManifest, type StateRef, type StopPoint } from './manifest.js';
import type { ExportOptions } from './options.js';
import { paginate, PaginationError, type PaginationState } from '../pylon/paginate.js';
import { ErrorReport, type ReportEntry } from './report.js';
import { createPageEncoder, Digest, forwardTo, type PageEncoder } from './sink.js';

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
}

export interface RunExportHooks {
  /** Default: a client from options.connection, closed at the end. */
  client?: PylonClient;
  signal?: AbortSignal;
  /** Called after every page. */
  onProgress?: (stats: ExportStats) => void;
  /** Where `-` writes (default process.stdout). */
  stdout?: NodeJS.WritableStream;
}

type Phase = 'custom_fields' | 'page' | 'output';

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
  const baseline = options.since === undefined ? undefined : await loadBaseline(options.since, { filter: options.filter });
  const client = hooks.client ?? connect(options.connection);
  const callsBefore = { ...client.stats.calls };
  const retriesBefore = client.stats.retries;
  const rateLimitedBefore = client.stats.rateLimited;
  const stats: ExportStats = {
    complete: false,
    interrupted: false,
    output: options.output,
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
    startedAt: new Date(started).toISOString(),
    endedAt: '',
    durationMs: 0,
    manifestPath: options.manifestPath ?? null,
    errorsPath: null,
    statePath: null,
    delta: baseline ? { since: baseline.manifestPath, sinceStartedAt: baseline.manifest.startedAt, new: 0, changed: 0, unchanged: 0, deleted: 0, deletedPath: null } : null,
    stoppedAt: null,
    listCheck: new ListTracker().check,
    warnings: [],
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
  let newState: StateRef | undefined;
  const digest = new Digest();

  try {
    const definitions = await client.listCustomFields({ signal });
    const columns = selectColumns(availableColumns(definitions), options.columns);
    stats.columns = columns.map((c) => c.name);
    if (baseline && baseline.manifest.columns.join(',') !== stats.columns.join(',')) {
      stats.warnings.push(`the columns differ from ${options.since}: every contact counts as changed in this run`);
    }
    phase = 'page';
    if (!options.toStdout) dataFile = await openOutput(options.output);
    if (options.statePath !== undefined) stateWriter = await createStateWriter(options.statePath);
    const destination = dataFile ? dataFile.stream : forwardTo(hooks.stdout ?? process.stdout);
    const encoder = createPageEncoder({ format: options.format, header: stats.columns, bom: options.bom, excelSafe: options.excelSafe });
    const tracker = new ListTracker();
    stats.listCheck = tracker.check;
    const chunks = encodedPages({ options, client, columns, encoder, baseline, stateWriter, report, stats, pageState, tracker, signal, columnsKey: columnsKey(stats.columns), onPage: () => {
      refresh();
      hooks.onProgress?.(stats);
    } });
    // One page of text in flight at a time: memory stays flat whatever the contact count.
    const source = Readable.from(chunks, { highWaterMark: 1 });
    await pipeline(options.gzip ? [source, createGzip(), digest, destination] : [source, digest, destination]);
    phase = 'output';
    stats.bytes = digest.bytes;
    if (baseline && options.deletedPath !== undefined) {
      deletedFile = await openOutput(options.deletedPath);
      stats.delta!.deleted = await writeDeleted(baseline, deletedFile);
      await deletedFile.commit();
      stats.delta!.deletedPath = options.deletedPath;
    }
    // Data before state: if the state cannot be saved, the next delta repeats
    // this run's rows (at least once) instead of losing them.
    await dataFile?.commit();
    if (stateWriter && options.statePath !== undefined) {
      newState = { path: options.statePath, ...(await stateWriter.commit()) };
      stats.statePath = options.statePath;
    }
    stats.sha256 = digest.sha256;
    stats.complete = true;
  } catch (error) {
    await Promise.all([dataFile?.discard(), deletedFile?.discard(), stateWriter?.discard()]);
    if (error instanceof ConfigError) {
      await report.close();
      throw error;
    }
    stats.bytes = digest.bytes;
    stats.interrupted = signal?.aborted === true;
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
    await writeManifest(options.manifestPath, buildManifest(options, options.manifestPath, stats, state));
  }
  return stats;
}

interface PagesInput {
  options: ExportOptions;
  client: PylonClient;
  columns: ExportColumn[];
  encoder: PageEncoder;
  baseline: Baseline | undefined;
  stateWriter: StateWriter | undefined;
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
async function* encodedPages(input: PagesInput): AsyncGenerator<string> {
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
      if (text !== '') yield text;
    }
  } while (input.tracker.walkAgain(options.recheck));
}

async function nextChunk(pages: AsyncGenerator<ApiPage<Contact>>, input: PagesInput): Promise<string | undefined> {
  const next = await pages.next();
  return next.done ? undefined : encodePage(next.value, input);
}

/** One page as text; updates the counters, the state and the delta on the way. */
async function encodePage(page: ApiPage<Contact>, input: PagesInput): Promise<string> {
  const { options, columns, encoder, baseline, stateWriter, report, stats, pageState } = input;
  stats.pages = pageState.pages;
  const rows: Array<string[] | Record<string, unknown>> = [];
  for (const record of page.data as unknown[]) {
    const problem = recordProblem(record);
    if (problem !== undefined && input.tracker.check.walks > 1) continue; // reported by the first walk
    stats.contactsRead += 1;
    if (problem !== undefined) {
      stats.recordErrors += 1;
      const id = (record as { id?: unknown } | null)?.id;
      await report.add({ kind: 'record', id: typeof id === 'string' ? id : undefined, cursor: pageState.cursor ?? '', page: pageState.pages, requestId: page.requestId, code: 'PYLON_BAD_RESPONSE', message: `Not exported: ${problem}` });
      continue;
    }
    const contact = record as Contact;
    if (!input.tracker.admit(contact.id)) {
      stats.contactsRead -= 1; // read again, written once
      continue;
    }
    const cells = toCells(contact, columns);
    if (stateWriter || baseline) {
      const hash = recordHash(input.columnsKey, cells);
      stateWriter?.add(contact.id, hash);
      if (baseline) {
        const change = baseline.classify(key64(contact.id), hash);
        stats.delta![change] += 1;
        if (change === 'unchanged') continue;
      }
    }
    rows.push(options.format === 'csv' ? cells : toJsonRecord(contact, columns));
  }
  await stateWriter?.flush();
  stats.rows += rows.length;
  return encoder.page(rows);
}

/** Every file goes beside its target: a missing directory is a usage error, found before any request. */
async function checkDirectories(options: ExportOptions): Promise<void> {
  const targets: Array<[string, string | undefined]> = [
    ['<file>', options.toStdout ? undefined : options.output],
    ['--manifest', options.manifestPath],
    ['--errors', options.errorsPath],
  ];
  for (const [flag, path] of targets) {
    if (path === undefined) continue;
    const dir = dirname(resolve(path));
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) throw invalidOption(flag, 'a path in an existing directory', path);
  }
  const more: Array<[string, string | undefined]> = [['--since', options.statePath], ['--since', options.deletedPath]];
  await checkWritable([...targets, ...more].filter((t): t is [string, string] => t[1] !== undefined).map(([option, path]) => ({ option, path })));
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
  if (error instanceof PylonCliError) return { kind: phase === 'output' ? 'output' : 'page', cursor, page, code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return { kind: 'output', cursor, page, code: 'OUTPUT_WRITE', message: `Cannot write the export: ${message}${code && !message.includes(code) ? ` (${code})` : ''}` };
}

function buildManifest(options: ExportOptions, manifestPath: string, stats: ExportStats, state: StateRef | undefined): ExportManifest {
  const rel = (path: string) => relativeTo(manifestPath, path);
  const unverified = stats.listCheck.verdict === 'unverified';
  return {
    kind: 'pylon-contacts-export',
    version: 1,
    // Every page was read, but the list moved under the walk: not claimed complete.
    complete: stats.complete && !unverified,
    status: stats.complete ? (unverified ? 'unverified' : 'complete') : stats.interrupted ? 'interrupted' : 'failed',
    file: options.toStdout ? '-' : rel(options.output),
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
  };
}
