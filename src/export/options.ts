import { ConfigError, invalidOption } from '../errors.js';
import { resolveConnectionOptions, resolveIntegerOption, type ConnectionOptions, type ConnectionOptionsInput } from '../config.js';
import { parseFilterExpression } from '../pylon/filter-expr.js';
import type { Filter } from '../pylon/types.js';
import { createHash, randomBytes } from 'node:crypto';
import { stateFolder } from '../audit/audit-log.js';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isSpecialFile, isStdout, specialFileIdentity } from '../output/output-file.js';
import { parseLoadTarget, type LoadTarget } from './load/target.js';
import type { RecheckMode } from './list-check.js';
import type { ExportFormat } from './sink.js';
import { ROW_GROUP_ROWS } from './parquet-layout.js';

/** Raw export options: flags, environment and defaults, all optional. */
export interface ExportOptionsInput extends ConnectionOptionsInput {
  /** Output file, or "-" / undefined for stdout. */
  output?: string;
  format?: string;
  gzip?: boolean;
  bom?: boolean;
  excelSafe?: boolean;
  /** "id,email,custom.tier" or a list. */
  columns?: string | string[];
  filter?: string;
  manifest?: string;
  errors?: string;
  since?: string;
  /** The pipeline's state file: read when it exists, replaced when the whole run is committed. */
  state?: string;
  pageSize?: number;
  maxPages?: number;
  /** NDJSON with numbers, booleans and lists as JSON types, keys as in the schema sidecars (Parquet is always typed). */
  typed?: boolean;
  /** Go on when a column was dropped or changed type against the previous manifest. */
  allowSchemaChange?: boolean;
  /** Change log path (op, id, row hash, valid-from, run id). */
  changes?: string;
  /** `duckdb:<file>[#table]` or `postgresql://…[#table]`. */
  to?: string;
  /** With --to: delete removed contacts instead of setting `_deleted_at`. */
  hardDelete?: boolean;
  /** Write `_SUCCESS` beside the manifest at the end (default: when the path has a template). */
  successMarker?: boolean;
  /** The run's id (default: from the start time and a random suffix). */
  runId?: string;
  /** The run's start time, for `{date}`, `{time}` and the run id (tests). */
  now?: Date;
  /** Parquet rows per row group (library only; default 5,000). */
  rowGroupSize?: number;
  /** Walk the list again: when it moved during the walk (auto), always, or never. */
  recheck?: string;
  /** A --json summary is asked for (it goes to stdout, so not with stdout output). */
  json?: boolean;
  /** The folder relative paths resolve from (the CLI context's; default the process's). */
  cwd?: string;
}

export interface ExportOptions {
  connection: ConnectionOptions;
  /** Absolute or relative file path, or "-" for stdout. */
  output: string;
  toStdout: boolean;
  format: ExportFormat;
  gzip: boolean;
  bom: boolean;
  excelSafe: boolean;
  columns?: string[];
  filter?: Filter;
  /** Undefined with stdout and no --manifest: then no manifest and no state are written. */
  manifestPath?: string;
  errorsPath?: string;
  /** Where this run's state is written: `--state`, else beside the output. */
  statePath?: string;
  /** `--state`: the state is also read from `statePath` (when it exists) as the baseline of a delta. */
  stateFile: boolean;
  /** The deleted ids of a delta (`--since`, `--state`, or a load whose table keeps a state); written only when the run has a baseline. */
  deletedPath?: string;
  since?: string;
  pageSize: number;
  maxPages: number;
  /** False with --to and no file: nothing but the load (and the manifest, when asked for). */
  fileOutput: boolean;
  typed: boolean;
  /** Schema sidecars of a typed file output: `<output>.schema.json`, `.bigquery.json`, `.postgres.sql`. */
  schemaPaths?: { jsonSchema: string; bigquery: string; postgres: string };
  allowSchemaChange: boolean;
  changesPath?: string;
  to?: LoadTarget;
  hardDelete: boolean;
  /** A templated output (a partition of a dataset): the folder beside the dataset root that holds its manifest, state, report and sidecars. */
  sidecarDir?: string;
  /** `_SUCCESS` beside the manifest, written last (beside the data file in a partitioned layout: readers skip `_` names). */
  successPath?: string;
  runId: string;
  /** ISO time the run's paths and run id were made from. */
  runStartedAt: string;
  /** The paths had {date}/{time}/{run_id}: their directories are created. */
  templated: boolean;
  /**
   * Where the run keeps its publish journal (publish-journal.ts) and looks for
   * those of killed runs: a folder that is the same every night of a pipeline,
   * whatever {date} or {run_id} expand to. The --state file's folder, else the
   * dataset root's `_meta` folder, else the data file's (or manifest's) folder,
   * else the DuckDB file's, else the first output's; undefined when the run
   * writes no file (stdout, or a load alone): nothing to undo.
   */
  journalDir: string | undefined;
  /** Parquet: rows in a row group at most (ROW_GROUP_ROWS unless a test asks for smaller groups). */
  rowGroupSize: number;
  recheck: RecheckMode;
}

