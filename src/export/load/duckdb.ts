import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PylonCliError } from '../../errors.js';
import { createParquetEncoder } from '../parquet.js';
import { columnDefinitions, duckdbType, quoteIdent, type TypedColumn, type TypedRow } from '../schema.js';
import { alterStatements, drained, stateSelect, stateTableDdl, stateUpsert, STATE_TABLE, tableRef, loadError, loadRecord, loadsTableDdl, type MergeInput, mergeStatements, planTable, type ColumnTypes, type LoaderInput, type MergeCounts, type TablePlan, type TableLoader } from './common.js';

/** DuckDB reports STRUCT field names that are keywords quoted (`"label"`); compared without the quotes. */
const TYPES: ColumnTypes = { ddl: duckdbType, reported: (kind, column) => comparableType(duckdbType(kind, column)) };

type DuckDb = typeof import('@duckdb/node-api');

/** @duckdb/node-api is an optional dependency: loaded only for `--to duckdb:`. */
async function loadDuckDb(target: LoaderInput['target']): Promise<DuckDb> {
  try {
    return await import('@duckdb/node-api');
  } catch (error) {
    throw loadError('LOAD_UNAVAILABLE', target, `@duckdb/node-api is not installed or has no build for this platform (${(error as Error).message}); run npm install @duckdb/node-api`);
  }
}

const STAGE_FILE = /^\.pylon-stage-(\d+)-\d+\.parquet$/;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Staging files (names and emails) left by a killed run: removed by the next run, unless their process still runs. */
export async function sweepStagingFiles(dir: string): Promise<string[]> {
  const swept: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const match = STAGE_FILE.exec(name);
    if (!match || Number(match[1]) === process.pid || alive(Number(match[1]))) continue;
    await unlink(join(dir, name)).then(() => swept.push(name), () => {});
  }
  return swept;
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
  let merged: MergeInput | undefined;
  const TS = 'TIMESTAMP WITH TIME ZONE';
  /** After a rollback: a `failed` row in the load log, when the load had reached its merge. */
  const recordFailure = async (message: string) => {
    if (!merged || closed) return;
    await connection.run(loadsTableDdl(target, 'VARCHAR', 'BIGINT', TS)).catch(() => {});
    await connection.run(loadRecord(target, merged, TS, { status: 'failed', error: message })).catch(() => {});
  };
  await sweepStagingFiles(input.tempDir);
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
  let plan: TablePlan | undefined;
  const stageColumns: TypedColumn[] = [...columns, { name: '_row_hash', source: '_row_hash', kind: 'string', nullable: false }];
  const encoder = createParquetEncoder(stageColumns, { statistics: false });
  const file = createWriteStream(stagePath);
  let fileFailure: Error | undefined;
  file.on('error', (error) => {
    fileFailure = error;
  });
  const write = async (bytes: Uint8Array) => {
    if (fileFailure) throw loadError('LOAD_FAILED', target, `cannot write the staging file ${stagePath}: ${fileFailure.message}`);
    if (bytes.length > 0 && !file.write(bytes)) await drained(file);
  };
  try {
    const existing = await connection.runAndReadAll(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [target.schema ?? 'main', target.name],
    );
    const rows = existing.getRowObjects() as Array<{ column_name: string; data_type: string }>;
    plan = planTable(target, table, columns, new Map(rows.map((r) => [r.column_name, comparableType(r.data_type)])), TYPES, input.allowSchemaChange);
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
      merged = merge;
      try {
        await write(encoder.end());
        file.end();
        await once(file, 'close');
        if (fileFailure) throw fileFailure;
        const stage = '"_pylon_stage"';
        await connection.run(`CREATE TEMP TABLE ${stage} AS SELECT * FROM read_parquet(${`'${stagePath.replaceAll("'", "''")}'`})`);
        await connection.run('BEGIN TRANSACTION');
        inTransaction = true;
        if (target.schema !== undefined) await connection.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.schema)}`);
        await connection.run(
          `CREATE TABLE IF NOT EXISTS ${tableRef(target)} (${columnDefinitions(columns, duckdbType, { primaryKey: false }).join(', ')}, "_row_hash" VARCHAR NOT NULL, "_run_id" VARCHAR, "_extracted_at" TIMESTAMP WITH TIME ZONE, "_deleted_at" TIMESTAMP WITH TIME ZONE)`,
        );
        for (const statement of alterStatements(tableRef(target), plan!, (t, c, type) => `ALTER TABLE ${t} ALTER COLUMN ${c} TYPE ${type} USING CAST(${c} AS ${type})`)) await connection.run(statement);
        const sql = mergeStatements(tableRef(target), stage, columns, merge, 'TIMESTAMP WITH TIME ZONE', plan);
        const staged = Number((await connection.runAndReadAll(`SELECT count(*) AS n FROM ${stage}`)).getRows()[0]![0]);
        merge.onStep?.('staged', {});
        const updated = (await connection.run(sql.update)).rowsChanged;
        merge.onStep?.('updated', { updated });
        const inserted = (await connection.run(sql.insert)).rowsChanged;
        merge.onStep?.('inserted', { updated, inserted });
        const deleted = (await connection.run(sql.remove)).rowsChanged;
        merge.onStep?.('deleted', { updated, inserted, deleted });
        const counts: MergeCounts = { inserted, updated, unchanged: staged - inserted - updated, deleted, ...(plan!.changes.length > 0 ? { schemaChanges: plan!.changes } : {}) };
        await connection.run(loadsTableDdl(target, 'VARCHAR', 'BIGINT', TS));
        await connection.run(loadRecord(target, merge, TS, { status: 'committed', counts }));
        return counts;
      } catch (error) {
        throw fail(error);
      }
    },
    async readState() {
      try {
        const found = (await connection.runAndReadAll(`SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`, [target.schema ?? 'main', STATE_TABLE])).getRows()[0]![0];
        if (Number(found) === 0) return undefined;
        const rows = (await connection.runAndReadAll(stateSelect(target))).getRows();
        return rows.length > 0 ? Buffer.from(String(rows[0]![0]), 'base64') : undefined;
      } catch (error) {
        throw fail(error);
      }
    },
    async writeState(state: Buffer) {
      if (!inTransaction || !merged) throw loadError('LOAD_FAILED', target, 'the state is written inside the merge transaction: call merge() first');
      try {
        await connection.run(stateTableDdl(target, 'VARCHAR', TS));
        await connection.run(stateUpsert(target, merged.runId, TS), [state.toString('base64')]);
      } catch (error) {
        throw fail(error);
      }
    },
    async commit() {
      try {
        await connection.run('COMMIT');
        inTransaction = false;
      } catch (error) {
        const failure = fail(error);
        if (inTransaction) await connection.run('ROLLBACK').catch(() => {});
        inTransaction = false;
        await recordFailure(failure.message);
        throw failure;
      } finally {
        await close();
      }
    },
    async abort() {
      if (closed) return;
      if (!file.closed) file.destroy();
      if (inTransaction) await connection.run('ROLLBACK').catch(() => {});
      inTransaction = false;
      await recordFailure('the run stopped before the load committed; the table was left as it was');
      await close();
    },
  };
}
