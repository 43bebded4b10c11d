/** What every table loader shares: the merge statements, the table check, the coded errors (loader.ts opens one; postgres.ts and duckdb.ts implement them). */
import { PylonCliError, type ErrorCode } from '../../errors.js';
import { quoteIdent, type TypedColumn, type TypedRow } from '../schema.js';
import { redactUrl, type LoadTarget } from './target.js';

/** What a merge did, counted by the database. */
export interface MergeCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

export interface MergeInput {
  runId: string;
  /** This run's extraction time (ISO): `_extracted_at` of inserted and updated rows, `_deleted_at` of removed ones. */
  extractedAt: string;
  hardDelete: boolean;
}

/**
 * A load into a table: rows are staged while the export walks (COPY or a
 * staging Parquet file), then `merge()` runs in one transaction that stays
 * open until `commit()`, so the files and the table are published together
 * and a failed run leaves the table as it was.
 */
export interface TableLoader {
  readonly display: string;
  add(rows: readonly TypedRow[], hashes: readonly string[]): Promise<void>;
  merge(input: MergeInput): Promise<MergeCounts>;
  commit(): Promise<void>;
  /** Rolls back and closes; safe at any point, and more than once. */
  abort(): Promise<void>;
}

export interface LoaderInput {
  target: LoadTarget;
  columns: readonly TypedColumn[];
  /** Leave table columns this export no longer has (their values stay NULL for new rows). */
  allowSchemaChange: boolean;
  /** For the staging file of DuckDB. */
  tempDir: string;
}

/** Bookkeeping columns every loaded table has beside the data columns. */
export const META_COLUMNS = ['_row_hash', '_run_id', '_extracted_at', '_deleted_at'] as const;

/** A load error; the message never holds the password (the driver's error is not kept as the cause, since it may). */
export function loadError(code: ErrorCode, target: LoadTarget, message: string): PylonCliError {
  const safe = (text: string) => (target.kind === 'postgresql' && target.password ? text.replaceAll(target.password, '***') : text);
  return new PylonCliError(code, safe(`Cannot load into ${target.display}: ${redactUrl(message)}`));
}

const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * The merge, as three statements run in one transaction: insert the staged
 * rows whose id is new; update only rows whose hash differs (or that were
 * marked deleted); mark (or delete) rows whose id was not staged.
 */
export function mergeStatements(table: string, stage: string, columns: readonly TypedColumn[], input: MergeInput, timestampType: string): { insert: string; update: string; remove: string } {
  const t = quoteIdent(table);
  const names = columns.map((c) => quoteIdent(c.name));
  const at = `CAST(${sqlString(input.extractedAt)} AS ${timestampType})`;
  const run = sqlString(input.runId);
  const insert =
    `INSERT INTO ${t} (${names.join(', ')}, "_row_hash", "_run_id", "_extracted_at", "_deleted_at") ` +
    `SELECT ${names.map((n) => `s.${n}`).join(', ')}, s."_row_hash", ${run}, ${at}, NULL FROM ${stage} s ` +
    `WHERE NOT EXISTS (SELECT 1 FROM ${t} x WHERE x."id" = s."id")`;
  const update =
    `UPDATE ${t} SET ${names.filter((n) => n !== '"id"').map((n) => `${n} = s.${n}`).join(', ')}, "_row_hash" = s."_row_hash", "_run_id" = ${run}, "_extracted_at" = ${at}, "_deleted_at" = NULL ` +
    `FROM ${stage} s WHERE ${t}."id" = s."id" AND (${t}."_row_hash" <> s."_row_hash" OR ${t}."_deleted_at" IS NOT NULL)`;
  const gone = `NOT EXISTS (SELECT 1 FROM ${stage} s WHERE s."id" = ${t}."id")`;
  const remove = input.hardDelete
    ? `DELETE FROM ${t} WHERE ${gone}`
    : `UPDATE ${t} SET "_deleted_at" = ${at}, "_run_id" = ${run} WHERE "_deleted_at" IS NULL AND ${gone}`;
  return { insert, update, remove };
}

/** The expected vs actual columns of an existing table: the problems, or none. */
export function tableConflicts(expected: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>, allowSchemaChange: boolean): { problems: string[]; missing: string[] } {
  const problems: string[] = [];
  const missing: string[] = [];
  for (const [name, type] of expected) {
    const have = actual.get(name);
    if (have === undefined) {
      if ((META_COLUMNS as readonly string[]).includes(name)) problems.push(`it has no ${name} column (not a table this tool loaded)`);
      else missing.push(name);
    } else if (have.toLowerCase() !== type.toLowerCase()) problems.push(`column ${name} is ${have}, the export's is ${type}`);
  }
  const extra = [...actual.keys()].filter((name) => !expected.has(name));
  if (extra.length > 0 && !allowSchemaChange) problems.push(`it has column${extra.length > 1 ? 's' : ''} ${extra.join(', ')} that this export does not (pass --allow-schema-change to keep loading without them)`);
  return { problems, missing };
}
