import { createWriteStream, rmSync } from 'node:fs';
import { lstat, readdir, rm, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { DuckDBValue } from '@duckdb/node-api';
import { PylonCliError } from '../../errors.js';
import { duckdbType, quoteIdent, type TypedColumn, type TypedRow } from '../schema.js';
import { drained, loadError, sqlString, STATE_BLOBS_TABLE, type ColumnTypes, type LoaderInput } from './common.js';
import type { Dialect, Session, Stage } from './dialect.js';
import type { LoadTarget } from './target.js';
import { DUCKDB_SETTINGS } from './duckdb-settings.js';
import { processAlive } from '../../output/process-alive.js';

/** DuckDB reports STRUCT field names that are keywords quoted (`"label"`); compared without the quotes. */
const TYPES: ColumnTypes = { ddl: duckdbType, reported: (kind, column) => comparableType(duckdbType(kind, column)) };

type DuckDb = typeof import('@duckdb/node-api');

/**
 * @duckdb/node-api is an optional dependency: loaded only for `--to duckdb:`. It is CommonJS: required, not imported, as
 * Node's ESM loader first reads and lexes every CommonJS file the package requires to find its exports, which took
 * 120–170 ms more CPU than require() on this machine (`node -e`, three runs each).
 */
async function loadDuckDb(target: LoaderInput['target']): Promise<DuckDb> {
  try {
    return createRequire(import.meta.url)('@duckdb/node-api') as DuckDb;
  } catch (error) {
    throw loadError('LOAD_UNAVAILABLE', target, `@duckdb/node-api is not installed or has no build for this platform (${(error as Error).message}); run npm install @duckdb/node-api`);
  }
}

/** Whether anything (a file, a folder, a dangling link) is at `path`. */
const exists = (path: string) => lstat(path).then(() => true, (error: NodeJS.ErrnoException) => error.code !== 'ENOENT');

const STAGE_FILE = /^\.pylon-stage-(\d+)-\d+\.parquet$/;

/** Staging Parquet files (names and emails) left by a run killed under an earlier version, which staged through a file: removed, unless their process still runs. */
export async function sweepStagingFiles(dir: string): Promise<string[]> {
  const swept: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const match = STAGE_FILE.exec(name);
    if (!match || processAlive(Number(match[1]))) continue;
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
 * State parts handed from the appender to the transaction per flush (about
 * 3 MB of STATE_BLOB_BYTES-byte parts). DuckDB's appender otherwise holds every row
 * until it closes (it flushes on its own only past 204,800 rows, outside the
 * memory cap) and then copies them all into the transaction: two copies of
 * the whole state at once.
 */
const STATE_PARTS_PER_FLUSH = 1000;

/**
 * Runs a full garbage collection now. The walk leaves tens of MB of garbage
 * (pages, typed rows, encoded Parquet parts) that V8 has no reason to collect
 * while the process waits on DuckDB, so it would sit beside the merge and the
 * state's COMMIT, the load's peak. `gc` exists only with --expose-gc, which
 * V8 also accepts at run time (it then defines `gc` in new contexts only, so
 * the host's own global scope is left as it was). Memory, not correctness:
 * where the runtime refuses, the load goes on without it.
 */
function collectGarbage(): void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('typeof gc === "function" ? gc : undefined') as (() => void) | undefined;
    gc?.();
  } catch {
    // No collection on this runtime; V8 collects later on its own.
  }
}

const memoryLimit = () => process.env.PYLON_DUCKDB_MEMORY_LIMIT || DUCKDB_SETTINGS.memory_limit;

interface DuckSession extends Session {
  connection: Awaited<ReturnType<InstanceType<DuckDb['DuckDBInstance']>['connect']>>;
  duckdb: DuckDb;
  /** Where the staging file goes (beside the database file). */
  tempDir: string;
}

/** The row hash, staged as the last column. */
const HASH_COLUMN: TypedColumn = { name: '_row_hash', source: '_row_hash', kind: 'string', nullable: false };

/**
 * Rows per staging file of a first load (parquetStage with `insert`): each
 * full file is inserted into the new table while the walk stages the next,
 * so at most one file is left to insert when the walk ends. Two of DuckDB's
 * row groups (122,880 rows each, as our encoder writes them): every file
 * fills whole row groups of the table (a part-filled group left by one
 * INSERT is rewritten by the checkpoint when the load closes), and there are
 * few INSERTs (each costs DuckDB more CPU than one INSERT of the same rows:
 * bench/RESULTS.md, bench:warehouse-duckdb-overlap).
 */