function resolveRecheck(value: string | undefined): RecheckMode {
  if (value === undefined) return 'auto';
  if (value === 'auto' || value === 'always' || value === 'never') return value;
  throw invalidOption('--recheck', 'one of auto, always, never', value);
}

/** 10 million contacts at the largest page size, with a wide margin. */
export const DEFAULT_MAX_PAGES = 100_000;

function inferFormat(output: string): ExportFormat {
  if (/\.parquet$/i.test(output)) return 'parquet';
  return /\.(ndjson|jsonl)(\.gz)?$/i.test(output) ? 'ndjson' : 'csv';
}

/**
 * A file named for a format the export does not write (`contacts.xlsx`, `contacts.json`, `contacts.tsv`) would get
 * CSV under that name: refused (exit 2, before any call), saying what to name it, or that --format keeps the name.
 */
function refuseOtherFormat(output: string): void {
  const ext = /\.(xlsx|xlsm|xls|ods|numbers|json|tsv)(\.gz)?$/i.exec(output)?.[1]?.toLowerCase();
  if (ext === undefined) return;
  const why =
    ext === 'json'
      ? 'export writes NDJSON (one contact a line), not a JSON array: name the file .ndjson or .jsonl, or pass --format ndjson to keep this name'
      : ext === 'tsv'
        ? 'export writes comma-separated CSV, not tab-separated: name the file .csv, or pass --format csv to keep this name'
        : 'export writes CSV, NDJSON or Parquet, not a workbook: name the file .csv (spreadsheets open it; --bom and --excel-safe suit Excel), or pass --format csv to keep this name';
  throw new ConfigError('CONFIG_INVALID_OPTION', `Cannot write ${output} as .${ext}: ${why}. Nothing was sent to Pylon.`, { option: '--format' });
}

const PLACEHOLDER_RE = /\{([^{}]*)\}/g;

/** `{date}` (YYYY-MM-DD), `{time}` (HHMMSS) and `{run_id}`, all from the run's start in UTC. */
export function expandTemplate(flag: string, path: string, now: Date, runId: string): string {
  const iso = now.toISOString();
  return path.replace(PLACEHOLDER_RE, (_whole, name: string) => {
    if (name === 'date') return iso.slice(0, 10);
    if (name === 'time') return iso.slice(11, 19).replaceAll(':', '');
    if (name === 'run_id') return runId;
    throw invalidOption(flag, 'a path whose placeholders are {date}, {time} or {run_id}', path);
  });
}

export function defaultRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

function parseColumns(columns: string | string[] | undefined): string[] | undefined {
  if (columns === undefined) return undefined;
  const list = (Array.isArray(columns) ? columns : [columns]).flatMap((c) => c.split(',')).map((c) => c.trim()).filter((c) => c !== '');
  if (list.length === 0) throw invalidOption('--columns', 'a comma-separated list of column names', Array.isArray(columns) ? columns.join(',') : columns);
  return list;
}

/**
 * The lake layout of a templated output: the dataset root is the folder above
 * the first path segment that holds a placeholder (`lake/contacts` for
 * `lake/contacts/dt={date}/contacts.parquet`); the manifest, state, error
 * report, deleted ids and schema sidecars of a partition go under
 * `<root>._meta/<partition path>/`, so directory readers (pyarrow, polars,
 * DuckDB, Athena) see data files only. Undefined for a plain path.
 */
