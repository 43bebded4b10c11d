import { open, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PylonCliError } from '../../errors.js';
import { columnDefinitions, quoteIdent } from '../schema.js';
import {
  alterStatements,
  columnsStatements,
  COLUMNS_TABLE,
  loadRecord,
  loadsTableDdl,
  insertAllStatement,
  diffMergeStatements,
  idDiffMergeStatements,
  changesMergeStatements,
  LOADS_TABLE,
  BOOKKEEPING_TABLES,
  planTable,
  keptColumnsAccepted,
  planRefill,
  rewritesEveryRow,
  loadError,
  readKeptState,
  copyKeptState,
  sqlString,
  stateTableDdl,
  stateParts,
  stateBlobs,
  stateBytes,
  STATE_PARTS_TABLES,
  type StateLayout,
  stateStatements,
  stateWrites,
  tableRef,
  STATE_PARTS_TABLE,
  STATE_TABLE,
  type LoaderInput,
  type MergeCounts,
  type MergeInput,
  type MergeSql,
  type TableLoader,
  type TablePlan,
} from './common.js';
import type { LoadTarget } from './target.js';
import type { Dialect, Session, Stage } from './dialect.js';

export * from './common.js';

export type { Dialect, Session, Stage } from './dialect.js';

/** Runs `copy` into a new file at `path`; the file stays only when there was a state (true). */
async function writeKeptState(path: string, copy: (write: (bytes: Buffer) => Promise<void>) => Promise<boolean>): Promise<boolean> {
  const file = await open(path, 'w');
  let found = false;
  try {
    found = await copy(async (bytes) => void (await file.write(bytes)));
  } finally {
    await file.close();
    if (!found) await rm(path, { force: true });
  }
  return found;
}

/**
 * Whether run `runId` committed a load into `target`: its `committed` row in
 * `_pylon_loads`, written in the load's own transaction. Asked by the next run
 * about a run killed while it published its files (publish-journal.ts), to
 * keep them (it committed) or undo them.
 */
export async function loadCommitted(target: LoadTarget, runId: string): Promise<boolean> {
  // No database file: no load into it ever committed (and opening one would create it).
  if (target.kind === 'duckdb' && !(await stat(target.path).then(() => true, () => false))) return false;
  const dialect = target.kind === 'postgresql' ? (await import('./postgres.js')).postgresDialect(target) : (await import('./duckdb.js')).duckdbDialect(target);
  const session = await dialect.connect({ target, columns: [], allowSchemaChange: false, tempDir: dirname(target.kind === 'duckdb' ? target.path : '.') });
  try {
    if (!(await dialect.tableExists(session, target, LOADS_TABLE))) return false;
    const rows = await session.rows(`SELECT count(*) AS n FROM ${tableRef(target, LOADS_TABLE)} WHERE run_id = ${sqlString(runId)} AND table_name = ${sqlString(target.table)} AND status = 'committed'`);
    return Number(rows[0]!.n) > 0;
  } catch (error) {
    throw isLoadError(error) ? error : dialect.classify(error);
  } finally {
    // Nothing written: the file stays as it is.
    await session.close({ committed: true });
  }
}

/**
 * Records in `_pylon_loads` the load of a run killed (kill -9) before it
 * committed, as the next run settles that run from its journal: status
 * `abandoned`, the run's start, and `error` saying what was found and done.
 * Nothing is written when the log already has a row for that run (it got as far
 * as its `failed` row) or the database file does not exist. Returns whether a
 * row was written.
 */
export async function recordAbandonedLoad(target: LoadTarget, run: { runId: string; startedAt: string }, error: string): Promise<boolean> {
  if (target.kind === 'duckdb' && !(await stat(target.path).then(() => true, () => false))) return false;
  const dialect = target.kind === 'postgresql' ? (await import('./postgres.js')).postgresDialect(target) : (await import('./duckdb.js')).duckdbDialect(target);
  const session = await dialect.connect({ target, columns: [], allowSchemaChange: false, tempDir: dirname(target.kind === 'duckdb' ? target.path : '.') });
  try {
    await session.run(loadsTableDdl(target, dialect.text, dialect.bigint, dialect.timestamp));
    const rows = await session.rows(`SELECT count(*) AS n FROM ${tableRef(target, LOADS_TABLE)} WHERE run_id = ${sqlString(run.runId)} AND table_name = ${sqlString(target.table)}`);
    if (Number(rows[0]!.n) > 0) return false;
    await session.run(loadRecord(target, { runId: run.runId, extractedAt: run.startedAt, hardDelete: false }, dialect.timestamp, { status: 'abandoned', error }));
    return true;
  } catch (failure) {
    throw isLoadError(failure) ? failure : dialect.classify(failure);
  } finally {
    await session.close({ committed: true });
  }
}

