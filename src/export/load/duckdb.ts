import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBValue } from '@duckdb/node-api';
import { PylonCliError } from '../../errors.js';
import { DECIMAL_PRECISION, DECIMAL_SCALE, duckdbType, quoteIdent, type ColumnKind, type TypedValue } from '../schema.js';
import type { IdEntry } from '../columns.js';
import { loadError, STATE_BLOBS_TABLE, type ColumnTypes, type LoaderInput } from './common.js';
import type { Dialect, Session, Stage } from './dialect.js';
import type { LoadTarget } from './target.js';

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

/** Staging Parquet files (names and emails) left by a run killed under an earlier version, which staged through a file: removed, unless their process still runs. */
export async function sweepStagingFiles(dir: string): Promise<string[]> {
  const swept: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const match = STAGE_FILE.exec(name);
    if (!match || Number(match[1]) === process.pid || alive(Number(match[1]))) continue;
    await unlink(join(dir, name)).then(() => swept.push(name), () => {});
  }
  return swept;
}

/**
 * DuckDB's spill files left in `<database>.tmp` by a load that was killed
 * (they hold staged names and emails): removed once this run has the database
 * open, before it stages anything. DuckDB lets one process at a time write a
 * database file, so no other load is spilling there.
 */
export async function sweepSpillFiles(databasePath: string): Promise<string[]> {
  const dir = `${databasePath}.tmp`;
  const swept: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith('duckdb_temp_')) continue;
    await unlink(join(dir, name)).then(() => swept.push(name), () => {});
  }
  return swept;
}

/** A type as compared with an existing table's: DuckDB quotes the STRUCT field names that are keywords (`"label"`, `"source"`) and no others. */
const comparableType = (type: string) => type.replaceAll('"', '');

/**
 * DuckDB's settings for a load. Its buffer manager is capped (by default it
 * takes 80 % of the machine's memory and keeps the whole staging table and
 * the merge's writes in it): past the cap the temporary staging table and the
 * merge's joins spill to `<database>.tmp`, and the inserted rows are written
 * to the database file as they come. 80 MB holds the merge of a 1M-contact
 * table whichever rows changed, because the merge joins ids and hashes only
 * (diffMergeStatements), and the first load's INSERT (64 MB did not); each MB
 * of cap is a MB of RSS during the walk, where the JavaScript side holds the
 * delta's id index beside it (bench/RESULTS.md, bench:warehouse-duckdb-rss).
 * Insertion order is not kept (the merge needs none), which lets the INSERT …
 * SELECT stream instead of buffering. The allocator hands freed memory back to
 * the system as soon as a task ends (DuckDB's default keeps up to 128 MB
 * cached), with background threads doing it. `PYLON_DUCKDB_MEMORY_LIMIT`
 * overrides the cap (a DuckDB size such as `1GB`).
 */
export const DUCKDB_SETTINGS = { memory_limit: '80MB', preserve_insertion_order: 'false', allocator_flush_threshold: '8MB', allocator_background_threads: 'true' } as const;

const memoryLimit = () => process.env.PYLON_DUCKDB_MEMORY_LIMIT || DUCKDB_SETTINGS.memory_limit;

/** Rows per data chunk handed to the appender (DuckDB's vector size). */
const CHUNK_ROWS = 2048;
/** Rows the appender may hold before they are flushed into the staging table. */
const FLUSH_ROWS = 16 * CHUNK_ROWS;

/** One typed value as the appender takes it (the column's DuckDB type says how it is stored). */
function duckValue(duckdb: DuckDb, kind: ColumnKind, value: TypedValue): DuckDBValue {
  if (value === null) return null;
  switch (kind) {
    case 'string_list':
      return duckdb.listValue(value as string[]);
    case 'decimal':
      return new duckdb.DuckDBDecimalValue(value as bigint, DECIMAL_PRECISION, DECIMAL_SCALE);
    case 'date':
      return new duckdb.DuckDBDateValue(value as number);
    case 'timestamp':
      return new duckdb.DuckDBTimestampTZValue(value as bigint);
    case 'id_list':
      return duckdb.listValue((value as IdEntry[]).map((entry) => duckdb.structValue(entry)));
    default:
      return value as string | bigint | boolean;
  }
}

interface DuckSession extends Session {
  connection: Awaited<ReturnType<InstanceType<DuckDb['DuckDBInstance']>['connect']>>;
  duckdb: DuckDb;
}

/**
 * DuckDB: the typed rows go straight into the temporary staging table
 * through the appender, a data chunk at a time (nothing is encoded twice, no
 * staging file). The table has no PRIMARY KEY: DuckDB rewrites list columns
 * on UPDATE as delete + insert, which a unique index rejects within one
 * transaction.
 */