export function lakeLayout(rawOutput: string, output: string): { root: string; sidecarBase: string; metaRoot: string } | undefined {
  const parts = rawOutput.split(/[\\/]/);
  const first = parts.findIndex((part) => /\{[^{}]*\}/.test(part));
  if (first === -1) return undefined;
  const expanded = output.split(/[\\/]/);
  const root = expanded.slice(0, first).join('/') || '.';
  const rest = expanded.slice(first).join('/');
  // The current folder as the root: `_meta` inside it, a name readers skip.
  if (root === '.') return { root, sidecarBase: join('_meta', rest), metaRoot: '_meta' };
  const metaRoot = join(dirname(root), `${basename(root)}._meta`);
  return { root, sidecarBase: join(metaRoot, rest), metaRoot };
}

/**
 * A `--state` file inside the dataset root is read by directory readers as a
 * fragment of the dataset (pyarrow.dataset, polars.scan_parquet over the
 * folder): they skip only names starting with `_` or `.`. So a state there is
 * refused before the first request unless a part of its path below the root
 * starts with one of them (`lake/contacts/_state.json`); the documented place
 * is beside the root.
 */
function checkStateOutsideDataset(state: string, lake: { root: string; metaRoot: string }, cwd: string): void {
  const below = relative(resolve(cwd, lake.root), resolve(cwd, state));
  if (below === '' || below === '..' || below.startsWith(`..${sep}`) || isAbsolute(below)) return;
  if (below.split(sep).some((part) => part.startsWith('_') || part.startsWith('.'))) return;
  const root = lake.root === '.' ? 'the current folder' : lake.root;
  throw new ConfigError(
    'CONFIG_INVALID_OPTION',
    `Invalid option \`--state\`: ${state} is inside the dataset root (${root}), where directory readers (pyarrow, polars, DuckDB) would take it for part of the data; ` +
      `put it beside the root (${lake.root === '.' ? join(lake.metaRoot, basename(state)) : `${lake.root}.state`}), or give it a name starting with _ or . (${join(dirname(state), `_${basename(state)}`)}). Nothing was sent.`,
    { option: '--state' },
  );
}

/** The sidecar base: the output file, or the manifest path without `.manifest.json` when writing to stdout. */
function sidecarBase(output: string, toStdout: boolean, manifest: string | undefined): string | undefined {
  if (!toStdout) return output;
  return manifest?.replace(/\.manifest\.json$/i, '');
}

/**
 * A path the run reads or writes, as the file system must see it: relative
 * paths are meant from `cwd`. When `cwd` is the process's folder (the CLI) a
 * relative path already names the right file and is kept as typed, so
 * messages, stats and manifests show it as today; from another folder (a
 * library caller, an in-process test) it becomes absolute.
 */
export function anchorPath(cwd: string, path: string): string {
  if (path === '-' || isAbsolute(path) || resolve(cwd) === process.cwd()) return path;
  return resolve(cwd, path);
}

/** Every path of resolved options anchored at `cwd` (see anchorPath). */
function anchorPaths(options: ExportOptions, cwd: string): ExportOptions {
  const at = (path: string) => anchorPath(cwd, path);
  const maybe = (path: string | undefined) => (path === undefined ? undefined : at(path));
  const schema = options.schemaPaths;
  return {
    ...options,
    output: at(options.output),
    manifestPath: maybe(options.manifestPath),
    errorsPath: maybe(options.errorsPath),
    statePath: maybe(options.statePath),
    deletedPath: maybe(options.deletedPath),
    since: maybe(options.since),
    schemaPaths: schema && { jsonSchema: at(schema.jsonSchema), bigquery: at(schema.bigquery), postgres: at(schema.postgres) },
    changesPath: maybe(options.changesPath),
    sidecarDir: maybe(options.sidecarDir),
    journalDir: maybe(options.journalDir),
    successPath: maybe(options.successPath),
  };
}