/**
 * A load's connection, opened before the run names its columns (it reads the
 * table's `_pylon_columns` first, loadedColumnNames) and then handed to
 * openLoader, so a run opens one connection for both. Closed with close()
 * when the run fails before openLoader takes it (a DuckDB file the connection
 * created is then removed, as a failed load's is).
 */
export interface LoadConnection {
  readonly dialect: Dialect;
  readonly session: Session;
  close(): Promise<void>;
}

/** Opens a load's connection (LoadConnection); the database client is loaded only now. */
export async function connectLoad(input: Pick<LoaderInput, 'target' | 'tempDir' | 'onCopyText' | 'onNul'>): Promise<LoadConnection> {
  const dialect = input.target.kind === 'postgresql' ? (await import('./postgres.js')).postgresDialect(input.target, input.onCopyText, input.onNul) : (await import('./duckdb.js')).duckdbDialect(input.target);
  const session = await dialect.connect({ ...input, columns: [], allowSchemaChange: false });
  let closed = false;
  return {
    dialect,
    session,
    async close() {
      if (closed) return;
      closed = true;
      await session.close({ committed: false });
    },
  };
}

/**
 * Which field each custom column of the target's table holds, as its loads
 * recorded them (`_pylon_columns`, source → name); empty for a table no load
 * of this version wrote. Read on the load's connection before the run names
 * its columns (typedColumns).
 */
export async function loadedColumnNames(target: LoadTarget, connection: LoadConnection): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const { dialect, session } = connection;
  try {
    if (!(await dialect.tableExists(session, target, COLUMNS_TABLE))) return names;
    for (const row of await session.rows(`SELECT source, name FROM ${tableRef(target, COLUMNS_TABLE)} WHERE table_name = ${sqlString(target.table)}`)) names.set(String(row.source), String(row.name));
    return names;
  } catch (error) {
    throw isLoadError(error) ? error : dialect.classify(error);
  }
}

/** Opens the loader for a target, on `connection` (connectLoad) when given: the loader then owns it and closes it, whatever happens. */
export async function openLoader(input: LoaderInput, connection?: LoadConnection): Promise<TableLoader> {
  if (connection) return openTableLoader(input, connection.dialect, connection.session);
  const dialect = input.target.kind === 'postgresql' ? (await import('./postgres.js')).postgresDialect(input.target, input.onCopyText, input.onNul) : (await import('./duckdb.js')).duckdbDialect(input.target);
  return openTableLoader(input, dialect);
}

const isLoadError = (error: unknown): error is PylonCliError => error instanceof PylonCliError;

/** A temporary table of ids (the ids a merge must not mark deleted, MergeInput.keep; the gone ids of a changes-only merge), filled 500 at a time. */
function* idTableStatements(name: string, ids: readonly string[], text: string): Generator<string> {
  yield `CREATE TEMP TABLE ${name} ("id" ${text} NOT NULL)`;
  for (let i = 0; i < ids.length; i += 500) yield `INSERT INTO ${name} ("id") VALUES ${ids.slice(i, i + 500).map((id) => `(${sqlString(id)})`).join(', ')}`;
}

/** What says whether a table is still as its kept state describes it: its live rows that have a hash, the kept state's run, the table's last committed load. */
interface TableCheck {
  live: number;
  stateRunId: string | undefined;
  lastLoadRunId: string | undefined;
}

/** Reads the TableCheck: a count of the live rows and two one-row queries. */
async function readTableCheck(target: LoadTarget, rows: (sql: string) => Promise<Array<Record<string, unknown>>>, exists: (table: string) => Promise<boolean>): Promise<TableCheck> {
  const name = sqlString(target.table);
  // A live row without a hash (set NULL by hand) is not counted: the state cannot vouch for it, so the night stages every row and the full merge rewrites it.
  const live = Number((await rows(`SELECT count(*) AS n FROM ${tableRef(target)} WHERE "_deleted_at" IS NULL AND "_row_hash" IS NOT NULL`))[0]!.n);
  const stateRunId = (await rows(`SELECT run_id FROM ${tableRef(target, STATE_TABLE)} WHERE table_name = ${name}`))[0]?.run_id;
  // No load log (a table loaded by hand, or by a version that kept none): nothing says the state describes the table.
  return { live, stateRunId: stateRunId == null ? undefined : String(stateRunId), lastLoadRunId: await lastCommittedRun(target, rows, exists) };
}

/** The run of the table's last committed load in `_pylon_loads`; undefined when there is none (or no load log). */
async function lastCommittedRun(target: LoadTarget, rows: (sql: string) => Promise<Array<Record<string, unknown>>>, exists: (table: string) => Promise<boolean>): Promise<string | undefined> {
  if (!(await exists(LOADS_TABLE))) return undefined;
  const last = (await rows(`SELECT run_id FROM ${tableRef(target, LOADS_TABLE)} WHERE table_name = ${sqlString(target.table)} AND status = 'committed' ORDER BY finished_at DESC LIMIT 1`))[0]?.run_id;
  return last == null ? undefined : String(last);
}