export const STAGE_FILE_ROWS = 2 * 122_880;
/** Rows per row group of a staging file: the encoder holds a row group's pages in memory until it ends (uncompressed in a first load's files). */
export const STAGE_ROW_GROUP_ROWS = 30_720;

let stageFiles = 0;

/** One staging file being written (created `wx` before anything can abort, so abort() always finds it). */
interface StageFile {
  path: string;
  rows: number;
  /** Encodes rows (the staged columns) and their hashes as a page of the file. */
  add(rows: readonly TypedRow[], hashes: readonly string[]): Promise<void>;
  /** Writes the footer and closes the file. */
  end(): Promise<void>;
  destroy(): void;
}

/**
 * Opens a staging file in `dir`, encoded by our Parquet encoder (the one
 * `--format parquet` uses) without statistics, as the file is read once or
 * twice. A first load's files (`compression` UNCOMPRESSED) are read once, by
 * an INSERT that runs beside the walk: no snappy to run on the walk's thread,
 * none to undo in DuckDB's. The merge's file (openSource) stays snappy, as
 * it was measured on second nights. Staging a first load's rows as the JSON
 * lines the walk makes anyway for the values digest (read_json) was measured
 * too and not kept: about 1 s less on the walk's thread at 300k contacts
 * (none in a pair at 1M), given back on DuckDB's (its JSON reader takes
 * about 0.9 s more CPU per file than read_parquet), and files four times
 * larger (bench/RESULTS.md, bench:warehouse-duckdb-ndjson).
 */
async function openStageFile(target: DuckTarget, dir: string, columns: readonly TypedColumn[], compression: 'SNAPPY' | 'UNCOMPRESSED'): Promise<StageFile> {
  const { createParquetEncoder } = await import('../parquet.js');
  const encoder = createParquetEncoder([...columns, HASH_COLUMN], { statistics: false, compression, rowGroupSize: STAGE_ROW_GROUP_ROWS });
  const path = join(dir, `.pylon-stage-${process.pid}-${Date.now()}${(stageFiles += 1)}.parquet`);
  const file = createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: 1 << 20 });
  let failure: Error | undefined;
  file.on('error', (error) => (failure = error));
  const unwritable = (error: Error) =>
    loadError(
      'LOAD_FAILED',
      target,
      (error as NodeJS.ErrnoException).code === 'ENOSPC'
        ? `cannot write the staging file ${path}: the disk holding ${dir} is full (${error.message}); the load stages its rows there, beside the database file (about a third of the CSV export's size): free space on that disk and run again`
        : `cannot write the staging file ${path}: ${error.message}`,
    );
  // A file that cannot be created stops the load here.
  await once(file, 'open').catch((error: Error) => {
    throw unwritable(error);
  });
  const write = async (parts: Iterable<Uint8Array>) => {
    for (const part of parts) {
      if (failure) throw unwritable(failure);
      if (part.length > 0 && !file.write(part)) await drained(file);
    }
  };
  try {
    await write([encoder.start()]);
  } catch (error) {
    file.destroy();
    rmSync(path, { force: true });
    throw error;
  }
  return {
    path,
    rows: 0,
    add: (rows, hashes) => write(encoder.pageParts(rows, hashes)),
    async end() {
      await write(encoder.endParts());
      file.end();
      // The last bytes are flushed now: a full disk fails them here (once() rejects with the stream's error), named like any other write's failure.
      await once(file, 'close').catch((error: Error) => (failure ??= error));
      if (failure) throw unwritable(failure);
    },
    destroy: () => void file.destroy(),
  };
}

/**
 * Stages the rows in Parquet scratch files beside the database, which DuckDB
 * reads with read_parquet, natively and on all its threads: far cheaper than
 * the appender, which crossed into native code once per value.
 *
 * Without `insert` (openSource) the rows go into one file the merge reads in
 * place (`file` is its path as a SQL string; its row numbers are the merge's
 * rowids). With `insert` (openDirect: a first load, into a table the load's
 * open transaction created) they go into files of STAGE_FILE_ROWS rows; each
 * full file is inserted by DuckDB (`insert(file)`, an INSERT … SELECT on the
 * load's connection, inside its transaction, on one DuckDB thread so the
 * walk keeps a core) and removed once inserted, while the walk writes the
 * next one. The walk waits for one file's insert before it hands over the
 * next, so at most one file is inserting and one is being written; the last
 * file is inserted by finish(), on one thread too (below). An insert that fails stops
 * the next add() or finish() with its error (the transaction then rolls back:
 * no table).
 *
 * The files hold names and emails: abort() (the loader calls it when it
 * closes, whatever happened) interrupts an insert still running and removes
 * every file; settled() resolves once that insert has stopped, so the
 * rollback and close that follow never meet it. A run killed meanwhile
 * leaves its files for sweepStagingFiles (its pid is in their names).
 */