/** Turns raw options into complete, validated ones. The only place export defaults live. */
export function resolveExportOptions(input: ExportOptionsInput): ExportOptions {
  const cwd = input.cwd ?? process.cwd();
  const now = input.now ?? new Date();
  const runId = input.runId ?? defaultRunId(now);
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(runId)) throw invalidOption('--run-id', 'letters, digits, ".", "_" and "-" (at most 100)', runId);
  // "-" is stdout for the data file only; elsewhere it made a file named "-" in the working folder.
  for (const [flag, value] of [['--manifest', input.manifest], ['--errors', input.errors], ['--changes', input.changes], ['--state', input.state], ['--since', input.since]] as const) {
    if (value === '-') throw invalidOption(flag, 'a file path (- means stdout, which only the export file <file> can use)', value);
  }
  const to = input.to === undefined ? undefined : parseLoadTarget(input.to, cwd);
  const noFile = to !== undefined && (input.output === undefined || input.output === '');
  const rawOutput = input.output === undefined || input.output === '' ? '-' : input.output;
  const templated = /\{[^{}]*\}/.test(rawOutput) || (input.manifest !== undefined && /\{[^{}]*\}/.test(input.manifest));
  const output = expandTemplate('<file>', rawOutput, now, runId);
  // A FIFO, a device or /dev/stdout is written in place, and like stdout gets no sidecars unless asked for.
  const special = output !== '-' && isSpecialFile(anchorPath(cwd, output));
  const toStdout = output === '-' && !noFile;
  let format: ExportFormat;
  if (input.format === undefined && !toStdout && !noFile && !special) refuseOtherFormat(output);
  if (input.format === undefined) format = toStdout || noFile ? 'csv' : inferFormat(output);
  else if (input.format === 'csv' || input.format === 'ndjson' || input.format === 'parquet') format = input.format;
  else throw invalidOption('--format', 'one of csv, ndjson, parquet', input.format);
  if (format === 'parquet' && input.gzip) throw invalidOption('--gzip', 'CSV or NDJSON output (Parquet compresses its pages itself, with snappy)', true);
  if (format === 'parquet' && (input.bom || input.excelSafe)) throw invalidOption(input.bom ? '--bom' : '--excel-safe', 'CSV output', true);
  if (input.typed && format !== 'ndjson') throw invalidOption('--typed', 'NDJSON output (Parquet is always typed; CSV cells are text)', true);
  const typed = format === 'parquet' || (format === 'ndjson' && input.typed === true);
  if (to && input.filter !== undefined) {
    throw new ConfigError('CONFIG_INVALID_OPTION', 'Invalid option `--to`: a load marks contacts missing from the export as deleted, so it needs every contact; drop --filter', { option: '--to' });
  }
  if (input.hardDelete && !to) throw invalidOption('--hard-delete', 'a load (--to)', true);
  const gzip = format === 'parquet' ? false : (input.gzip ?? (!toStdout && !noFile && /\.gz$/i.test(output)));
  const bom = input.bom ?? false;
  const excelSafe = input.excelSafe ?? false;
  if (format === 'ndjson' && bom) throw invalidOption('--bom', 'CSV output (a BOM is for spreadsheets; NDJSON is UTF-8 without one)', true);
  if (format === 'ndjson' && excelSafe) throw invalidOption('--excel-safe', 'CSV output (formula escaping is for spreadsheets)', true);
  if (toStdout && input.json) {
    throw new ConfigError(
      'CONFIG_INVALID_OPTION',
      'Invalid option `--json`: stdout carries the export itself; write to a file, or use --manifest for a machine-readable summary',
      { option: '--json' },
    );
  }
  const filter = input.filter === undefined ? undefined : parseFilterExpression(input.filter, '--filter');
  if (toStdout && input.since !== undefined && input.manifest === undefined) {
    throw new ConfigError('CONFIG_INVALID_OPTION', 'Invalid option `--since`: with stdout output, also give --manifest (the new state and the deleted ids are written beside it)', {
      option: '--since',
    });
  }
  if (input.state !== undefined && input.since !== undefined) {
    throw new ConfigError('CONFIG_INVALID_OPTION', 'Invalid option `--state`: it replaces --since (the state file is the baseline); give one of them', { option: '--state' });
  }
  if (input.state !== undefined && (input.state === '' || /\{[^{}]*\}/.test(input.state))) {
    throw invalidOption('--state', 'one fixed path, the same every night (no {date}, {time} or {run_id})', input.state);
  }
  const manifestInput = input.manifest === undefined ? undefined : expandTemplate('--manifest', input.manifest, now, runId);
  // A templated file is one partition of a dataset: its sidecars go beside the dataset root, so the partition folders hold data files only.
  const lake = toStdout || noFile || special ? undefined : lakeLayout(rawOutput, output);
  if (lake && input.state !== undefined) checkStateOutsideDataset(input.state, lake, cwd);
  const sidecars = lake?.sidecarBase ?? output;
  const manifestPath = manifestInput ?? (toStdout || noFile || special ? undefined : `${sidecars}.manifest.json`);
  const base = sidecarBase(sidecars, toStdout || noFile || special, manifestPath);
  const fileBase = toStdout || noFile || special ? undefined : sidecars;
  const successWanted = input.successMarker ?? templated;
  if (successWanted && manifestPath === undefined) throw invalidOption('--success-marker', 'a manifest to write it beside (a file output or --manifest)', true);
  const delta = input.since !== undefined || input.state !== undefined;
  // The layout is worked out on the paths as typed (a relative dataset root keeps its `_meta` inside the folder), then anchored.
  const options: ExportOptions = anchorPaths({
    sidecarDir: lake ? dirname(lake.sidecarBase) : undefined,
    connection: resolveConnectionOptions(input),
    output,
    toStdout,
    format,
    gzip,
    bom,
    excelSafe,
    columns: parseColumns(input.columns),
    filter,
    manifestPath,
    errorsPath: input.errors !== undefined ? expandTemplate('--errors', input.errors, now, runId) : base === undefined ? undefined : `${base}.errors.csv`,
    statePath: input.state ?? (base === undefined ? undefined : `${base}.state`),
    stateFile: input.state !== undefined,
    // A load's baseline may be the state kept in its table (known once it is read): its deletions are published the same way as --state's.
    deletedPath: !(delta || to) || base === undefined ? undefined : `${base}.deleted.csv`,
    since: input.since,
    pageSize: resolveIntegerOption('--page-size', input.pageSize, 1, 999, 999),
    maxPages: resolveIntegerOption('--max-pages', input.maxPages, 1, 100_000_000, DEFAULT_MAX_PAGES),
    fileOutput: !noFile,
    typed,
    schemaPaths: typed && fileBase !== undefined ? { jsonSchema: `${fileBase}.schema.json`, bigquery: `${fileBase}.bigquery.json`, postgres: `${fileBase}.postgres.sql` } : undefined,
    allowSchemaChange: input.allowSchemaChange ?? false,
    changesPath: input.changes === undefined ? undefined : expandTemplate('--changes', input.changes, now, runId),
    to,
    hardDelete: input.hardDelete ?? false,
    successPath: successWanted && manifestPath !== undefined ? join(lake ? dirname(output) : dirname(manifestPath), '_SUCCESS') : undefined,
    runId,
    runStartedAt: now.toISOString(),
    templated,
    rowGroupSize: resolveIntegerOption('rowGroupSize', input.rowGroupSize, 1, 10_000_000, ROW_GROUP_ROWS),
    recheck: resolveRecheck(input.recheck),
    journalDir: undefined,
  }, cwd);
  checkCollisions(options, input.json === true);
  return { ...options, journalDir: journalDirOf(options, lake && anchorPath(cwd, lake.metaRoot), input.manifest !== undefined && /\{[^{}]*\}/.test(input.manifest), input.env ?? process.env) };
}