/**
 * The table's last committed load as the run begins, read on the load's connection before the run reads its baseline
 * (the --state file, the table's kept state): LoaderInput.lastCommitted, checked again under the merge's lock.
 */
export async function lastCommittedLoad(target: LoadTarget, connection: LoadConnection): Promise<{ runId: string | undefined }> {
  const { dialect, session } = connection;
  try {
    await refuseChangedBookkeeping(session, dialect, target);
    return { runId: await lastCommittedRun(target, (sql) => session.rows(sql), (name) => dialect.tableExists(session, target, name)) };
  } catch (error) {
    throw isLoadError(error) ? error : dialect.classify(error);
  }
}

/**
 * A bookkeeping table (the load log `_pylon_loads`, `_pylon_columns`, the kept state) changed by hand so that a load
 * cannot read or write it (a column dropped or renamed): refused as the run opens, before anything is read, naming the
 * columns and the way on, instead of the database's own words later (`INSERT has more expressions than target
 * columns` after the whole walk, `column "table_name" does not exist`). A column added by hand is no matter: the rows
 * name their columns; but DuckDB's state parts (`_pylon_state_blobs`) are written by its appender, by position, which a
 * column added by hand stopped after the whole walk (`Call to EndRow before all columns have been appended to!`), every
 * night: refused too, with the DROP COLUMN. The load log's rows are only written, so a column of it is added back; a column of the others
 * took the values the next load reads with it, so adding it back empty is no way on (each later night failed with words
 * that led nowhere: `null is the column of custom.tier`, `not a pylon-contacts state file`): renamed back, or the tables
 * moved aside; and one added back empty, holding no value in this table's rows, is refused the same way.
 */
async function refuseChangedBookkeeping(session: Session, dialect: Dialect, target: LoadTarget): Promise<void> {
  // Checked once a connection: a night asks first for the last committed load (lastCommittedLoad), then opens the loader on the same session.
  if (bookkeepingChecked.has(session)) return;
  const types = { text: dialect.text, bigint: dialect.bigint, timestamp: dialect.timestamp };
  for (const { table, noun, columns, aside, then, byPosition } of BOOKKEEPING_TABLES) {
    const found = await dialect.existingColumns(session, target, table);
    if (found.size === 0) continue;
    const log = table === LOADS_TABLE;
    const missing = columns.filter(([name]) => !found.has(name)).map(([name]) => name);
    // Every column but table_name holds a value in each row a load writes (NOT NULL): none in this table's rows is a column added back empty.
    const held = log || missing.length > 0 ? [] : columns.map(([name]) => name).filter((name) => name !== 'table_name');
    const counts = held.length === 0 ? {} : (await session.rows(`SELECT ${held.map((name, i) => `sum(CASE WHEN ${name} IS NULL THEN 1 ELSE 0 END) AS n${i}`).join(', ')} FROM ${tableRef(target, table)} WHERE table_name = ${sqlString(target.table)}`))[0] ?? {};
    const empty = held.filter((_, i) => Number(counts[`n${i}`] ?? 0) > 0);
    // Written by position (DuckDB's appender): every column the load's, in its order.
    const order = columns.map(([name]) => name);
    const added = byPosition ? [...found.keys()].filter((name) => !order.includes(name)) : [];
    const reordered = byPosition && missing.length === 0 && added.length === 0 && [...found.keys()].join() !== order.join();
    if (missing.length === 0 && empty.length === 0 && added.length === 0 && !reordered) continue;
    const ref = tableRef(target, table);
    const moves: string[] = [];
    for (const name of aside) if (name === table || (await dialect.tableExists(session, target, name))) moves.push(`ALTER TABLE ${tableRef(target, name)} RENAME TO ${name}_old;`);
    const them = (names: string[]) => (names.length > 1 ? 'them' : 'it');
    const what =
      missing.length > 0
        ? `it has no column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which every load ${log ? 'writes' : 'reads and writes'}; ` +
          (log
            ? `add ${them(missing)} back (${missing.map((name) => `ALTER TABLE ${ref} ADD COLUMN ${name} ${types[columns.find(([n]) => n === name)![1] as keyof typeof types]};`).join(' ')}) or move`
            : `the values ${them(missing)} held went with ${them(missing)}, so adding ${them(missing)} back empty does not bring them back: rename ${them(missing)} back if ${missing.length > 1 ? 'they were' : 'it was'} renamed (${missing.map((name) => `ALTER TABLE ${ref} RENAME COLUMN <its new name> TO ${name};`).join(' ')}), else move`)
        : empty.length > 0
          ? `its column${empty.length > 1 ? 's' : ''} ${empty.join(', ')} ${empty.length > 1 ? 'hold' : 'holds'} no value in the rows of ${target.table} (dropped and added back?), which every load reads; move`
          : added.length > 0
            ? `it has column${added.length > 1 ? 's' : ''} ${added.join(', ')}, and a load writes its rows by position (${order.join(', ')}: DuckDB's appender), so it cannot write them; drop ${them(added)} (${added.map((name) => `ALTER TABLE ${ref} DROP COLUMN ${quoteIdent(name)};`).join(' ')}) or move`
            : `its columns are not in the order a load writes them (${order.join(', ')}: DuckDB's appender writes by position; a column dropped and added back?); move`;
    throw loadError(
      'LOAD_TABLE_CONFLICT',
      target,
      `${noun} ${ref} was changed by hand: ${what} ${moves.length > 1 ? 'those tables' : log ? 'the log' : 'it'} aside (${moves.join(' ')}): ${then}. Nothing was loaded; the table is as it was`,
    );
  }
  bookkeepingChecked.add(session);
}