async function parquetStage(target: DuckTarget, session: DuckSession, columns: readonly TypedColumn[], insert?: (file: string) => string): Promise<Stage & { file: string }> {
  const compression = insert ? 'UNCOMPRESSED' : 'SNAPPY';
  /** Every file this stage created and has not removed. */
  const files = new Set<string>();
  const remove = (path: string) => {
    files.delete(path);
    rmSync(path, { force: true });
  };
  let current: StageFile | undefined;
  /** The last insert handed to DuckDB; never rejects (its failure is kept in insertFailure). */
  let inserting: Promise<void> = Promise.resolve();
  let insertFailure: unknown;
  /** An insert is running on the connection (abort() interrupts it). */
  let running = false;
  let aborted = false;
  /**
   * DuckDB runs on one thread from the first insert to the close. The last
   * file (the rows after the last full one: 16,960 at 1M contacts, one or two
   * of its 30,720-row row groups) once went in on every thread: that took
   * about twice the CPU and wall of one thread on a busy machine, and the
   * COMMIT and the checkpoint at close gained nothing from the second thread
   * (bench/RESULTS.md, bench:warehouse-duckdb-first-load).
   */
  let oneThread = false;
  const next = async () => {
    const file = await openStageFile(target, session.tempDir, columns, compression);
    files.add(file.path);
    current = file;
    // abort() came while the file was being created: it could not remove it then.
    if (aborted) removeAll();
  };
  /** Closes `file` and starts its insert once the previous one is done. */
  const handOver = async (file: StageFile) => {
    await file.end();
    await inserting;
    if (insertFailure !== undefined) throw insertFailure;
    if (aborted) return;
    running = true;
    const setThreads = oneThread ? Promise.resolve(0) : session.run('SET threads = 1');
    oneThread = true;
    inserting = setThreads
      .then(() => session.run(insert!(sqlString(file.path))))
      .then(
        () => remove(file.path),
        (error: unknown) => {
          insertFailure ??= error;
        },
      )
      .finally(() => (running = false));
  };
  const removeAll = () => {
    current?.destroy();
    current = undefined;
    for (const path of [...files]) remove(path);
  };
  const abort = () => {
    if (aborted) return;
    aborted = true;
    // An insert still reading a file stops at DuckDB's next check (settled() waits for it); its file goes now either way (an open file is still read to its end on POSIX systems).
    if (running) session.connection.interrupt();
    removeAll();
  };
  await next();
  const first = current!.path;
  return {
    file: sqlString(first),
    async add(rows: readonly TypedRow[], hashes: readonly string[]) {
      // A first load's file ends at exactly STAGE_FILE_ROWS rows (a page's rows may go into two files): whole row groups, none left part-filled.
      for (let from = 0; from < rows.length; ) {
        if (insertFailure !== undefined) throw insertFailure;
        if (aborted) return;
        const file = current!;
        const to = insert ? Math.min(rows.length, from + STAGE_FILE_ROWS - file.rows) : rows.length;
        const whole = from === 0 && to === rows.length;
        // The hash is the file's last column, handed beside the rows (no row is copied to add it).
        await file.add(whole ? rows : rows.slice(from, to), whole ? hashes : hashes.slice(from, to));
        file.rows += to - from;
        from = to;
        if (insert && file.rows === STAGE_FILE_ROWS) {
          current = undefined;
          await handOver(file);
          if (!aborted) await next();
        }
      }
    },
    async finish() {
      try {
        const file = current!;
        current = undefined;
        // A merge's one file is closed here; a first load's last file is closed by handOver, after the collection.
        if (!insert) await file.end();
        // The walk is over: its garbage goes before DuckDB reads the file (collectGarbage), once on either path.
        collectGarbage();
        if (!insert) return;
        await handOver(file);
        await inserting;
        if (insertFailure !== undefined) throw insertFailure;
      } catch (error) {
        abort();
        throw error;
      }
    },
    abort,
    settled: () => inserting,
  };
}