/**
 * ExportOptions.journalDir: the first fixed folder of the pipeline's outputs. A load that writes no file (a load alone, or the
 * export on stdout) keeps one too, so that a run killed before its load committed is settled and logged `abandoned` by the next
 * as one with files is: beside the DuckDB file, or for PostgreSQL in the tool's state folder, one folder per table (LoadTarget.key:
 * whatever folder the run is started from and however its URL gives the password). Undefined
 * only for a run that writes no file and loads nothing.
 */
function journalDirOf(options: ExportOptions, metaRoot: string | undefined, templatedManifest: boolean, env: NodeJS.ProcessEnv): string | undefined {
  const files = outputPaths(options).filter(({ path }) => !isSpecialFile(path));
  if (files.length === 0) {
    if (options.to?.kind === 'duckdb') return dirname(options.to.shownPath);
    // Named by the table (its key), not by the URL as typed: the same folder however the pipeline's runs spell it, from any folder.
    if (options.to?.kind === 'postgresql') return join(stateFolder(env), 'load-journals', createHash('sha256').update(options.to.key).digest('hex').slice(0, 16));
    return undefined;
  }
  if (options.stateFile && options.statePath !== undefined) return dirname(options.statePath);
  if (metaRoot !== undefined) return metaRoot;
  if (options.fileOutput && !options.toStdout && !isSpecialFile(options.output)) return dirname(options.output);
  if (options.manifestPath !== undefined && !templatedManifest && !isSpecialFile(options.manifestPath)) return dirname(options.manifestPath);
  if (options.to?.kind === 'duckdb') return dirname(options.to.shownPath);
  return dirname(files[0]!.path);
}