/** Sessions whose bookkeeping tables refuseChangedBookkeeping found as a load needs them. */
const bookkeepingChecked = new WeakSet<Session>();

/**
 * A column the plan widens in place that a view uses (PostgreSQL: `cannot alter type of a column used by a view or rule`,
 * raised in the merge, after the whole walk): refused now, before anything is read, naming the views and the way on.
 */
async function refuseWideningUnderViews(session: Session, dialect: Dialect, target: LoadTarget, plan: TablePlan): Promise<void> {
  const widened = plan.alterations.filter((a) => a.kind === 'widen');
  if (!dialect.viewsUsing || widened.length === 0) return;
  const users = await dialect.viewsUsing(session, target, widened.map((a) => a.column));
  if (users.length === 0) return;
  const changes = widened.filter((a) => users.some((u) => u.column === a.column)).map((a) => `${a.column} (${a.from} → ${a.type})`);
  const named = [...new Map(users.map((u) => [u.view, u])).values()];
  const list = named.map((u) => `${u.kind} ${u.view} (${users.filter((x) => x.view === u.view).map((x) => x.column).join(', ')})`).join(', ');
  const drops = named.filter((u) => u.kind !== 'rule').map((u) => `DROP ${u.kind === 'view' ? 'VIEW' : 'MATERIALIZED VIEW'} ${u.view};`).join(' ');
  throw loadError(
    'LOAD_TABLE_CONFLICT',
    target,
    `--allow-schema-change would change the type of column${changes.length > 1 ? 's' : ''} ${changes.join(', ')} of ${target.table}, which ${named.length > 1 ? 'these use' : 'this uses'}: ${list}; ` +
      `PostgreSQL cannot change the type of a column a view or rule uses. Drop ${named.length > 1 ? 'them' : 'it'}${drops ? ` (${drops})` : ''}, run the export again, then create ${named.length > 1 ? 'them' : 'it'} again (a dbt run does). Nothing was loaded; the table is as it was`,
  );
}

/** The table is as the baseline describes it: as many live rows as the baseline has ids, and the kept state is the one the table's last committed load wrote (runId, when given, must be that run too). */
function tableMatches(check: TableCheck, baseline: { entries: number; runId?: string }): boolean {
  if (check.stateRunId === undefined || check.stateRunId !== check.lastLoadRunId) return false;
  if (baseline.runId !== undefined && baseline.runId !== check.stateRunId) return false;
  return check.live === baseline.entries;
}

/**
 * The load, the same for every database: open, check the table against the
 * export and read the kept state; stage the rows while the export walks; then
 * merge in one transaction (lock, create or alter the table, update, insert,
 * mark deleted, log the load) left open until `commit()`, so the files and the
 * table are published together; a failure after the merge began is logged as
 * `failed` after the rollback, and so are the load's failures while it staged,
 * the run's refusal before the merge (abort's cause) and a load refused as it
 * opened because the table does not match the export (recordRefusal).
 */
