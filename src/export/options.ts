import { ConfigError, invalidOption } from '../errors.js';
import { resolveConnectionOptions, resolveIntegerOption, type ConnectionOptions, type ConnectionOptionsInput } from '../config.js';
import { parseFilterExpression } from '../pylon/filter-expr.js';
import type { Filter } from '../pylon/types.js';
import type { RecheckMode } from './list-check.js';
import type { ExportFormat } from './sink.js';

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
  pageSize?: number;
  maxPages?: number;
  /** Walk the list again: when it moved during the walk (auto), always, or never. */
  recheck?: string;
  /** A --json summary is asked for (it goes to stdout, so not with stdout output). */
  json?: boolean;
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
  statePath?: string;
  deletedPath?: string;
  since?: string;
  pageSize: number;
  maxPages: number;
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
  return /\.(ndjson|jsonl)(\.gz)?$/i.test(output) ? 'ndjson' : 'csv';
}

function parseColumns(columns: string | string[] | undefined): string[] | undefined {
  if (columns === undefined) return undefined;
  const list = (Array.isArray(columns) ? columns : [columns]).flatMap((c) => c.split(',')).map((c) => c.trim()).filter((c) => c !== '');
  if (list.length === 0) throw invalidOption('--columns', 'a comma-separated list of column names', Array.isArray(columns) ? columns.join(',') : columns);
  return list;
}

/** The sidecar base: the output file, or the manifest path without `.manifest.json` when writing to stdout. */
function sidecarBase(output: string, toStdout: boolean, manifest: string | undefined): string | undefined {
  if (!toStdout) return output;
  return manifest?.replace(/\.manifest\.json$/i, '');
}

/** Turns raw options into complete, validated ones. The only place export defaults live. */
export function resolveExportOptions(input: ExportOptionsInput): ExportOptions {
  const output = input.output === undefined || input.output === '' ? '-' : input.output;
  const toStdout = output === '-';
  let format: ExportFormat;
  if (input.format === undefined) format = toStdout ? 'csv' : inferFormat(output);
  else if (input.format === 'csv' || input.format === 'ndjson') format = input.format;
  else throw invalidOption('--format', 'one of csv, ndjson', input.format);
  const gzip = input.gzip ?? (!toStdout && /\.gz$/i.test(output));
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
  const manifestPath = input.manifest ?? (toStdout ? undefined : `${output}.manifest.json`);
  const base = sidecarBase(output, toStdout, manifestPath);
  return {
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
    errorsPath: input.errors ?? (base === undefined ? undefined : `${base}.errors.csv`),
    statePath: base === undefined ? undefined : `${base}.state`,
    deletedPath: input.since === undefined || base === undefined ? undefined : `${base}.deleted.csv`,
    since: input.since,
    pageSize: resolveIntegerOption('--page-size', input.pageSize, 1, 999, 999),
    maxPages: resolveIntegerOption('--max-pages', input.maxPages, 1, 100_000_000, DEFAULT_MAX_PAGES),
    recheck: resolveRecheck(input.recheck),
  };
}
