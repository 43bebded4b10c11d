import type { PylonCliError } from '../../errors.js';
import type { TypedColumn, TypedRow } from '../schema.js';
import type { ColumnTypes, LoaderInput } from './common.js';
import type { LoadTarget } from './target.js';

/** The per-database part of a load: the flow that drives it is openTableLoader in loader.ts. */

/** One open connection to the database, as the loader flow uses it. */
export interface Session {
  /** Runs one statement (`$1`… parameters); returns the rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Runs one query; returns its rows as objects. */
  rows(sql: string, params?: readonly unknown[]): Promise<Array<Record<string, unknown>>>;
  /** Closes the connection; `committed` says whether the load's transaction committed (DuckDB removes a database file this run created and committed nothing to). */
  close(outcome?: { committed: boolean }): Promise<void>;
}

/** The rows of one load on their way into the database (COPY into a temporary staging table for PostgreSQL; a Parquet file for DuckDB). */
export interface Stage {
  add(rows: readonly TypedRow[], hashes: readonly string[]): Promise<void>;
  /** Every row is staged: in the staging table, the new table (openDirect) or the source (throws the staging's failure, if any). */
  finish(): Promise<void>;
  /** Stops staging and removes what it staged outside the database; safe at any point, and after finish(). */
  abort(): void;
  /** Optional: resolves once nothing the stage started runs on the connection any more (DuckDB inserts staged files during the walk); awaited after abort(), before a rollback or close. */
  settled?(): Promise<void>;
}

/** Rows staged where the merge reads them in place (no staging table): `source` is that relation in SQL, with a `rowid` column numbering the rows. */
export interface SourceStage extends Stage {
  readonly source: string;
}

/** What differs between the databases a load goes into; the flow around it (openTableLoader) is the same for all. */
export interface Dialect {
  /** Column types as CREATE TABLE writes them and the catalog reports them. */
  readonly types: ColumnTypes;
  /** Type names of the bookkeeping tables. */
  readonly text: string;
  readonly bigint: string;
  readonly timestamp: string;
  /** Whether the loaded table has `id` as its PRIMARY KEY (DuckDB's does not: it rewrites list columns on UPDATE as delete + insert). */
  readonly primaryKey: boolean;
  /** The collation of the `id` column of a table the load creates, if not the database's default (schema.ts ID_COLLATION). */
  readonly keyCollation?: string;
  /**
   * How the merge is written: `diff-update` (idDiffMergeStatements: one
   * join of ids and hashes into a small table of the ids to change, then
   * update, insert and mark by id: PostgreSQL), or `diff-rewrite`
   * (diffMergeStatements: one join on ids and hashes only, then rowid
   * lookups; DuckDB, whose capped memory cannot hold a join of two wide
   * tables of a million rows).
   */
  readonly merge: 'diff-update' | 'diff-rewrite';
  /** Opens the connection; throws a coded load error. */
  connect(input: LoaderInput): Promise<Session>;
  /** A driver's error as a coded load error (never holding the password). */
  classify(error: unknown): PylonCliError;
  /** Checks before anything is read (PostgreSQL: the schema exists; DuckDB: sweeps what killed runs left). */
  check(session: Session, input: LoaderInput): Promise<void>;
  /** The existing table's columns (or those of the table `name` in its schema), name → type as the catalog reports it (empty when there is no table). */
  existingColumns(session: Session, target: LoadTarget, name?: string): Promise<Map<string, string>>;
  /** The table's columns declared NOT NULL (planTable makes a kept column the export no longer fills nullable). */
  notNullColumns(session: Session, target: LoadTarget): Promise<Set<string>>;
  tableExists(session: Session, target: LoadTarget, name: string): Promise<boolean>;
  /** Starts staging rows into the temporary table `table` (unquoted), already created with the export's columns and `_row_hash`. Required unless the dialect has openSource. */
  openStage?(session: Session, table: string, columns: readonly TypedColumn[]): Promise<Stage>;
  /**
   * Optional, instead of openStage: stages the rows (the export's columns and
   * `_row_hash`) somewhere the merge reads them in place (DuckDB: a Parquet
   * file read with read_parquet), so no staging table is filled.
   */
  openSource?(session: Session, columns: readonly TypedColumn[]): Promise<SourceStage>;
  /**
   * Optional: copies the rows straight into `table` (quoted, created in the
   * open transaction with `_run_id` and `_extracted_at` defaults): the data
   * columns and `_row_hash`, nothing else. See beginDirect in loader.ts.
   */
  openDirect?(session: Session, table: string, columns: readonly TypedColumn[]): Promise<Stage>;
  /**
   * Optional: writes the state's parts (`part` numbered from 0) into the parts
   * table (quoted `table`) for `name` in one bulk copy; returns their count.
   * Without it the parts go in multi-row INSERTs.
   */
  copyStateParts?(session: Session, table: string, name: string, parts: AsyncIterable<string>): Promise<number>;
  /**
   * Index the parts table on (table_name, part), so the kept state's reads
   * (STATE_PARTS_PER_STATEMENT parts a query) find their rows without a scan
   * of every part (PostgreSQL). Made with the state tables in each load's
   * transaction, under the loads' lock: a database from an older version gets
   * it on its next load.
   */
  readonly stateIndex?: boolean;
  /**
   * Optional: the dialect keeps the state in the gzip layout (common.ts,
   * STATE_BLOBS_TABLE) in a column of binary type `type`; `append` writes the
   * parts (`part` numbered from 0) into that table, in the target's schema,
   * for table `name` and returns their count. Without it the state is kept as
   * base64 parts.
   */
  stateBlobs?: { type: string; append(session: Session, name: string, parts: AsyncIterable<Buffer>): Promise<number> };
  /** Statements at the start of the merge's transaction (a lock, the schema). */
  begin(target: LoadTarget): string[];
  /** An in-place type change of a column. */
  widen(table: string, column: string, type: string): string;
  /**
   * Optional: the views (and rules) that use these columns of the target
   * table, which block an in-place type change (PostgreSQL refuses `ALTER
   * COLUMN … TYPE` on a column a view uses; DuckDB binds views when they are
   * queried). Asked before anything is read, when the load plans to widen.
   */
  viewsUsing?(session: Session, target: LoadTarget, columns: readonly string[]): Promise<Array<{ view: string; kind: 'view' | 'materialized view' | 'rule'; column: string }>>;
}
