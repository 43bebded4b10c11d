import type { RowHashKind } from './row-hash.js';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Filter } from '../pylon/types.js';
import { writeFileAtomic } from '../output/output-file.js';
import type { SchemaRecord } from './schema.js';
import type { ListCheck } from './list-check.js';
import type { ExportFormat } from './sink.js';

export const MANIFEST_KIND = 'pylon-contacts-export';
export const MANIFEST_VERSION = 1;

/** The per-record hashes of a run, for the next `--since`. `path` is relative to the manifest. */
export interface StateRef {
  path: string;
  sha256: string;
  entries: number;
  /** How the record hashes were made (row-hash.ts); absent in manifests written before it was named: `sha256`. */
  rowHash?: RowHashKind;
}

/** What a delta export found, against the run named by --since. */
export interface DeltaCounts {
  /** When the --since run started: records changed after that are in this run. */
  sinceStartedAt: string;
  new: number;
  changed: number;
  unchanged: number;
  /** Ids of the previous run not met in this one; null when the run stopped before it counted them. */
  deleted: number | null;
}

export interface DeltaSummary extends DeltaCounts {
  /** The manifest given to --since or the --state file, relative to this manifest; or, when the baseline is the state kept in the --to table, that table (`target#table`, no password) and the run whose load kept it. */
  since: string | { table: string; runId: string | null };
  /** Ids present in the previous run and absent now (CSV, header `id`), relative to this manifest; null unless the run published it. */
  deletedFile: string | null;
}

/** Where a failed run stopped. */
export interface StopPoint {
  /** The cursor of the page that failed ("" = the first page). */
  cursor: string;
  /** Pages read before the failure. */
  pagesRead: number;
  /** The page that failed (1-based; the page being read when the run was interrupted); null when the failure was not a page's: before the first page (GET /me, GET /custom-fields), or in the outputs or the load. */
  page: number | null;
  code: string;
  status: number | null;
  requestId: string | null;
  message: string;
}

export interface ExportManifest {
  kind: typeof MANIFEST_KIND;
  version: typeof MANIFEST_VERSION;
  complete: boolean;
  /** `unverified`: every page was read but the list changed during the walk (see listCheck). */
  status: 'complete' | 'unverified' | 'failed' | 'interrupted';
  /** The data file relative to this manifest, "-" for stdout, null for a load without a file. Absent on disk unless complete. */
  file: string | null;
  format: ExportFormat;
  gzip: boolean;
  bom: boolean;
  excelSafe: boolean;
  columns: string[];
  filter: Filter | null;
  rows: number;
  contactsRead: number;
  recordErrors: number;
  pages: number;
  apiCalls: { total: number; list: number; search: number; customFields: number; me: number; retries: number; rateLimited: number };
  /** Of the bytes written (after gzip); null unless complete. */
  bytes: number | null;
  sha256: string | null;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** For the next --since; on a failed delta run, the baseline it started from (still valid). */
  state: StateRef | null;
  delta: DeltaSummary | null;
  stoppedAt: StopPoint | null;
  /** Whether contacts created or deleted during the export could be missing. */
  listCheck: ListCheck;
  /** Error report, relative to this manifest, when one was written. */
  errors: string | null;
  /** The run's id (the change log's run_id, `{run_id}` in paths, `_run_id` in loaded tables). */
  runId?: string;
  /** NDJSON with JSON types, or Parquet. */
  typed?: boolean;
  /** The typed columns and their hash; the next run stops if one is dropped or changes type. */
  schema?: SchemaRecord | null;
  /** Order-independent hash of every contact's typed values (see schema.ts ValuesDigest), and how many. */
  values?: { rows: number; sha256: string } | null;
  /** Schema sidecars, relative to this manifest. */
  schemaFiles?: string[];
  changes?: { path: string; insert: number; update: number; delete: number } | null;
  /** What --to did, counted by the database. The target's password is never here. */
  load?: { target: string; table: string; inserted: number; updated: number; unchanged: number; deleted: number; mergeMs: number; schemaChanges?: string[] } | null;
}

/** A path as stored in a manifest: relative to the manifest's directory. */
export function relativeTo(manifestPath: string, path: string): string {
  return relative(dirname(resolve(manifestPath)), resolve(path)) || '.';
}

/** A path read from a manifest, made absolute. */
export function resolveFrom(manifestPath: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(resolve(manifestPath)), path);
}

export async function writeManifest(path: string, manifest: ExportManifest, options?: Parameters<typeof writeFileAtomic>[2]): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(manifest, null, 2) + '\n', options);
}

function bad(path: string, problem: string): ConfigError {
  return new ConfigError('INPUT_UNREADABLE', `Invalid option \`--since\`: ${path} ${problem}`, { option: '--since' });
}

/** Reads a manifest for --since; it must carry a state (a complete run, or a failed delta run's baseline). */
export async function readManifest(path: string): Promise<ExportManifest & { state: StateRef }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw bad(path, 'is a directory: name the manifest of an earlier export (<export file>.manifest.json)');
    throw new ConfigError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', `Invalid option \`--since\`: cannot read ${path} (${code ?? String(error)})`, {
      option: '--since',
    });
  }
  let manifest: Partial<ExportManifest>;
  try {
    manifest = JSON.parse(text) as Partial<ExportManifest>;
  } catch {
    throw bad(path, 'is not JSON');
  }
  if (manifest.kind !== MANIFEST_KIND) throw bad(path, `is not a pylon-contacts export manifest`);
  if (manifest.version !== MANIFEST_VERSION) throw bad(path, `has manifest version ${String(manifest.version)}; this tool reads version ${MANIFEST_VERSION}`);
  const state = manifest.state;
  if (!state || typeof state.path !== 'string' || typeof state.sha256 !== 'string' || typeof state.entries !== 'number') {
    throw bad(path, 'has no state to compare with (the run failed before any complete export); run a full export first');
  }
  return manifest as ExportManifest & { state: StateRef };
}