export async function openTableLoader(input: LoaderInput, dialect: Dialect, connected?: Session): Promise<TableLoader> {
  const { target, columns } = input;
  const fail = (error: unknown) => (isLoadError(error) ? error : dialect.classify(error));
  const session = connected ?? (await dialect.connect(input));
  const stageTable = `_pylon_stage_${process.pid}`;
  const table = tableRef(target);
  let closed = false;
  let inTransaction = false;
  /** The merge's COMMIT returned: the session may keep what it wrote. */
  let committed = false;
  let merged: MergeInput | undefined;
  let stage: Stage | undefined;
  const close = async () => {
    if (closed) return;
    closed = true;
    stage?.abort();
    await stage?.settled?.();
    await session.close({ committed });
  };
  /** The kept state until the run takes it (readState): its bytes (about 75 MB at 1M contacts) are not held through the walk. */
  let kept: Buffer | undefined;
  /** The kept state's file, when LoaderInput.keptStatePath asked for one. */
  let keptPath: string | undefined;
  const createTable = (options: { primaryKey: boolean; defaults?: { runId: string; extractedAt: string } }) => {
    const ts = dialect.timestamp;
    const definitions = columnDefinitions(columns, dialect.types.ddl, { primaryKey: options.primaryKey, keyCollation: dialect.keyCollation });
    const defaults = options.defaults;
    const runDefault = defaults ? ` DEFAULT ${sqlString(defaults.runId)}` : '';
    const atDefault = defaults ? ` DEFAULT CAST(${sqlString(defaults.extractedAt)} AS ${ts})` : '';
    return `CREATE TABLE IF NOT EXISTS ${table} (${definitions.join(', ')}, "_row_hash" ${dialect.text} NOT NULL, "_run_id" ${dialect.text}${runDefault}, "_extracted_at" ${ts}${atDefault}, "_deleted_at" ${ts})`;
  };
  /**
   * A first load into a table that does not exist (a dialect with openDirect,
   * the run's id and start known): the merge's transaction begins now, takes
   * the lock, creates the table without its primary key and with the run's
   * bookkeeping values as column defaults, and the walk copies the rows
   * straight into it: no staging table, no INSERT … SELECT. The merge then
   * drops the defaults and adds the key. Until COMMIT nobody else sees the
   * table; a failure rolls it back. False (nothing begun) when the table
   * appeared meanwhile.
   */
  const beginDirect = async (): Promise<boolean> => {
    if (!dialect.openDirect || !input.run) return false;
    await session.run('BEGIN TRANSACTION');
    inTransaction = true;
    for (const statement of dialect.begin(target)) await session.run(statement);
    if (await dialect.tableExists(session, target, target.name)) {
      await session.run('ROLLBACK');
      inTransaction = false;
      return false;
    }
    await session.run(createTable({ primaryKey: false, defaults: input.run }));
    stage = await dialect.openDirect(session, table, columns);
    return true;
  };
  /** The target table existed when the load opened. */
  let tableFound = false;
  /**
   * A load refused as it opened (LOAD_TABLE_CONFLICT: the table does not match the export) begins nothing and leaves the
   * table untouched, but the night is a failed load all the same: it gets its `failed` row in the load log, as a merge's
   * failure does, when the table exists (the log sits beside it) and the role may write the log (best effort). Only the
   * log is written, outside any transaction, never the table.
   */
  const recordRefusal = async (error: PylonCliError) => {
    if (error.code !== 'LOAD_TABLE_CONFLICT' || !tableFound || inTransaction || !input.run) return;
    const night: MergeInput = { runId: input.run.runId, extractedAt: input.run.extractedAt, hardDelete: false, schemaHash: input.run.schemaHash };
    await session.run(loadsTableDdl(target, dialect.text, dialect.bigint, dialect.timestamp)).catch(() => {});
    await session.run(loadRecord(target, night, dialect.timestamp, { status: 'failed', error: error.message })).catch(() => {});
  };
  const opened = await (async () => {
    try {
      await dialect.check(session, input);
      await refuseChangedBookkeeping(session, dialect, target);
      const existing = await dialect.existingColumns(session, target);
      tableFound = existing.size > 0;
      // Read now: the connection is busy staging until the merge.
      const stateExists = await dialect.tableExists(session, target, STATE_TABLE);
      const readRows = (sql: string) => session.rows(sql);
      const exists = (name: string) => dialect.tableExists(session, target, name);
      const state = stateExists && input.keptStatePath === undefined ? await readKeptState(target, readRows, exists) : undefined;
      if (stateExists && input.keptStatePath !== undefined) keptPath = (await writeKeptState(input.keptStatePath, (write) => copyKeptState(target, readRows, exists, write))) ? input.keptStatePath : undefined;
      const direct = existing.size === 0 && (await beginDirect());
      const accepted = !direct && tableFound && (await exists(LOADS_TABLE)) ? await keptColumnsAccepted(target, readRows) : new Set<string>();
      const plan = planTable(target, target.table, columns, direct ? existing : await dialect.existingColumns(session, target), dialect.types, input.allowSchemaChange, direct ? new Set() : await dialect.notNullColumns(session, target), accepted);
      if (!direct) await refuseWideningUnderViews(session, dialect, target, plan);
      if (!direct)
        await planRefill(plan, async (names) => (await session.rows(`SELECT count(*) AS n FROM ${table} WHERE "_deleted_at" IS NULL AND (${names.map((n) => `${quoteIdent(n)} IS NOT NULL`).join(' OR ')})`)).some((r) => Number(r.n) > 0));
      // Read before staging (the connection is busy until the merge), once the table is known to be this tool's: whether it is still as its kept state describes it (stageChangesOnly).
      const tableCheck = input.changesOnly && stateExists && !direct && existing.size > 0 ? await readTableCheck(target, readRows, exists) : undefined;
      let source = quoteIdent(stageTable);
      if (!direct && dialect.openSource) {
        const staged = await dialect.openSource(session, columns);
        stage = staged;
        source = staged.source;
      } else if (!direct) {
        // The database's default collation: it gives way to the table's in the merge's joins, so the table's key index serves them whichever the table has.
        const stageColumns = columnDefinitions(columns, dialect.types.ddl, { primaryKey: false });
        await session.run(`CREATE TEMP TABLE ${source} (${stageColumns.join(', ')}, "_row_hash" ${dialect.text} NOT NULL)`);
        stage = await dialect.openStage!(session, stageTable, columns);
      }
      kept = state;
      return { plan, direct, stageName: source, tableCheck };
    } catch (error) {
      const coded = fail(error);
      await recordRefusal(coded);
      await close();
      throw coded;
    }
  })();
  /** What the merge reads the staged rows from: the staging table, or the dialect's source (openSource). */
  const { plan, direct, stageName, tableCheck } = opened;
  /** Set by stageChangesOnly: the walk stages only new and changed rows, and the merge is changesMergeStatements. */
  let changesOnly = false;
  /** Rows handed to the stage (a direct load's count: every one was copied into the new table). */
  let added = 0;
  /** Why the load failed, as the run reports it (no secrets: the target is shown redacted): what abort() records in the load log. */
  let failure: string | undefined;
  const failed = (error: unknown) => {
    const coded = fail(error);
    failure ??= coded.message;
    return coded;
  };
  /**
   * After a rollback: the load's `failed` row in the load log (best effort), then the session closed. Under the merge's
   * input once it began, else under the run's id and start (LoaderInput.run): a load that failed while it staged (a row
   * refused, the connection lost) or that the run refused before its merge (SCHEMA_CHANGED) is a failed night too. On
   * the load's own connection when it still works; when it does not (lost while staging or committing), on a new one,
   * opened after this one is closed (DuckDB takes one instance per file) and only to a database that still exists
   * (a DuckDB file this run created and committed nothing to is removed as it closes).
   */
  const closeLoggingFailure = async (message: string | undefined) => {
    const night: MergeInput | undefined = merged ?? (input.run && { runId: input.run.runId, extractedAt: input.run.extractedAt, hardDelete: false, schemaHash: input.run.schemaHash });
    if (message === undefined || night === undefined || closed) return close();
    const statements = [loadsTableDdl(target, dialect.text, dialect.bigint, dialect.timestamp), loadRecord(target, night, dialect.timestamp, { status: 'failed', error: message })];
    /** Whether the row was written (the table may exist already, or the role may not create it: the DDL's failure alone is no failure). */
    const write = async (on: Session) => {
      await on.run(statements[0]!).catch(() => {});
      return on.run(statements[1]!).then(() => true, () => false);
    };
    const written = await write(session);
    await close();
    if (written || (target.kind === 'duckdb' && !(await stat(target.path).then(() => true, () => false)))) return;
    const fresh = await dialect.connect({ ...input, columns: [] }).catch(() => undefined);
    if (!fresh) return;
    try {
      await write(fresh);
    } finally {
      await fresh.close({ committed: true }).catch(() => {});
    }
  };
  const rollback = async () => {
    if (inTransaction) await session.run('ROLLBACK').catch(() => {});
    inTransaction = false;
  };
  /** DuckDB keeps the state in gzip parts (Dialect.stateBlobs), PostgreSQL in base64 parts. */
  const stateLayout: StateLayout = dialect.stateBlobs ? 'gzip' : 'base64';
  return {
    display: target.display,
    stateLayout,
    addedColumns: plan.alterations.filter((a) => a.kind === 'add').map((a) => a.column),
    async add(rows, hashes) {
      try {
        await stage!.add(rows, hashes);
        added += rows.length;
      } catch (error) {
        // The load's own failure: abort() logs it.
        throw failed(error);
      }
    },
    stageChangesOnly(baseline) {
      if (added > 0) throw loadError('LOAD_FAILED', target, 'stageChangesOnly() is decided before the first row is staged');
      // A plan that alters the table stages every row: a new or widened column, a variant column (every row is rewritten), a type change.
      changesOnly = !direct && tableCheck !== undefined && plan.alterations.length === 0 && !rewritesEveryRow(plan) && tableMatches(tableCheck, baseline);
      return changesOnly;
    },
    async merge(merge): Promise<MergeCounts> {
      merged = merge;
      kept = undefined;
      try {
        await stage!.finish();
        const ts = dialect.timestamp;
        let counts: MergeCounts;
        if (direct) {
          // The rows are in the new table already (beginDirect): the table gets its final shape, then its key, built once from the sorted ids.
          merge.onStep?.('staged', {});
          merge.onStep?.('updated', { updated: 0 });
          // One ALTER per column: DuckDB takes one action per ALTER TABLE.
          for (const column of ['"_run_id"', '"_extracted_at"']) await session.run(`ALTER TABLE ${table} ALTER COLUMN ${column} DROP DEFAULT`);
          if (dialect.primaryKey) await session.run(`ALTER TABLE ${table} ADD PRIMARY KEY ("id")`);
          merge.onStep?.('inserted', { updated: 0, inserted: added });
          merge.onStep?.('deleted', { updated: 0, inserted: added, deleted: 0 });
          counts = { inserted: added, updated: 0, unchanged: 0, deleted: 0 };
        } else {
          await session.run('BEGIN TRANSACTION');
          inTransaction = true;
          for (const statement of dialect.begin(target)) await session.run(statement);
          // Checked under the lock: a table this transaction creates is empty, so the first load is a plain insert (no update, nothing to mark deleted)
          // and its primary key is built once from the sorted ids afterwards instead of row by row.
          const created = !(await dialect.tableExists(session, target, target.name));
          // The table the load opened on is gone (renamed or dropped while the run read Pylon): the table created now has the export's columns,
          // so the plan made against the old one (columns to add, widen or take over with a variant) does not apply to it.
          const plan = created && tableFound ? planTable(target, target.table, columns, new Map(), dialect.types, input.allowSchemaChange) : opened.plan;
          // Another night of the pipeline that committed a load here since this run began (two overlapping runs) read the same baseline:
          // this run's delta and change log would list its changes again. Refused under the lock, before anything is published.
          if (input.lastCommitted !== undefined && !created) {
            const now = await lastCommittedRun(target, (sql) => session.rows(sql), (name) => dialect.tableExists(session, target, name));
            if (now !== input.lastCommitted.runId) {
              throw loadError(
                'LOAD_FAILED',
                target,
                `another load into ${target.table} committed (run ${now ?? 'unknown'}) while this run read Pylon; this run's delta and change log were made against the state before that load, so publishing them would list its changes again; nothing was loaded or published; run again when no other run of this pipeline is running: the next run starts from that load's state`,
              );
            }
          }
          if (changesOnly) {
            // Checked again under the lock: a table changed (or loaded by another run) since the load opened would not match the rows staged.
            const now = created ? undefined : await readTableCheck(target, (sql) => session.rows(sql), (name) => dialect.tableExists(session, target, name));
            if (!merge.changes || !now || !tableMatches(now, { entries: tableCheck!.live, runId: tableCheck!.stateRunId })) {
              throw loadError('LOAD_FAILED', target, `table ${target.table} changed while the run read Pylon (its live rows or its last load are not what they were when the load began); nothing was loaded; run again: the next run checks the table afresh`);
            }
          }
          await session.run(createTable({ primaryKey: dialect.primaryKey && !created }));
          for (const statement of alterStatements(table, plan, dialect.widen)) await session.run(statement);
          // A table created here takes every staged row as it is, whatever the dialect's merge.
          // Contacts Pylon still has that the run could not export stay as they were: their ids go to a small table the merge's removal skips.
          const keep = !created && merge.keep !== undefined && merge.keep.length > 0 ? quoteIdent(`_pylon_keep_${process.pid}`) : undefined;
          if (keep) for (const statement of idTableStatements(keep, merge.keep!, dialect.text)) await session.run(statement);
          const diff = quoteIdent(`_pylon_diff_${process.pid}`);
          const gone = changesOnly ? quoteIdent(`_pylon_gone_${process.pid}`) : undefined;
          if (gone) for (const statement of idTableStatements(gone, merge.changes!.gone, dialect.text)) await session.run(statement);
          const sql: MergeSql = created
            ? { prepare: [], cleanup: [], insert: insertAllStatement(table, stageName, columns, merge, ts, plan) }
            : gone
              ? changesMergeStatements(table, stageName, { diff, gone, keep }, columns, merge, ts, plan, dialect.merge === 'diff-rewrite' ? 'rewrite' : 'in-place')
              : (dialect.merge === 'diff-rewrite' ? diffMergeStatements : idDiffMergeStatements)(table, stageName, diff, columns, merge, ts, plan, keep);
          if (keep) sql.cleanup = [...sql.cleanup, `DROP TABLE ${keep}`];
          if (gone) sql.cleanup = [...sql.cleanup, `DROP TABLE ${gone}`];
          const staged = Number((await session.rows(`SELECT count(*) AS n FROM ${stageName}`))[0]!.n);
          merge.onStep?.('staged', {});
          for (const statement of sql.prepare) await session.run(statement);
          const rewritten = sql.update === undefined ? 0 : await session.run(sql.update);
          let updated = sql.updatedCount === undefined ? rewritten : Number((await session.rows(sql.updatedCount))[0]!.n);
          merge.onStep?.('updated', { updated });
          const inserted = (await session.run(sql.insert)) - (sql.insertRewrites ? updated : 0);
          if (created && dialect.primaryKey) await session.run(`ALTER TABLE ${table} ADD PRIMARY KEY ("id")`);
          merge.onStep?.('inserted', { updated, inserted });
          const deletedContacts = sql.remove === undefined || merge.keepUnseen || sql.deletedCount === undefined ? undefined : Number((await session.rows(sql.deletedCount))[0]!.n);
          const removed = sql.remove === undefined || merge.keepUnseen ? 0 : await session.run(sql.remove);
          const deleted = deletedContacts ?? removed;
          // Every staged id has one live row now, and every other live row is a contact the run could not export (keep): more live rows than that is an id the
          // table holds twice (a row inserted by hand; a DuckDB table has no key to refuse it, nor a PostgreSQL one whose key was dropped by hand). One count in a normal night; the repair only when it finds more.
          if (sql.dedupe && !merge.keepUnseen) {
            const live = Number((await session.rows(`SELECT count(*) AS n FROM ${table} WHERE "_deleted_at" IS NULL`))[0]!.n);
            if (live > staged + (merge.keep?.length ?? 0)) {
              for (const statement of sql.dedupe) await session.run(statement);
              updated += Number((await session.rows(sql.dedupeCount!))[0]!.n);
            }
          }
          merge.onStep?.('deleted', { updated, inserted, deleted });
          for (const statement of sql.cleanup) await session.run(statement);
          // Rows the run met unchanged and did not stage (stageChangesOnly) are unchanged too.
          counts = { inserted, updated, unchanged: staged - inserted - updated + (changesOnly ? merge.changes!.unstaged : 0), deleted, ...(plan.changes.length > 0 ? { schemaChanges: plan.changes } : {}) };
        }
        await session.run(loadsTableDdl(target, dialect.text, dialect.bigint, ts));
        await session.run(loadRecord(target, merge, ts, { status: 'committed', counts }));
        for (const statement of columnsStatements(target, columns, dialect.text)) await session.run(statement);
        return counts;
      } catch (error) {
        throw failed(error);
      }
    },
    async readState() {
      const state = kept ?? (keptPath === undefined ? undefined : await readFile(keptPath));
      kept = undefined;
      keptPath = undefined;
      return state;
    },
    keptStatePath: () => keptPath,
    async writeState(state) {
      if (!inTransaction || !merged) throw loadError('LOAD_FAILED', target, 'the state is written inside the merge transaction: call merge() first');
      try {
        for (const statement of stateTableDdl(target, { text: dialect.text, timestamp: dialect.timestamp, bigint: dialect.bigint, blob: dialect.stateBlobs?.type }, stateLayout, { index: dialect.stateIndex })) await session.run(statement);
        const statements = stateStatements(target, merged.runId, dialect.timestamp, stateLayout);
        // Every layout's old parts go: a state an earlier version kept in another layout is replaced (healed) by this one.
        await session.run(statements.clear(STATE_TABLE));
        for (const parts of STATE_PARTS_TABLES) if (await dialect.tableExists(session, target, parts)) await session.run(statements.clear(parts));
        if (dialect.stateBlobs) {
          await session.run(statements.record(await dialect.stateBlobs.append(session, target.table, stateBlobs(state))));
        } else if (dialect.copyStateParts) {
          await session.run(statements.record(await dialect.copyStateParts(session, tableRef(target, STATE_PARTS_TABLE), target.table, stateParts(stateBytes(state)))));
        } else {
          for await (const { sql, params } of stateWrites(target, merged.runId, dialect.timestamp, stateBytes(state))) await session.run(sql, params);
        }
      } catch (error) {
        throw failed(error);
      }
    },
    async commit() {
      try {
        await session.run('COMMIT');
        inTransaction = false;
        committed = true;
      } catch (error) {
        const failure = fail(error);
        await rollback();
        await closeLoggingFailure(failure.message);
        throw failure;
      } finally {
        await close();
      }
    },
    async abort(cause) {
      if (closed) return;
      stage?.abort();
      await stage?.settled?.();
      await rollback();
      // The load's own failure when it had one (a row refused while staging, a lost connection, a constraint, a table changed meanwhile), else the
      // run's refusal of the load (cause); a run that stopped for another reason (Pylon, an interrupt) is logged only once the merge began.
      await closeLoggingFailure(failure ?? cause ?? (merged ? 'the run stopped before the load committed; the table was left as it was' : undefined));
    },
  };
}