/** Every path a run writes, with the flag that named it (sidecars under the flag of the path they follow). */
export function outputPaths(options: ExportOptions): Array<{ option: string; path: string; label?: string }> {
  const list: Array<[string, string | undefined]> = [
    ['<file>', options.fileOutput && !options.toStdout ? options.output : undefined],
    ['--manifest', options.manifestPath],
    ['--manifest', options.manifestPath === undefined ? undefined : `${options.manifestPath}.failed.json`],
    ['--errors', options.errorsPath],
    [options.stateFile ? '--state' : '<file>', options.statePath],
    ['<file>', options.deletedPath],
    ['--changes', options.changesPath],
    ['--success-marker', options.successPath],
    ...Object.values(options.schemaPaths ?? {}).map((path): [string, string] => ['<file>', path]),
  ];
  // Messages name the positional in words: the data file, or a file the export writes beside it.
  const labelOf = (option: string, path: string) => (option !== '<file>' ? undefined : path === options.output ? 'the output file' : 'a file beside the output file');
  return list.filter((e): e is [string, string] => e[1] !== undefined).map(([option, path]) => ({ option, path, ...(labelOf(option, path) ? { label: labelOf(option, path) } : {}) }));
}

/**
 * Two outputs at one path would overwrite each other (`--changes` naming the
 * data file or the manifest): refused before the first request. Special files
 * are written in place: two outputs naming one device or pipe (`/dev/stderr`
 * twice, `/dev/stdout` and `/dev/fd/1`) would interleave their lines, and so
 * would an output naming stdout while stdout carries the export (`-`) or the
 * `--json` summary: refused too. `/dev/null` takes any number of outputs.
 */
function checkCollisions(options: ExportOptions, json: boolean): void {
  const seen = new Map<string, string>();
  const inputs = [options.since].filter((p): p is string => p !== undefined).map((p) => resolve(p));
  const database = options.to?.kind === 'duckdb' ? options.to.path : undefined;
  if (options.toStdout) seen.set('stdout', 'the export (<file> -)');
  else if (json) seen.set('stdout', 'the --json summary');
  for (const { option, path } of outputPaths(options)) {
    if (isSpecialFile(path)) {
      const identity = isStdout(path) ? 'stdout' : specialFileIdentity(path);
      if (identity === 'null') continue;
      const key = identity ?? resolve(path);
      const other = seen.get(key);
      if (other !== undefined) {
        throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`${option}\`: ${path} is ${key === 'stdout' ? 'stdout, ' : ''}where ${other} also goes, and the two would be mixed line by line; give each output its own file${key === 'stdout' && other.includes('--json') ? ' (or leave out --json and read the summary on stderr or in the manifest)' : ''}`, { option });
      }
      seen.set(key, `${option === '<file>' ? 'the export (<file>)' : option} (${path})`);
      continue;
    }
    const key = resolve(path);
    // A file renamed over the DuckDB database (or its WAL, or into its spill folder) would destroy the warehouse the run loads.
    if (database !== undefined && (key === database || key === `${database}.wal` || key.startsWith(`${database}.tmp${sep}`))) {
      throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`${option}\`: ${path} is the DuckDB database --to loads into (or one of its files); give the output another path`, { option });
    }
    const other = seen.get(key);
    if (other !== undefined) {
      throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`${option}\`: ${path} is also where ${other} goes; give each output its own path`, { option });
    }
    if (inputs.includes(key) && key !== resolve(options.manifestPath ?? '')) {
      throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`${option}\`: ${path} is the --since manifest this run reads; give the output another path`, { option });
    }
    seen.set(key, option === '<file>' && key === resolve(options.output) ? 'the export (<file>)' : `${option === '<file>' ? 'a sidecar of the export' : option} (${path})`);
  }
}
