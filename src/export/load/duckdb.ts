import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PylonCliError } from '../../errors.js';
import { createParquetEncoder } from '../parquet.js';
import { columnDefinitions, duckdbType, quoteIdent, type TypedColumn, type TypedRow } from '../schema.js';
import { loadError, mergeStatements, tableConflicts, type LoaderInput, type MergeCounts, type TableLoader } from './common.js';

type DuckDb = typeof import('@duckdb/node-api');

/** @duckdb/node-api is an optional dependency: loaded only for `--to duckdb:`. */
async function loadDuckDb(target: LoaderInput['target']): Promise<DuckDb> {
  try {
    return await import('@duckdb/node-api');
  } catch (error) {
    throw loadError('LOAD_UNAVAILABLE', target, `@duckdb/node-api is not installed or has no build for this platform (${(error as Error).message}); run npm install @duckdb/node-api`);
  }
}

/** A type as compared with an existing table's: DuckDB quotes the STRUCT field names that are keywords (`"label"`, `"source"`) and no others. */
const comparableType = (type: string) => type.replaceAll('"', '');

/**
 * DuckDB: the rows are staged in a Parquet file beside the database (the same
 * encoder as `--format parquet`, so memory holds one row group), read with
 * read_parquet() into a temporary table, then merged in one transaction.
 * The table has no PRIMARY KEY: DuckDB rewrites list columns on UPDATE as
 * delete + insert, which a unique index rejects within one transaction.
 */
export async function openDuckDbLoader(input: LoaderInput): Promise<TableLoader> {
  const { target, columns } = input;
  if (target.kind !== 'duckdb') throw new Error('not a duckdb target');
  const duckdb = await loadDuckDb(target);
  let instance: InstanceType<DuckDb['DuckDBInstance']>;
  let connection: Awaited<ReturnType<InstanceType<DuckDb['DuckDBInstance']>['connect']>>;
  try {
    instance = await duckdb.DuckDBInstance.create(target.path);
    connection = await instance.connect();
  } catch (error) {
    throw loadError('LOAD_CONNECT', target, `cannot open the database file (${(error as Error).message})`);
  }
  let closed = false;
  let inTransaction = false;
  const stagePath = join(input.tempDir, `.pylon-stage-${process.pid}-${Date.now()}.parquet`);
  const close = async () => {
    if (closed) return;
    closed = true;
    connection.closeSync();
    instance.closeSync();
    await unlink(stagePath).catch(() => {});
  };
  const fail = (error: unknown) => (error instanceof PylonCliError ? error : loadError('LOAD_FAILED', target, (error as Error).message ?? String(error)));
  const table = target.table;
  let missing: string[] = [];
  const stageColumns: TypedColumn[] = [...columns, { name: '_row_hash', source: '_row_hash', kind: 'string', nullable: false }];
  const encoder = createParquetEncoder(stageColumns);
  const file = createWriteStream(stagePath);
  let fileFailure: Error | undefined;
  file.on('error', (error) => {
    fileFailure = error;
  });
  const write = async (bytes: Uint8Array) => {
    if (fileFailure) throw loadError('LOAD_FAILED', target, `cannot write the staging file ${stagePath}: ${fileFailure.message}`);
    if (bytes.length > 0 && !file.write(bytes)) await Promise.race([once(file, 'drain'), once(file, 'error')]).catch(() => {});
  };
  try {
    const expected = new Map<string, string>(columns.map((c) => [c.name, comparableType(duckdbType(c.kind, c))]));
    for (const [name, type] of [['_row_hash', 'VARCHAR'], ['_run_id', 'VARCHAR'], ['_extracted_at', 'TIMESTAMP WITH TIME ZONE'], ['_deleted_at', 'TIMESTAMP WITH TIME ZONE']] as const) expected.set(name, type);
    const existing = await connection.runAndReadAll(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    const rows = existing.getRowObjects() as Array<{ column_name: string; data_type: string }>;
    if (rows.length > 0) {
      const conflicts = tableConflicts(expected, new Map(rows.map((r) => [r.column_name, comparableType(r.data_type)])), input.allowSchemaChange);
      if (conflicts.problems.length > 0) throw loadError('LOAD_TABLE_CONFLICT', target, `table ${table} does not match the export: ${conflicts.problems.join('; ')}`);
      missing = conflicts.missing;
    }
    await write(encoder.start());
  } catch (error) {
    file.destroy();
    await close();
    throw fail(error);
  }
  return {
    display: target.display,
    async add(rows: readonly TypedRow[], hashes: readonly string[]) {
      await write(encoder.page(rows.map((row, i) => [...row, hashes[i]!])));
    },
    async merge(merge): Promise<MergeCounts> {
      try {
        await write(encoder.end());
        file.end();
        await once(file, 'close');
        if (fileFailure) throw fileFailure;
        const stage = '"_pylon_stage"';
        await connection.run(`CREATE TEMP TABLE ${stage} AS SELECT * FROM read_parquet(${`'${stagePath.replaceAll("'", "''")}'`})`);
        await connection.run('BEGIN TRANSACTION');
        inTransaction = true;
        await connection.run(
          `CREATE TABLE IF NOT EXISTS ${quoteIdent(table)} (${columnDefinitions(columns, duckdbType, { primaryKey: false }).join(', ')}, "_row_hash" VARCHAR NOT NULL, "_run_id" VARCHAR, "_extracted_at" TIMESTAMP WITH TIME ZONE, "_deleted_at" TIMESTAMP WITH TIME ZONE)`,
        );
        const byName = new Map(columns.map((c) => [c.name, c]));
        for (const name of missing) await connection.run(`ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${quoteIdent(name)} ${duckdbType(byName.get(name)!.kind, byName.get(name))}`);
        const sql = mergeStatements(table, stage, columns, merge, 'TIMESTAMP WITH TIME ZONE');
        const staged = Number((await connection.runAndReadAll(`SELECT count(*) AS n FROM ${stage}`)).getRows()[0]![0]);
        const updated = (await connection.run(sql.update)).rowsChanged;
        const inserted = (await connection.run(sql.insert)).rowsChanged;
        const deleted = (await connection.run(sql.remove)).rowsChanged;
        return { inserted, updated, unchanged: staged - inserted - updated, deleted };
      } catch (error) {
        throw fail(error);
      }
    },
    async commit() {
      try {
        await connection.run('COMMIT');
        inTransaction = false;
      } catch (error) {
        throw fail(error);
      } finally {
        await close();
      }
    },
    async abort() {
      if (closed) return;
      if (!file.closed) file.destroy();
      if (inTransaction) await connection.run('ROLLBACK').catch(() => {});
      await close();
    },
  };
}