export function duckdbDialect(target: DuckTarget): Dialect {
  return {
    types: TYPES,
    text: 'VARCHAR',
    bigint: 'BIGINT',
    timestamp: 'TIMESTAMP WITH TIME ZONE',
    primaryKey: false,
    merge: 'diff-rewrite',
    classify: (error) => {
      if (error instanceof PylonCliError) return error;
      const message = (error as Error)?.message ?? String(error);
      // DuckDB's own message suggests settings this tool makes; the one a user can change is the cap.
      if (/Out of Memory Error/i.test(message)) {
        return loadError('LOAD_FAILED', target, `DuckDB ran out of its memory cap (${memoryLimit()}): ${message.split('\n')[0]}; raise the cap with PYLON_DUCKDB_MEMORY_LIMIT (for example 1GB) and run again`);
      }
      return loadError('LOAD_FAILED', target, message);
    },
    async connect() {
      const duckdb = await loadDuckDb(target);
      let instance: InstanceType<DuckDb['DuckDBInstance']>;
      let connection: DuckSession['connection'];
      try {
        instance = await duckdb.DuckDBInstance.create(target.path, { ...DUCKDB_SETTINGS, memory_limit: memoryLimit() });
        connection = await instance.connect();
      } catch (error) {
        const message = (error as Error).message;
        // DuckDB refuses a cap it cannot read only as "Failed to set config": name the variable that set it.
        if (process.env.PYLON_DUCKDB_MEMORY_LIMIT && /config/i.test(message)) {
          throw loadError('LOAD_CONNECT', target, `DuckDB refused PYLON_DUCKDB_MEMORY_LIMIT=${process.env.PYLON_DUCKDB_MEMORY_LIMIT} (${message}); give a size such as 512MB or 1GB, or unset it for the default ${DUCKDB_SETTINGS.memory_limit}`);
        }
        throw loadError('LOAD_CONNECT', target, `cannot open the database file (${message})`);
      }
      return {
        duckdb,
        connection,
        run: async (sql, params) => Number((await connection.run(sql, params as DuckDBValue[] | undefined)).rowsChanged),
        rows: async (sql, params) => (await connection.runAndReadAll(sql, params as DuckDBValue[] | undefined)).getRowObjects() as Array<Record<string, unknown>>,
        async close() {
          connection.closeSync();
          instance.closeSync();
        },
      } satisfies DuckSession;
    },
    async check(_session, input: LoaderInput) {
      await sweepStagingFiles(input.tempDir);
      await sweepSpillFiles(target.path);
    },
    async existingColumns(session) {
      const rows = await session.rows(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, [target.schema ?? 'main', target.name]);
      return new Map(rows.map((r) => [String(r.column_name), comparableType(String(r.data_type))]));
    },
    tableExists: async (session, _target, name) => Number((await session.rows(`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`, [target.schema ?? 'main', name]))[0]!.n) > 0,
    async openStage(session, table, columns) {
      const { connection, duckdb } = session as DuckSession;
      const appender = await connection.createAppender(table, null, 'temp');
      const types = Array.from({ length: appender.columnCount }, (_, i) => appender.columnType(i));
      const kinds = columns.map((c) => c.kind);
      let open = true;
      // One data chunk, refilled for every CHUNK_ROWS rows: a chunk's native memory is freed only when
      // its JavaScript object is collected, which a small heap seldom does (a new chunk each time piled up hundreds of MB).
      const chunk = duckdb.DuckDBDataChunk.create(types);
      // The chunk's values a column at a time, in arrays reused for every chunk (an array per row was garbage the collector had to chase).
      const values: DuckDBValue[][] = types.map(() => []);
      const hashColumn = kinds.length;
      let unflushed = 0;
      const stage: Stage = {
        async add(rows, hashes) {
          for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
            const end = Math.min(rows.length, start + CHUNK_ROWS);
            for (let i = 0; i < kinds.length; i += 1) {
              const column = values[i]!;
              const kind = kinds[i]!;
              column.length = end - start;
              for (let r = start; r < end; r += 1) column[r - start] = duckValue(duckdb, kind, rows[r]![i]!);
            }
            const hashValues = values[hashColumn]!;
            hashValues.length = end - start;
            for (let r = start; r < end; r += 1) hashValues[r - start] = hashes[r]!;
            chunk.reset();
            chunk.setColumns(values);
            appender.appendDataChunk(chunk);
            unflushed += end - start;
          }
          for (const column of values) column.length = 0;
          // The appender holds what it was given until a flush: hand it to the table (which DuckDB may spill) every FLUSH_ROWS.
          if (unflushed >= FLUSH_ROWS) {
            appender.flushSync();
            unflushed = 0;
          }
        },
        async finish() {
          open = false;
          appender.flushSync();
          appender.closeSync();
        },
        abort() {
          if (!open) return;
          open = false;
          try {
            appender.closeSync();
          } catch {
            // What was appended is dropped with the connection.
          }
        },
      };
      return stage;
    },
    stateBlobs: {
      type: 'BLOB',
      async append(session, name, parts) {
        // The appender writes in the connection's open transaction: the parts commit (or roll back) with the merge.
        const appender = await (session as DuckSession).connection.createAppender(STATE_BLOBS_TABLE, target.schema ?? null);
        let count = 0;
        try {
          for await (const part of parts) {
            appender.appendVarchar(name);
            appender.appendBigInt(BigInt(count));
            appender.appendBlob(part);
            appender.endRow();
            count += 1;
          }
          appender.flushSync();
        } finally {
          appender.closeSync();
        }
        return count;
      },
    },
    begin: () => (target.schema !== undefined ? [`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.schema)}`] : []),
    widen: (table, column, type) => `ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${type} USING CAST(${column} AS ${type})`,
  };
}

type DuckTarget = Extract<LoadTarget, { kind: 'duckdb' }>;