/**
 * DuckDB: the typed rows are staged in Parquet files (parquetStage). A
 * first load into a new table inserts them into it file by file while the
 * walk goes on (openDirect); a load into an existing table merges from one
 * file in place (openSource), no staging table. The table has no PRIMARY KEY: DuckDB
 * rewrites list columns on UPDATE as delete + insert, which a unique index
 * rejects within one transaction.
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
      // A full disk while DuckDB writes its log or checkpoint (at COMMIT, say): the folder to free, not only DuckDB's words.
      if (/No space left on device/i.test(message)) {
        return loadError('LOAD_FAILED', target, `${message.split('\n')[0]}: the disk holding ${dirname(target.path)} is full; free space on it (DuckDB writes the database file, its .wal log and, past its memory cap, ${basename(target.path)}.tmp there) and run again`);
      }
      return loadError('LOAD_FAILED', target, message);
    },
    async connect(input) {
      const duckdb = await loadDuckDb(target);
      let instance: InstanceType<DuckDb['DuckDBInstance']>;
      let connection: DuckSession['connection'];
      // A file this run creates is removed again (with its write-ahead log) when the run commits nothing to it: a first load that fails or is interrupted leaves no empty database behind.
      const created = !(await exists(target.path));
      const discard = async () => {
        if (created) await Promise.all([target.path, `${target.path}.wal`].map((path) => rm(path, { force: true })));
      };
      try {
        instance = await duckdb.DuckDBInstance.create(target.path, { ...DUCKDB_SETTINGS, memory_limit: memoryLimit() });
        connection = await instance.connect();
      } catch (error) {
        const message = (error as Error).message;
        // DuckDB refuses a cap it cannot read only as "Failed to set config": name the variable that set it.
        if (process.env.PYLON_DUCKDB_MEMORY_LIMIT && /config/i.test(message)) {
          throw loadError('LOAD_CONNECT', target, `DuckDB refused PYLON_DUCKDB_MEMORY_LIMIT=${process.env.PYLON_DUCKDB_MEMORY_LIMIT} (${message}); give a size such as 512MB or 1GB, or unset it for the default ${DUCKDB_SETTINGS.memory_limit}`);
        }
        await discard();
        throw loadError('LOAD_CONNECT', target, `cannot open the database file (${message})`);
      }
      return {
        duckdb,
        connection,
        tempDir: input.tempDir,
        run: async (sql, params) => Number((await connection.run(sql, params as DuckDBValue[] | undefined)).rowsChanged),
        rows: async (sql, params) => (await connection.runAndReadAll(sql, params as DuckDBValue[] | undefined)).getRowObjects() as Array<Record<string, unknown>>,
        async close(outcome) {
          connection.closeSync();
          instance.closeSync();
          if (!outcome?.committed) await discard();
        },
      } satisfies DuckSession;
    },
    async check(_session, input: LoaderInput) {
      await sweepStagingFiles(input.tempDir);
      await sweepSpillFiles(target.path);
    },
    async existingColumns(session, _target, name) {
      const rows = await session.rows(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, [target.schema ?? 'main', name ?? target.name]);
      return new Map(rows.map((r) => [String(r.column_name), comparableType(String(r.data_type))]));
    },
    async notNullColumns(session) {
      const rows = await session.rows(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND is_nullable = 'NO'`, [target.schema ?? 'main', target.name]);
      return new Set(rows.map((r) => String(r.column_name)));
    },
    tableExists: async (session, _target, name) => Number((await session.rows(`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`, [target.schema ?? 'main', name]))[0]!.n) > 0,
    async openSource(session, columns) {
      // Numbered by file_row_number as `rowid`, which the diff merge keys its rows by.
      const staged = await parquetStage(target, session as DuckSession, columns);
      return { ...staged, source: `(SELECT *, file_row_number AS rowid FROM read_parquet(${staged.file}, file_row_number = true))` };
    },
    async openDirect(session, table, columns) {
      const names = [...columns.map((c) => quoteIdent(c.name)), '"_row_hash"'].join(', ');
      return parquetStage(target, session as DuckSession, columns, (file) => `INSERT INTO ${table} (${names}) SELECT * FROM read_parquet(${file})`);
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
            if (count % STATE_PARTS_PER_FLUSH === 0) appender.flushSync();
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
