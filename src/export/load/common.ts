/** The statements and decisions every database's load shares: the merge, the table check, the load log, the kept state, the coded errors (loader.ts runs them; postgres.ts and duckdb.ts are the dialects). */
import { createWriteStream } from 'node:fs';
import { pipeline, Readable, type Writable } from 'node:stream';
import { constants as zlibConstants, createGunzip, createGzip } from 'node:zlib';
import { CUSTOM_PREFIX } from '../../columns.js';
import { ConfigError, PylonCliError, type ErrorCode } from '../../errors.js';
import { fitName, quoteIdent, typeLabel, type ColumnKind, type TypedColumn, type TypedRow } from '../schema.js';
import { redactUrl, type LoadTarget } from './target.js';
import type { StateCopy } from '../delta.js';

/** What a merge did, counted by the database. */
export interface MergeCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  /** What this load changed in the table's columns (only when it changed something): `widened …`, `added variant …`. */
  schemaChanges?: string[];
}

export interface MergeInput {
  runId: string;
  /** This run's extraction time (ISO): `_extracted_at` of inserted and updated rows, `_deleted_at` of removed ones. */
  extractedAt: string;
  hardDelete: boolean;
  /** The export's values digest and schema hash, for the load log (`_pylon_loads`). */
  valuesSha256?: string;
  schemaHash?: string;
  /**
   * Ids of contacts Pylon still lists whose records this run could not export
   * (a value that does not fit its column: the error report has them): their
   * rows stay as the last load left them, never marked deleted.
   */
  keep?: readonly string[];
  /** The list was still changing when the export ended (unverified): no row is marked (or deleted) as gone. */
  keepUnseen?: boolean;
  /**
   * Set when the load staged only the new and changed rows (TableLoader.stageChangesOnly):
   * `gone` are the ids of the baseline this run did not meet (the delta's deleted ids),
   * `unstaged` the rows the run met unchanged and did not stage (counted as unchanged).
   */
  changes?: { gone: readonly string[]; unstaged: number };
  /**
   * Compare every column's value of the staged and the table's rows, not only
   * `_row_hash`: set when the run has no baseline (a first night against an
   * existing table, a --state file named anew), so a value changed in the table
   * by hand is rewritten. Columns the load widened are always compared.
   */
  compareValues?: boolean;
  /** Called as each merge statement finishes, with the counts so far (the merge of a big table takes a while). */
  onStep?: (step: MergeStep, counts: Partial<MergeCounts>) => void;
}

export type MergeStep = 'staged' | 'updated' | 'inserted' | 'deleted';

/** The load log every loaded database keeps beside the tables (dlt's `_dlt_loads`): one row per load that reached its merge. */
export const LOADS_TABLE = '_pylon_loads';

/**
 * Which field each custom column of a loaded table holds: one row per column
 * (`table_name`, `name`, `source` = `custom.<slug>`), written with every
 * committed load and kept for columns the export no longer has (the table
 * keeps them too). The next run names its columns from it (typedColumns), so
 * a column never passes to another field whatever fields come and go.
 */
export const COLUMNS_TABLE = '_pylon_columns';

/** The statements that record the custom columns of a load in COLUMNS_TABLE (inside the merge's transaction). */
export function columnsStatements(target: LoadTarget, columns: readonly TypedColumn[], text: string): string[] {
  const custom = columns.filter((c) => c.source.startsWith(CUSTOM_PREFIX));
  const ref = tableRef(target, COLUMNS_TABLE);
  const name = sqlString(target.table);
  if (custom.length === 0) return [`CREATE TABLE IF NOT EXISTS ${ref} (table_name ${text} NOT NULL, name ${text} NOT NULL, source ${text} NOT NULL)`];
  return [
    `CREATE TABLE IF NOT EXISTS ${ref} (table_name ${text} NOT NULL, name ${text} NOT NULL, source ${text} NOT NULL)`,
    // A row of a column or a field this load names again is replaced; the rows of fields it no longer exports stay (their columns do).
    `DELETE FROM ${ref} WHERE table_name = ${name} AND (lower(name) IN (${custom.map((c) => sqlString(c.name.toLowerCase())).join(', ')}) OR source IN (${custom.map((c) => sqlString(c.source)).join(', ')}))`,
    `INSERT INTO ${ref} (table_name, name, source) VALUES ${custom.map((c) => `(${name}, ${sqlString(c.name)}, ${sqlString(c.source)})`).join(', ')}`,
  ];
}

/** A table of the target's schema, quoted for SQL: `"raw"."contacts"`, or `"contacts"` without a schema. */
export function tableRef(target: LoadTarget, name = target.name): string {
  return (target.schema === undefined ? '' : quoteIdent(target.schema) + '.') + quoteIdent(name);
}

/** The load log's columns, in order, with their kind of type (LOADS_TABLE). */
export const LOADS_COLUMNS = [
  ['run_id', 'text'],
  ['table_name', 'text'],
  ['started_at', 'timestamp'],
  ['finished_at', 'timestamp'],
  ['status', 'text'],
  ['inserted', 'bigint'],
  ['updated', 'bigint'],
  ['unchanged', 'bigint'],
  ['deleted', 'bigint'],
  ['values_sha256', 'text'],
  ['schema_hash', 'text'],
  ['schema_changes', 'text'],
  ['error', 'text'],
] as const;

const NOT_NULL_LOADS_COLUMNS = new Set(['run_id', 'table_name', 'started_at', 'finished_at', 'status']);

export function loadsTableDdl(target: LoadTarget, text: string, bigint: string, timestamp: string): string {
  const types = { text, bigint, timestamp };
  return `CREATE TABLE IF NOT EXISTS ${tableRef(target, LOADS_TABLE)} (${LOADS_COLUMNS.map(([name, kind]) => `${name} ${types[kind]}${NOT_NULL_LOADS_COLUMNS.has(name) ? ' NOT NULL' : ''}`).join(', ')})`;
}

/**
 * One row of the load log: `committed` (written in the merge's transaction), `failed` (written after the rollback), or
 * `abandoned` (a run killed before its load committed, written by the next run that settles it: recordAbandonedLoad).
 */
export function loadRecord(target: LoadTarget, input: MergeInput, timestamp: string, outcome: { status: 'committed'; counts: MergeCounts } | { status: 'failed' | 'abandoned'; error: string }): string {
  const ts = (iso: string) => `CAST(${sqlString(iso)} AS ${timestamp})`;
  const text = (value: string | undefined) => (value === undefined ? 'NULL' : sqlString(value));
  const counts = outcome.status === 'committed' ? outcome.counts : undefined;
  const n = (value: number | undefined) => (value === undefined ? 'NULL' : String(value));
  return (
    // The columns named: a column added to the log by hand, or one dropped and added back (now last), takes no other's value.
    `INSERT INTO ${tableRef(target, LOADS_TABLE)} (${LOADS_COLUMNS.map(([name]) => name).join(', ')}) VALUES (${text(input.runId)}, ${text(target.table)}, ${ts(input.extractedAt)}, ${ts(new Date().toISOString())}, ${text(outcome.status)}, ` +
    `${n(counts?.inserted)}, ${n(counts?.updated)}, ${n(counts?.unchanged)}, ${n(counts?.deleted)}, ${text(input.valuesSha256)}, ${text(input.schemaHash)}, ` +
    `${text(counts?.schemaChanges?.join('; '))}, ${text(outcome.status !== 'committed' ? outcome.error : undefined)})`
  );
}

/**
 * A load into a table: rows are staged while the export walks (COPY, or
 * DuckDB's Parquet staging file), then `merge()` runs in one transaction that stays
 * open until `commit()`, so the files and the table are published together
 * and a failed run leaves the table as it was.
 */
export interface TableLoader {
  readonly display: string;
  add(rows: readonly TypedRow[], hashes: readonly string[]): Promise<void>;
  /**
   * Called once the run knows its baseline is this table's kept state (`entries`: its ids), before the first add():
   * true when the load may stage only the new and changed rows (the merge then needs MergeInput.changes). It does when
   * the table is still as that state describes it (as many live rows as the state has ids, and the state is the one its
   * last committed load kept) and this load does not alter the table; otherwise every row is staged.
   */
  stageChangesOnly(baseline: { entries: number }): boolean;
  merge(input: MergeInput): Promise<MergeCounts>;
  commit(): Promise<void>;
  /**
   * Rolls back and closes; safe at any point, and more than once. `cause`: the run's reason to refuse the load before its merge
   * (SCHEMA_CHANGED), logged as the night's `failed` row like the load's own failures; without it a run that stopped before the
   * merge for another reason (Pylon, an interrupt) leaves no row.
   */
  abort(cause?: string): Promise<void>;
  /** The pipeline state last committed with this table (`_pylon_state`), or undefined. Call before merge(); it is handed over once (a second call gets undefined), so the loader does not hold it through the walk. */
  readState(): Promise<Buffer | undefined>;
  /** Where the kept state was written (LoaderInput.keptStatePath), when there was one. */
  keptStatePath(): string | undefined;
  /** Stores the pipeline state for this table (its bytes, or a stream of them such as a file's); call after merge() and before commit(): it commits (or rolls back) with the merge. */
  writeState(state: Uint8Array | AsyncIterable<Uint8Array> | GzippedState): Promise<void>;
  /** How this database keeps the state: in gzip parts (writeState takes a GzippedState as it is) or base64 parts. */
  readonly stateLayout: StateLayout;
  /** Columns of the export the existing table lacks (a new field, or one dropped by hand): the merge adds them and rewrites every row (rewritesEveryRow). */
  readonly addedColumns: readonly string[];
}

/** The pipeline state kept with the loaded tables, one row per table, so a loading cron line needs no state file. */
export const STATE_TABLE = '_pylon_state';
/**
 * The state's bytes, base64 in parts of STATE_PART_BYTES, one row each: no
 * value of ~75 MB for the database to hold at once. PostgreSQL keeps its
 * state this way (DuckDB did before it kept STATE_BLOBS_TABLE; parts are
 * written STATE_PARTS_PER_STATEMENT at a time there).
 *
 * A part is 1,428 bytes (1,904 base64 characters) so that its row, with a
 * table name of up to 63 bytes, stays under PostgreSQL's TOAST threshold
 * (2,032 bytes on 8 KiB pages): larger rows are compressed one by one, for
 * nothing (base64 barely shrinks). Measured with 16 MB of state (300,000
 * contacts) COPYed into an indexed table: 139-152 ms in these parts, 335-362
 * ms in parts of 2,250 bytes (the size before). A state is read back whatever
 * size its parts have.
 */
export const STATE_PARTS_TABLE = '_pylon_state_parts';
export const STATE_PART_BYTES = 1428;
/**
 * The state as one gzip stream (Huffman coding only, see stateBlobs) cut into
 * binary parts of STATE_BLOB_BYTES (under DuckDB's 4 KiB, as above), one row
 * each: less than half the bytes of the base64 parts for the database to hold,
 * log and checkpoint. DuckDB keeps its state this way (Dialect.stateBlobs).
 */
export const STATE_BLOBS_TABLE = '_pylon_state_blobs';
export const STATE_BLOB_BYTES = 3000;
const STATE_PARTS_PER_STATEMENT = 256;

/** How a table's state is kept: base64 text parts, or gzip parts in a binary column. */
export type StateLayout = 'base64' | 'gzip';
/** Each layout's parts table and the word `_pylon_state.state` holds for it (`<word>:<count>`). */
const LAYOUTS: Record<StateLayout, { table: string; mark: string }> = {
  base64: { table: STATE_PARTS_TABLE, mark: 'parts' },
  gzip: { table: STATE_BLOBS_TABLE, mark: 'gzip' },
};
export const STATE_PARTS_TABLES = Object.values(LAYOUTS).map((layout) => layout.table);

/**
 * The tables a load keeps beside the loaded one, with the columns every load reads or writes (in order) and their kind
 * of type: a table changed by hand so that one is missing is refused as the run opens (loader.ts, refuseChangedBookkeeping).
 */
export const BOOKKEEPING_TABLES: ReadonlyArray<{
  table: string;
  noun: string;
  columns: ReadonlyArray<readonly [string, 'text' | 'bigint' | 'timestamp' | 'blob']>;
  aside: string[];
  then: string;
  /** Its rows are written by position (DuckDB's appender, STATE_BLOBS_TABLE): a column added by hand, or the columns in another order, stop the state's write. */
  byPosition?: boolean;
}> = [
  { table: LOADS_TABLE, noun: 'the load log', columns: LOADS_COLUMNS, aside: [LOADS_TABLE], then: 'the next load then makes a new one and stages every row once' },
  {
    table: COLUMNS_TABLE,
    noun: 'the record of which field each column holds',
    columns: [['table_name', 'text'], ['name', 'text'], ['source', 'text']],
    aside: [COLUMNS_TABLE],
    then: 'the next load then names the columns from the --state file or the last manifest and makes a new one',
  },
  ...[STATE_TABLE, ...STATE_PARTS_TABLES].map((table) => ({
    table,
    noun: 'the kept state',
    columns: table === STATE_TABLE ? ([['table_name', 'text'], ['run_id', 'text'], ['updated_at', 'timestamp'], ['state', 'text']] as const) : ([['table_name', 'text'], ['part', 'bigint'], ['data', table === STATE_BLOBS_TABLE ? 'blob' : 'text']] as const),
    aside: [STATE_TABLE, ...STATE_PARTS_TABLES],
    then: 'the next load then has no kept state: it stages every row and keeps a new one',
    byPosition: table === STATE_BLOBS_TABLE,
  })),
];
/**
 * What `_pylon_state.state` holds when the bytes are in a parts table:
 * `<word>:<count>` (base64 never has a colon); anything else is the whole
 * state in base64 (as the first versions wrote it). A word this version does
 * not know is a newer version's layout.
 */
const PARTS_MARK = /^([a-z][a-z0-9-]*):(\d+)$/;

/** The state table and the layout's parts table (`blob`: the dialect's binary type, for the gzip layout). */
export function stateTableDdl(target: LoadTarget, types: { text: string; timestamp: string; bigint: string; blob?: string }, layout: StateLayout, options: { index?: boolean } = {}): string[] {
  const { text, timestamp, bigint } = types;
  const data = layout === 'gzip' ? types.blob : text;
  const parts = LAYOUTS[layout].table;
  return [
    `CREATE TABLE IF NOT EXISTS ${tableRef(target, STATE_TABLE)} (table_name ${text} PRIMARY KEY, run_id ${text} NOT NULL, updated_at ${timestamp} NOT NULL, state ${text} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${tableRef(target, parts)} (table_name ${text} NOT NULL, part ${bigint} NOT NULL, data ${data} NOT NULL)`,
    // Idempotent, so a parts table made by an older version (without it) gets it on its next load. The index goes in the table's schema.
    ...(options.index ? [`CREATE INDEX IF NOT EXISTS ${quoteIdent(`${parts}_by_part`)} ON ${tableRef(target, parts)} (table_name, part)`] : []),
  ];
}

/** The bytes of `source` in pieces of exactly `size` (the last one shorter). */
async function* pieces(source: Uint8Array | AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let held = Buffer.alloc(0);
  for await (const chunk of source instanceof Uint8Array ? [source] : source) {
    held = held.length === 0 ? Buffer.from(chunk) : Buffer.concat([held, chunk]);
    let offset = 0;
    for (; held.length - offset >= size; offset += size) yield held.subarray(offset, offset + size);
    held = held.subarray(offset);
  }
  if (held.length > 0) yield held;
}

/** The state's bytes as the base64 texts of its parts, in order (a file's stream need not be in memory). */
export async function* stateParts(state: Uint8Array | AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  for await (const piece of pieces(state, STATE_PART_BYTES)) yield piece.toString('base64');
}

/**
 * How the state's gzip parts are compressed: Huffman coding only. The state is
 * mostly hex hashes and ids, which that alone halves, at a third of the CPU of
 * zlib's fastest level with matching (bench/RESULTS.md, bench:warehouse-duckdb-rss).
 *
 * Output in chunks of 256 KiB, not zlib's 16 KiB: each chunk is one more turn
 * of Node's zlib stream on the walk's thread. With 16 KiB, a CPU profile of a
 * 300,000-contact DuckDB first load gave 0.72 s to processChunk and
 * processCallback (node:zlib) on the walk's thread; with 256 KiB, 0.15 s and
 * under 0.09 s (two profiled runs side by side, load average about 20).
 */
const STATE_GZIP = { strategy: zlibConstants.Z_HUFFMAN_ONLY, chunkSize: 256 * 1024 } as const;

/** A state already gzip-compressed (stateGzipCopy): written as it is, in parts (TableLoader.writeState). */
export interface GzippedState {
  gzipped: AsyncIterable<Uint8Array>;
}

const isGzippedState = (state: unknown): state is GzippedState => typeof state === 'object' && state !== null && 'gzipped' in state;

/** The state's bytes gzip-compressed (or as they are, when they already are: a GzippedState), in parts of STATE_BLOB_BYTES, as `state` is read. */
export async function* stateBlobs(state: Uint8Array | AsyncIterable<Uint8Array> | GzippedState): AsyncGenerator<Buffer> {
  if (isGzippedState(state)) {
    yield* pieces(state.gzipped, STATE_BLOB_BYTES);
    return;
  }
  const gzip = pipeline(Readable.from(state instanceof Uint8Array ? [state] : state), createGzip(STATE_GZIP), () => {});
  yield* pieces(gzip, STATE_BLOB_BYTES);
}

/** The state's own bytes, whichever form it comes in (a GzippedState is uncompressed as it is read). */
export function stateBytes(state: Uint8Array | AsyncIterable<Uint8Array> | GzippedState): Uint8Array | AsyncIterable<Uint8Array> {
  return isGzippedState(state) ? pipeline(Readable.from(state.gzipped), createGunzip(), () => {}) : state;
}

/**
 * A gzip-compressed copy of the state (delta.ts StateCopy), made while the run
 * walks: the text the state writer writes goes through gzip (on libuv's thread
 * pool, beside the walk) into a scratch file, so a load that keeps its state in
 * gzip parts (DuckDB) only cuts that file into parts after the walk.
 * Compressing the whole state after the walk took 0.6 s of a 1M-contact DuckDB
 * load's merge. An abort leaves the file for the run's scratch cleanup.
 */
export function stateGzipCopy(path: string): StateCopy {
  const gzip = createGzip(STATE_GZIP);
  const file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  let failure: Error | undefined;
  const done = new Promise<void>((resolve) =>
    pipeline(gzip, file, (error) => {
      if (error) failure ??= error;
      resolve();
    }),
  );
  const failed = () => new PylonCliError('OUTPUT_WRITE', `Cannot write ${path} (the state's compressed copy for the load): ${failure!.message}`, { cause: failure });
  return {
    path,
    async write(text) {
      if (failure) throw failed();
      if (!gzip.write(text)) await drained(gzip);
      if (failure) throw failed();
    },
    async end() {
      if (failure) throw failed();
      gzip.end();
      await done;
      if (failure) throw failed();
    },
    abort() {
      failure ??= new Error('stopped');
      gzip.destroy();
    },
  };
}

/**
 * The statements around the parts of a state: the state row and each parts table's old rows for this table go first
 * (`clear`); the state row, saying the layout and how many parts there are, comes last. The row is replaced by a DELETE
 * and an INSERT, not `ON CONFLICT (table_name)`: a `_pylon_state` made again by hand without its primary key (CREATE
 * TABLE … AS SELECT) refused that with the database's own words after the whole walk; this needs no key, and leaves one
 * row for the table even where a copy made by hand held two.
 */
export function stateStatements(target: LoadTarget, runId: string, timestamp: string, layout: StateLayout): { clear: (table: string) => string; record: (count: number) => string } {
  const name = sqlString(target.table);
  return {
    clear: (table) => `DELETE FROM ${tableRef(target, table)} WHERE table_name = ${name}`,
    record: (count) =>
      `INSERT INTO ${tableRef(target, STATE_TABLE)} (table_name, run_id, updated_at, state) VALUES (${name}, ${sqlString(runId)}, CAST(${sqlString(new Date().toISOString())} AS ${timestamp}), ${sqlString(`${LAYOUTS[layout].mark}:${count}`)})`,
  };
}

/**
 * The statements that write this table's state as base64 parts (run in the
 * load's transaction after the old parts were cleared, `params` as `$1`…):
 * the parts are inserted STATE_PARTS_PER_STATEMENT at a time as `state` is
 * read, and the state row says how many there are. (A dialect that can
 * bulk-copy rows writes the parts with `copyStateParts` instead.)
 */
export async function* stateWrites(target: LoadTarget, runId: string, timestamp: string, state: Uint8Array | AsyncIterable<Uint8Array>): AsyncGenerator<{ sql: string; params?: string[] }> {
  const name = sqlString(target.table);
  const parts = tableRef(target, STATE_PARTS_TABLE);
  let count = 0;
  let batch: string[] = [];
  const insert = () => ({ sql: `INSERT INTO ${parts} (table_name, part, data) VALUES ${batch.map((_, i) => `(${name}, ${count - batch.length + i}, $${i + 1})`).join(', ')}`, params: batch });
  for await (const part of stateParts(state)) {
    batch.push(part);
    count += 1;
    if (batch.length === STATE_PARTS_PER_STATEMENT) {
      yield insert();
      batch = [];
    }
  }
  if (batch.length > 0) yield insert();
  yield { sql: stateStatements(target, runId, timestamp, 'base64').record(count) };
}

/**
 * Reads this table's kept state (undefined when there is none): the state row,
 * then its parts STATE_PARTS_PER_STATEMENT at a time. `rows` runs a query on
 * the load's connection; `exists` says whether a parts table is there. Missing
 * parts are a corrupt state (exit 2).
 */
export async function readKeptState(target: LoadTarget, rows: (sql: string) => Promise<Array<Record<string, unknown>>>, exists: (table: string) => Promise<boolean>): Promise<Buffer | undefined> {
  const buffers: Buffer[] = [];
  const found = await copyKeptState(target, rows, exists, async (bytes) => void buffers.push(bytes));
  return found ? Buffer.concat(buffers) : undefined;
}

/** A binary column's value as the client returns it: a Buffer (pg), or DuckDB's BLOB value holding `bytes`. */
const bytesOf = (value: unknown): Buffer => (value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : Buffer.from((value as { bytes: Uint8Array }).bytes));

/**
 * Like readKeptState, but hands the state's bytes to `write` as they are
 * read (into a file: the state, ~55 MB at 1M contacts, is never whole in
 * memory). Returns whether there was a state.
 */
export async function copyKeptState(
  target: LoadTarget,
  rows: (sql: string) => Promise<Array<Record<string, unknown>>>,
  exists: (table: string) => Promise<boolean>,
  write: (bytes: Buffer) => Promise<void>,
): Promise<boolean> {
  const name = sqlString(target.table);
  const stored = (await rows(`SELECT state FROM ${tableRef(target, STATE_TABLE)} WHERE table_name = ${name}`))[0]?.state;
  if (stored === undefined || stored === null) return false;
  const mark = PARTS_MARK.exec(String(stored));
  if (!mark) {
    await write(Buffer.from(String(stored), 'base64'));
    return true;
  }
  const corrupt = (what: string) =>
    new ConfigError('INPUT_UNREADABLE', `Invalid option \`--to\`: the state kept in ${target.display} (table ${STATE_TABLE}) ${what} (corrupt); delete its row to start again with a full export`, { option: '--to' });
  const layout = (Object.keys(LAYOUTS) as StateLayout[]).find((key) => LAYOUTS[key].mark === mark[1]);
  if (layout === undefined) {
    throw new ConfigError(
      'INPUT_UNREADABLE',
      `Invalid option \`--to\`: the state kept in ${target.display} (table ${STATE_TABLE}) was written by a newer version of pylon-contacts (layout ${mark[1]}; this version reads ${Object.values(LAYOUTS).map((l) => l.mark).join(' and ')}); upgrade, or delete its row to start again with a full export`,
      { option: '--to' },
    );
  }
  const { table } = LAYOUTS[layout];
  const count = Number(mark[2]);
  const present = await exists(table);
  /** The parts' bytes as stored, a statement's parts at a time, in order. */
  async function* storedParts() {
    for (let first = 0; first < count; first += STATE_PARTS_PER_STATEMENT) {
      const last = Math.min(count, first + STATE_PARTS_PER_STATEMENT) - 1;
      const found = present ? await rows(`SELECT part, data FROM ${tableRef(target, table)} WHERE table_name = ${name} AND part BETWEEN ${first} AND ${last} ORDER BY part`) : [];
      const missing = Array.from({ length: last - first + 1 }, (_, i) => first + i).find((part, i) => Number(found[i]?.part) !== part);
      if (missing !== undefined || found.length !== last - first + 1) throw corrupt(`lacks part ${missing ?? last} of ${count} in ${table}`);
      yield layout === 'base64' ? Buffer.concat(found.map((row) => Buffer.from(String(row.data), 'base64'))) : Buffer.concat(found.map((row) => bytesOf(row.data)));
    }
  }
  if (layout === 'base64') {
    for await (const bytes of storedParts()) await write(bytes);
    return true;
  }
  try {
    for await (const bytes of pipeline(Readable.from(storedParts()), createGunzip(), () => {})) await write(bytes as Buffer);
  } catch (error) {
    if (error instanceof PylonCliError) throw error;
    throw corrupt(`has parts in ${table} that do not unpack (${(error as Error).message})`);
  }
  return true;
}

export interface LoaderInput {
  target: LoadTarget;
  columns: readonly TypedColumn[];
  /** Leave table columns this export no longer has (their values stay NULL for new rows). */
  allowSchemaChange: boolean;
  /** Where DuckDB writes its staging file, and looks for those a killed run left (swept). */
  tempDir: string;
  /** Where to write the table's kept state when the load opens (a scratch file of the run): it is then not held in memory. Without it, readState() returns it from memory. */
  keptStatePath?: string;
  /**
   * The run's baseline will be the table's kept state (no --state file, no --since): the load then reads, as it opens,
   * whether the table still matches that state (a count of its live rows and its last load), for stageChangesOnly.
   * Without it the table itself is not read before the merge.
   */
  changesOnly?: boolean;
  /**
   * The run's id and start (as merge() will get them), when known at open: a first load into a new table can then copy its rows straight in,
   * and a load refused as it opens is logged as failed under them (with the schema hash, as merge() would log it).
   */
  run?: { runId: string; extractedAt: string; schemaHash?: string };
  /** Receives each piece of COPY text of the rows a PostgreSQL load stages (copy-digest.ts hashes the values from it). */
  onCopyText?: (text: string, bytes: Uint8Array) => void;
  /** Called with the id of each row a PostgreSQL load stages whose text held a NUL (U+0000), stored as U+FFFD (copy-text.ts). */
  onNul?: (id: string) => void;
  /**
   * The table's last committed load when the run began, before it read its baseline (lastCommittedLoad): a merge that finds
   * another load committed since (an overlapping run of the pipeline) fails LOAD_FAILED, nothing published.
   */
  lastCommitted?: { runId: string | undefined };
}

/** Bookkeeping columns every loaded table has beside the data columns. */
export const META_COLUMNS = ['_row_hash', '_run_id', '_extracted_at', '_deleted_at'] as const;

/** A load error; the message never holds the password (the driver's error is not kept as the cause, since it may). */
export function loadError(code: ErrorCode, target: LoadTarget, message: string): PylonCliError {
  const safe = (text: string) => (target.kind === 'postgresql' && target.password ? text.replaceAll(target.password, '***') : text);
  return new PylonCliError(code, safe(`Cannot load into ${target.display}: ${redactUrl(message)}`));
}

/** A SQL string literal. */
export const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** The types of one database: as a CREATE TABLE writes them, and as its catalog reports them back. */
export interface ColumnTypes {
  /** The column's type in a CREATE/ALTER (an id list needs its column for its fields). */
  ddl(kind: ColumnKind, column?: TypedColumn): string;
  /** The type as the catalog reports it back, compared case-insensitively. */
  reported(kind: ColumnKind, column?: TypedColumn): string;
}

/** Where each export column goes in the table, and what the load changes first. */
export interface TablePlan {
  /** The table column of each export column (a typed variant after an incompatible type change). */
  targets: string[];
  /** The type to cast each staged value to (a wider table column), or undefined. */
  casts: Array<string | undefined>;
  /** Columns a variant took over: set to NULL in rows this load writes, so no row holds two values. */
  cleared: string[];
  /** Statements to run in the load's transaction, before the merge. */
  alterations: Array<{ kind: 'add' | 'widen' | 'variant' | 'nullable'; column: string; type: string; from?: string }>;
  /** The changes in words, for the load log. */
  changes: string[];
  /** Table columns this export does not write (kept with --allow-schema-change): a rewritten row must keep their values. */
  kept: string[];
  /**
   * A field's other columns in the table, beside the one this load writes (`target`): its base column and typed variants
   * of other types, left by earlier type changes (select → multiselect → select). They are the field's, never extra
   * columns; when one still holds a live value (the field's values were there last night), the loader clears them and
   * rewrites every row (`refill`), since rows whose hash did not change would keep the target column stale.
   */
  siblings: Array<{ source: string; target: string; others: string[] }>;
  /** Every row is rewritten: a field's values move back from a sibling column (siblings). */
  refill?: boolean;
}

/** A type change a column can take in place: anything scalar → text, integer → decimal. */
const widens = (from: ColumnKind, to: ColumnKind) => (to === 'string' && from !== 'string_list') || (from === 'integer' && to === 'decimal');

/** `custom_seats__v_string`: the column that holds a field's values after an incompatible type change. */
export const variantName = (column: TypedColumn) => fitName(column.name, column.source, `__v_${column.kind}`);

/** The kind of value a column of a type this tool never writes (changed by hand) holds, by the type's name; undefined when it cannot tell (a list, a struct). */
function handTypeKind(type: string): ColumnKind | undefined {
  const t = type.toLowerCase();
  if (/\[\]|list|struct|json|map|\(.*,.*\)\s*\[/.test(t) && !/numeric|decimal/.test(t)) return undefined;
  if (/char|text|string/.test(t)) return 'string';
  if (/bool/.test(t)) return 'boolean';
  if (/timestamp|datetime/.test(t)) return 'timestamp';
  if (/^date$/.test(t)) return 'date';
  if (/int/.test(t) && !/interval/.test(t)) return 'integer';
  if (/float|double|real|numeric|decimal/.test(t)) return 'decimal';
  return undefined;
}

/**
 * Compares an existing table's columns (name → type as the catalog reports it)
 * with the export's, and decides how the load goes on: new columns are added;
 * a changed type stops the load unless `allowSchemaChange`, which widens the
 * column in place (number → text), loads into a column that is already wider,
 * or adds a typed variant column beside it. Throws LOAD_TABLE_CONFLICT naming
 * the field, both types and the flag.
 */
export function planTable(
  target: LoadTarget,
  table: string,
  columns: readonly TypedColumn[],
  existing: ReadonlyMap<string, string>,
  types: ColumnTypes,
  allowSchemaChange: boolean,
  notNull: ReadonlySet<string> = new Set(),
  accepted: ReadonlySet<string> = new Set(),
): TablePlan {
  const plan: TablePlan = { targets: columns.map((c) => c.name), casts: columns.map(() => undefined), cleared: [], alterations: [], changes: [], kept: [], siblings: [] };
  if (existing.size === 0) return plan;
  const kindOf = new Map<string, ColumnKind>();
  for (const kind of ['string', 'string_list', 'integer', 'decimal', 'boolean', 'date', 'timestamp'] as const) kindOf.set(types.reported(kind).toLowerCase(), kind);
  const problems: string[] = [];
  const meta: Record<(typeof META_COLUMNS)[number], ColumnKind> = { _row_hash: 'string', _run_id: 'string', _extracted_at: 'timestamp', _deleted_at: 'timestamp' };
  for (const [name, kind] of Object.entries(meta)) {
    const have = existing.get(name);
    if (have === undefined) problems.push(`it has no ${name} column (not a table this tool loaded)`);
    else if (have.toLowerCase() !== types.reported(kind).toLowerCase()) problems.push(`column ${name} is ${have}, the loader's is ${types.reported(kind)}`);
  }
  const used = new Set<string>(META_COLUMNS);
  columns.forEach((column, i) => {
    used.add(column.name);
    const want = types.reported(column.kind, column);
    const have = existing.get(column.name);
    if (have === undefined) {
      plan.alterations.push({ kind: 'add', column: column.name, type: types.ddl(column.kind, column) });
      // A new field, or a column dropped by hand: either way no row holds its values, and a row whose hash is unchanged would never get them (rewritesEveryRow).
      plan.changes.push(`added column ${column.name}; every row was rewritten to fill it`);
      return;
    }
    if (have.toLowerCase() === want.toLowerCase()) return;
    const variant = variantName(column);
    const tableKind = kindOf.get(have.toLowerCase());
    if (column.name !== 'id' && existing.get(variant)?.toLowerCase() === want.toLowerCase()) {
      // An earlier load already added the variant: keep loading into it.
      plan.targets[i] = variant;
      plan.cleared.push(column.name);
      used.add(variant);
      return;
    }
    const what = `${column.source === column.name ? `column ${column.name}` : `field ${column.source} (column ${column.name})`}: the table's type is ${have}${tableKind ? ` (${typeLabel(tableKind)})` : ''}, the export's is ${want} (${typeLabel(column.kind)})`;
    if (column.name === 'id') {
      problems.push(`column id is ${have}, the export's is ${want}`);
      return;
    }
    /** The table's column is wider than the export's kind (`kind`, DDL `type`): the values are cast into it as they are. */
    const loadWider = (kind: ColumnKind, type: string) => {
      plan.casts[i] = type;
      plan.changes.push(`loaded ${column.source} (${typeLabel(column.kind)}) into the wider ${typeLabel(kind)} column ${column.name}`);
    };
    /** The values go into a typed variant column from now on; the column (of `kind`, DDL `type`) is made nullable. */
    const addVariant = (kind: ColumnKind, type: string) => {
      if (existing.has(variant)) {
        problems.push(`${what}; its variant column ${variant} is ${existing.get(variant)}`);
        return;
      }
      plan.targets[i] = variant;
      plan.cleared.push(column.name);
      used.add(variant);
      plan.alterations.push({ kind: 'variant', column: variant, type: types.ddl(column.kind, column) }, { kind: 'nullable', column: column.name, type });
      plan.changes.push(`added variant column ${variant} (${typeLabel(column.kind)}) for ${column.source}; ${column.name} (${typeLabel(kind)}) is NULL in rows loaded from now on`);
    };
    if (tableKind === undefined) {
      // A type this tool never writes: changed by hand (INTEGER, TIMESTAMP without a zone, varchar(255)). Converted back in place, its values cast; the load then compares the column by value (mergeComparedColumns), so each row whose cast value differs from Pylon's is rewritten.
      if (!allowSchemaChange) {
        problems.push(`${what}, a type this tool does not write (changed by hand?); pass --allow-schema-change to convert the column back to ${want} (its values cast, then compared with Pylon's and rewritten where they differ), or change it back yourself`);
        return;
      }
      const held = handTypeKind(have);
      if (held === undefined || held === column.kind || widens(held, column.kind)) {
        plan.alterations.push({ kind: 'widen', column: column.name, type: types.ddl(column.kind, column), from: have });
        plan.changes.push(`converted ${column.name} (${column.source}) from ${have}, a type this tool does not write, back to ${typeLabel(column.kind)}`);
        return;
      }
      // Its values are of another kind than the export's now (Pylon changed the field's type too: varchar(255) text, a number now), which a
      // cast to the export's type would refuse or mangle: back to this tool's type for what it holds, then loaded as into any such column.
      const back = types.ddl(held);
      plan.alterations.push({ kind: 'widen', column: column.name, type: back, from: have });
      plan.changes.push(`converted ${column.name} (${column.source}) from ${have}, a type this tool does not write, back to ${typeLabel(held)}`);
      if (widens(column.kind, held)) loadWider(held, back);
      else addVariant(held, back);
      return;
    }
    if (widens(column.kind, tableKind)) {
      // The table's column is already wider (a number field that was text, loaded with the flag once): the values fit as they are, so no flag is needed, as for a variant column an earlier load added.
      loadWider(tableKind, types.ddl(tableKind));
      return;
    }
    if (!allowSchemaChange) {
      problems.push(`${what}; pass --allow-schema-change to widen the column or add a typed variant column`);
      return;
    }
    if (widens(tableKind, column.kind)) {
      plan.alterations.push({ kind: 'widen', column: column.name, type: types.ddl(column.kind, column), from: have });
      plan.changes.push(`widened ${column.name} (${column.source}) from ${typeLabel(tableKind)} to ${typeLabel(column.kind)}`);
    } else addVariant(tableKind, have);
  });
  columns.forEach((column, i) => {
    if (column.name === 'id') return;
    const target = plan.targets[i]!;
    // A variant this load adds: every row is written anyway, and the column it takes over is cleared already.
    if (plan.alterations.some((a) => a.kind === 'variant' && a.column === target)) return;
    const family = [column.name, ...COLUMN_KINDS.map((kind) => variantName({ ...column, kind }))];
    const others = [...new Set(family)].filter((name) => name !== target && existing.has(name));
    for (const name of others) used.add(name);
    if (others.length > 0) plan.siblings.push({ source: column.source, target, others });
  });
  const extra = [...existing.keys()].filter((name) => !used.has(name));
  plan.kept = extra;
  // A column an earlier committed load kept with the flag (keptColumnsAccepted) needs it no more: the accepted change sticks, and is recorded once.
  const fresh = extra.filter((name) => !accepted.has(name));
  if (allowSchemaChange || fresh.length === 0) {
    for (const name of fresh) plan.changes.push(keptColumnChange(name));
    // A kept column the export no longer fills (a deleted list field, a column renamed by hand) gets no value in the rows inserted from now on: NOT NULL would refuse each of them, night after night.
    for (const name of extra) {
      if (!notNull.has(name)) continue;
      plan.alterations.push({ kind: 'nullable', column: name, type: existing.get(name)! });
      plan.changes.push(`made column ${name} nullable: the export no longer fills it`);
    }
  }
  if (fresh.length > 0 && !allowSchemaChange) problems.push(`it has column${fresh.length > 1 ? 's' : ''} ${fresh.join(', ')} that this export does not (pass --allow-schema-change to keep loading without them)`);
  if (problems.length > 0) throw loadError('LOAD_TABLE_CONFLICT', target, `table ${table} does not match the export: ${problems.join('; ')}`);
  return plan;
}

/** The load log's record of a column kept with --allow-schema-change (a deleted field's, one renamed by hand); keptColumnsAccepted reads it back. */
const keptColumnChange = (name: string) => `kept column ${name}, which the export no longer fills (later loads keep it without --allow-schema-change)`;
const KEPT_COLUMN = /kept column (.+?), which the export no longer fills/g;

/** The columns the table's committed loads kept with --allow-schema-change (their `schema_changes` in the load log): planTable's `accepted`. */
export async function keptColumnsAccepted(target: LoadTarget, rows: (sql: string) => Promise<Array<Record<string, unknown>>>): Promise<Set<string>> {
  const logged = await rows(`SELECT schema_changes FROM ${tableRef(target, LOADS_TABLE)} WHERE table_name = ${sqlString(target.table)} AND status = 'committed' AND schema_changes LIKE '%kept column %'`);
  return new Set(logged.flatMap((row) => [...String(row.schema_changes).matchAll(KEPT_COLUMN)].map((m) => m[1]!)));
}

/**
 * Whether the merge must write every staged row whatever its hash says: a
 * column the load adds (a new field, or one dropped from the table by hand)
 * or a variant column is empty in every row, and rows whose hash matches the
 * table's (the values did not change in Pylon) would otherwise keep it empty
 * night after night.
 */
export function rewritesEveryRow(plan: TablePlan): boolean {
  return plan.refill === true || plan.alterations.some((a) => a.kind === 'add' || a.kind === 'variant');
}

const COLUMN_KINDS: readonly ColumnKind[] = ['string', 'string_list', 'integer', 'decimal', 'boolean', 'date', 'timestamp', 'id_list'];

/**
 * The siblings (TablePlan.siblings) that still hold a live value: `holds(columns)` says whether any live row has one of
 * them set. Those are cleared in the rows this load writes, and every row is rewritten, so each field's values are in the
 * column this load writes and nowhere else. One query per such field, only for tables with such columns.
 */
export async function planRefill(plan: TablePlan, holds: (columns: readonly string[]) => Promise<boolean>): Promise<void> {
  for (const { source, target, others } of plan.siblings) {
    if (!(await holds(others))) continue;
    for (const name of others) if (!plan.cleared.includes(name)) plan.cleared.push(name);
    plan.refill = true;
    plan.changes.push(`${source} is loaded into ${target} again; its values were in ${others.join(', ')}, cleared in every row, which was rewritten`);
  }
}

/** The plan's ALTER TABLE statements; `widen(table, column, type)` is the dialect's in-place type change. */
export function alterStatements(table: string, plan: TablePlan, widen: (table: string, column: string, type: string) => string): string[] {
  return plan.alterations.map((a) => {
    if (a.kind === 'widen') return widen(table, quoteIdent(a.column), a.type);
    if (a.kind === 'nullable') return `ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(a.column)} DROP NOT NULL`;
    return `ALTER TABLE ${table} ADD COLUMN ${quoteIdent(a.column)} ${a.type}`;
  });
}

/**
 * The INSERT of every staged row, for a table this load created (it is
 * empty, so no row is looked for).
 */
export function insertAllStatement(table: string /* quoted, see tableRef */, stage: string, columns: readonly TypedColumn[], input: MergeInput, timestampType: string, plan?: TablePlan): string {
  return mergeParts(table, stage, columns, input, timestampType, plan).insertInto;
}

/** The pieces every merge writes: the table's columns, the staged values (cast where the table's column is wider), the bookkeeping values, and the INSERT of staged rows (`s`) before its WHERE. */
function mergeParts(table: string, stage: string, columns: readonly TypedColumn[], input: MergeInput, timestampType: string, plan: TablePlan | undefined) {
  const targets = columns.map((c, i) => quoteIdent(plan?.targets[i] ?? c.name));
  const values = columns.map((c, i) => {
    const cast = plan?.casts[i];
    return cast ? `CAST(s.${quoteIdent(c.name)} AS ${cast})` : `s.${quoteIdent(c.name)}`;
  });
  const cleared = (plan?.cleared ?? []).map(quoteIdent);
  const at = `CAST(${sqlString(input.extractedAt)} AS ${timestampType})`;
  const run = sqlString(input.runId);
  const insertInto = `INSERT INTO ${table} (${targets.join(', ')}, "_row_hash", "_run_id", "_extracted_at", "_deleted_at") SELECT ${values.join(', ')}, s."_row_hash", ${run}, ${at}, NULL FROM ${stage} s`;
  // A changed row rewritten in place from the staged row `s` (with `--columns id` there is no column to set but the bookkeeping ones).
  const sets = targets.map((n, i) => `${n} = ${values[i]}`).filter((_, i) => columns[i]!.name !== 'id');
  const assignments = [...sets, ...cleared.map((n) => `${n} = NULL`), `"_row_hash" = s."_row_hash"`, `"_run_id" = ${run}`, `"_extracted_at" = ${at}`, `"_deleted_at" = NULL`].join(', ');
  return { at, run, insertInto, assignments };
}

/**
 * The columns a merge compares by value besides `_row_hash`: every one but
 * `id` with MergeInput.compareValues, else the ones the load widened (a column
 * narrowed by hand and widened back holds rounded values whose hashes match).
 * `table` and `staged` are the subselects' columns (quoted); `differ(x, s)` is
 * the condition that a row of `x` differs from the staged row `s`.
 */
function comparedColumns(columns: readonly TypedColumn[], input: MergeInput, plan: TablePlan) {
  const widened = new Set(plan.alterations.filter((a) => a.kind === 'widen').map((a) => a.column));
  const picked = columns.map((c, i) => ({ c, i })).filter(({ c, i }) => c.name !== 'id' && (input.compareValues || widened.has(plan.targets[i] ?? c.name)));
  const target = (i: number) => quoteIdent(plan.targets[i] ?? columns[i]!.name);
  const value = (s: string, i: number) => {
    const cast = plan.casts[i];
    return cast ? `CAST(${s}.${quoteIdent(columns[i]!.name)} AS ${cast})` : `${s}.${quoteIdent(columns[i]!.name)}`;
  };
  return {
    table: picked.map(({ i }) => `, ${target(i)}`).join(''),
    staged: picked.map(({ c }) => `, ${quoteIdent(c.name)}`).join(''),
    differ: (x: string, s: string) => picked.map(({ i }) => ` OR ${x}.${target(i)} IS DISTINCT FROM ${value(s, i)}`).join(''),
  };
}

/** A merge as the loader runs it: `prepare` first, then each step (its count reported), then `cleanup`. */
export interface MergeSql {
  prepare: string[];
  /** Rewrites the changed rows; its count is `updated` (unless `updatedCount`). Absent: nothing to update (a new table). */
  update?: string;
  /** A query (`n`) giving `updated` when `update`'s own count is rows of the table, which may be more than the staged rows they stand for (ids a table holds twice). */
  updatedCount?: string;
  /**
   * Statements (run after the merge) that replace every live row of an id the table holds more than once by its staged row:
   * a row inserted by hand with an id the table had (DuckDB's table has no key to refuse it; a PostgreSQL table whose key was dropped by hand). Run only when the table has
   * more live rows than the merge can account for; `dedupeCount` (a query, `n`) is then added to `updated`.
   */
  dedupe?: string[];
  dedupeCount?: string;
  /** A query (`n`), run before `remove`, giving `deleted` when `remove`'s own count is rows, which may be more than the contacts they stand for (ids a table holds twice). */
  deletedCount?: string;
  /** Inserts the new rows; with `insertRewrites`, the changed rows that `update` deleted too (its count less `updated` is `inserted`). */
  insert: string;
  insertRewrites?: boolean;
  /** Marks (or deletes) the rows whose id was not staged. Absent: nothing to remove (a new table). */
  remove?: string;
  cleanup: string[];
}

/**
 * The merge for a database that should not join two wide tables (DuckDB, in
 * a capped memory): one join on ids and hashes only sorts every row into a
 * small `diff` table (the staged row's and the table row's rowid, and `i`
 * new, `u` changed or `d` gone); then the changed rows are deleted and
 * inserted again from the staged rows with the new ones (no wide join
 * anywhere), and the gone ones marked by rowid. `stage` is a table or a
 * relation with a `rowid` column (DuckDB's staged Parquet file). When the table keeps columns
 * this export does not write, changed rows are updated in place instead
 * (a rewrite would lose those values). A table the load created is not
 * merged (the loader inserts its rows). Rowids are stable inside the one
 * transaction this runs in.
 */
export function diffMergeStatements(table: string, stage: string, diff: string, columns: readonly TypedColumn[], input: MergeInput, timestampType: string, plan: TablePlan, keep?: string): MergeSql {
  const t = table;
  const { at, run, insertInto, assignments } = mergeParts(table, stage, columns, input, timestampType, plan);
  // A new (or re-added) column or variant column is empty: every row is written once, whatever its hash says. IS DISTINCT FROM, not <>, in every merge: a row whose hash was set NULL by hand is rewritten (`NULL <> h` is unknown, never true).
  const compared = comparedColumns(columns, input, plan);
  const changed = rewritesEveryRow(plan) ? 'TRUE' : `(x."_row_hash" IS DISTINCT FROM s."_row_hash" OR x."_deleted_at" IS NOT NULL${compared.differ('x', 's')})`;
  const gone = (input.hardDelete ? 's."id" IS NULL' : 's."id" IS NULL AND x."_deleted_at" IS NULL') + (keep ? ` AND x."id" NOT IN (SELECT "id" FROM ${keep})` : '');
  const prepare = [
    // Two threads each building a row group of wide rows in the INSERT outgrew a 128 MB cap when every row changed (a new column changes every hash).
    'SET threads = 1',
    `CREATE TEMP TABLE ${diff} AS SELECT s.rowid AS srid, x.rowid AS trid, CASE WHEN x."id" IS NULL THEN 'i' WHEN s."id" IS NULL THEN 'd' ELSE 'u' END AS op ` +
      `FROM (SELECT rowid, "id", "_row_hash"${compared.staged} FROM ${stage}) s FULL JOIN (SELECT rowid, "id", "_row_hash", "_deleted_at"${compared.table} FROM ${t}) x ON x."id" = s."id" ` +
      `WHERE x."id" IS NULL OR (${gone}) OR (s."id" IS NOT NULL AND ${changed})`,
  ];
  const rows = (ops: string) => `(SELECT srid FROM ${diff} WHERE op IN (${ops}))`;
  const mine = (op: string) => `rowid IN (SELECT trid FROM ${diff} WHERE op = '${op}')`;
  const remove = input.hardDelete ? `DELETE FROM ${t} WHERE ${mine('d')}` : `UPDATE ${t} SET "_deleted_at" = ${at}, "_extracted_at" = ${at}, "_run_id" = ${run} WHERE ${mine('d')}`;
  const cleanup = [`DROP TABLE ${diff}`, 'RESET threads'];
  // A table row per changed id, unless the table holds an id twice (inserted by hand): both rows are rewritten, one contact updated.
  const updatedCount = `SELECT count(DISTINCT srid) AS n FROM ${diff} WHERE op = 'u'`;
  // Ids the table holds more than once among its live rows, left by the merge because their hash matched (a row inserted by hand).
  const dupes = quoteIdent(`${diff.replaceAll('"', '')}_dupes`);
  const findDupes = `CREATE TEMP TABLE ${dupes} AS SELECT "id" FROM ${t} WHERE "_deleted_at" IS NULL GROUP BY "id" HAVING count(*) > 1`;
  // The contacts repaired that the merge did not count updated already (one of their rows changed: a soft-deleted one back, say).
  const dedupeCount = `SELECT count(*) AS n FROM ${dupes} WHERE "id" IN (SELECT "id" FROM ${stage}) AND "id" NOT IN (SELECT "id" FROM ${stage} WHERE rowid IN ${rows(`'u'`)})`;
  const dedupeCleanup = [...cleanup, `DROP TABLE IF EXISTS ${dupes}`];
  // A contact gone from Pylon whose id the table holds twice is one contact deleted (the change log's one delete), not two.
  const deletedCount = `SELECT count(DISTINCT "id") AS n FROM ${t} WHERE ${mine('d')}`;
  if (plan.kept.length > 0) {
    const update =
      `UPDATE ${t} SET ${assignments} ` +
      `FROM (SELECT * FROM ${stage} WHERE rowid IN ${rows(`'u'`)}) s WHERE ${t}."id" = s."id"`;
    // Rows are not rewritten here (they hold the kept columns' values): one live row of each such id stays, updated from Pylon's.
    const dedupe = [
      findDupes,
      `DELETE FROM ${t} WHERE "_deleted_at" IS NULL AND "id" IN (SELECT "id" FROM ${dupes}) AND "id" IN (SELECT "id" FROM ${stage}) AND rowid NOT IN (SELECT min(rowid) FROM ${t} WHERE "_deleted_at" IS NULL GROUP BY "id")`,
      `UPDATE ${t} SET ${assignments} FROM (SELECT * FROM ${stage} WHERE "id" IN (SELECT "id" FROM ${dupes})) s WHERE ${t}."id" = s."id" AND ${t}."_deleted_at" IS NULL`,
    ];
    return { prepare, update, updatedCount, insert: `${insertInto} WHERE s.rowid IN ${rows(`'i'`)}`, remove, dedupe, dedupeCount, deletedCount, cleanup: dedupeCleanup };
  }
  // All their live rows go, and the staged row comes back once.
  const dedupe = [
    findDupes,
    `DELETE FROM ${t} WHERE "_deleted_at" IS NULL AND "id" IN (SELECT "id" FROM ${dupes}) AND "id" IN (SELECT "id" FROM ${stage})`,
    `${insertInto} WHERE s."id" IN (SELECT "id" FROM ${dupes})`,
  ];
  return { prepare, update: `DELETE FROM ${t} WHERE ${mine('u')}`, updatedCount, insert: `${insertInto} WHERE s.rowid IN ${rows(`'i', 'u'`)}`, insertRewrites: true, remove, dedupe, dedupeCount, deletedCount, cleanup: dedupeCleanup };
}

/**
 * The merge for a database that updates rows in place (PostgreSQL): one full
 * join of the staged and the table's ids and hashes sorts the rows that need
 * anything into a small `diff` table of ids (`i` new, `u` changed or marked
 * deleted, `d` gone) with the staged row's ctid, then each step touches only
 * those rows: update the changed rows from the staged ones (fetched by ctid),
 * insert the new ones (by ctid), mark (or delete) the gone ones (by id). One pass over both tables instead of one per step, and no
 * need for a key on `id`: a table made or changed by hand without one merges
 * the same way (the update and remove find their rows by a hash join on the
 * small diff). The update keeps its own hash test; an id such a table holds
 * more than once (rows inserted by hand once the key was dropped) is repaired
 * after the merge (`dedupe`): one live row kept, written from Pylon's, the
 * others deleted, so the table again holds one row per contact, as a DuckDB
 * table's merge leaves it.
 */
export function idDiffMergeStatements(table: string, stage: string, diff: string, columns: readonly TypedColumn[], input: MergeInput, timestampType: string, plan: TablePlan, keep?: string): MergeSql {
  const t = table;
  const { at, run, insertInto, assignments } = mergeParts(table, stage, columns, input, timestampType, plan);
  // A new (or re-added) column or variant column is empty: every row is written once, whatever its hash says.
  const rewriteAll = rewritesEveryRow(plan);
  const compared = comparedColumns(columns, input, plan);
  const changed = (x: string) => (rewriteAll ? 'TRUE' : `(${x}."_row_hash" IS DISTINCT FROM s."_row_hash" OR ${x}."_deleted_at" IS NOT NULL${compared.differ(x, 's')})`);
  // Contacts Pylon still has that the run could not export (`keep`) are never gone.
  const gone = (input.hardDelete ? 's."id" IS NULL' : 's."id" IS NULL AND x."_deleted_at" IS NULL') + (keep ? ` AND NOT EXISTS (SELECT 1 FROM ${keep} k WHERE k."id" = x."id")` : '');
  const ids = (op: string) => `(SELECT "id" FROM ${diff} WHERE op = '${op}')`;
  // The staged rows by their ctid (a TID scan, not a scan of every staged row): the staging table is this session's and does not change during the merge.
  const staged = (op: string) => `ctid = ANY (ARRAY(SELECT srow FROM ${diff} WHERE op = '${op}'))`;
  const prepare = [
    `CREATE TEMP TABLE ${diff} AS SELECT s.ctid AS srow, COALESCE(s."id", x."id") AS "id", CASE WHEN x."id" IS NULL THEN 'i' WHEN s."id" IS NULL THEN 'd' ELSE 'u' END AS op ` +
      `FROM (SELECT ctid, "id", "_row_hash"${compared.staged} FROM ${stage}) s FULL JOIN (SELECT "id", "_row_hash", "_deleted_at"${compared.table} FROM ${t}) x ON x."id" = s."id" ` +
      `WHERE x."id" IS NULL OR (${gone}) OR (s."id" IS NOT NULL AND ${changed('x')})`,
    `ANALYZE ${diff}`,
  ];
  const update =
    `UPDATE ${t} SET ${assignments} ` +
    `FROM (SELECT * FROM ${stage} WHERE ${staged('u')}) s WHERE ${t}."id" = s."id"` +
    (rewriteAll ? '' : ` AND ${changed(t)}`);
  const insert = `${insertInto} WHERE s.${staged('i')}`;
  const remove = input.hardDelete
    ? `DELETE FROM ${t} WHERE "id" IN ${ids('d')}`
    : `UPDATE ${t} SET "_deleted_at" = ${at}, "_extracted_at" = ${at}, "_run_id" = ${run} WHERE "_deleted_at" IS NULL AND "id" IN ${ids('d')}`;
  // A table whose primary key was dropped by hand may hold an id twice (rows inserted by hand): the update and remove touch both rows, one contact each.
  const updatedCount = `SELECT count(DISTINCT "id") AS n FROM ${diff} WHERE op = 'u'`;
  const deletedCount = `SELECT count(DISTINCT "id") AS n FROM ${diff} WHERE op = 'd'`;
  // Ids held by more than one live row after the merge (their hashes matched): one row each is kept (a column the export does not write keeps its value), updated from Pylon's.
  const dupes = quoteIdent(`${diff.replaceAll('"', '')}_dupes`);
  const dedupe = [
    `CREATE TEMP TABLE ${dupes} AS SELECT "id" FROM ${t} WHERE "_deleted_at" IS NULL GROUP BY "id" HAVING count(*) > 1`,
    `DELETE FROM ${t} WHERE ctid = ANY (ARRAY(SELECT ctid FROM (SELECT ctid, row_number() OVER (PARTITION BY "id" ORDER BY ctid) AS n FROM ${t} ` +
      `WHERE "_deleted_at" IS NULL AND "id" IN (SELECT "id" FROM ${dupes}) AND "id" IN (SELECT "id" FROM ${stage})) r WHERE n > 1))`,
    `UPDATE ${t} SET ${assignments} FROM (SELECT * FROM ${stage} WHERE "id" IN (SELECT "id" FROM ${dupes})) s WHERE ${t}."id" = s."id" AND ${t}."_deleted_at" IS NULL`,
  ];
  // The contacts repaired that the merge did not count updated already.
  const dedupeCount = `SELECT count(*) AS n FROM ${dupes} WHERE "id" IN (SELECT "id" FROM ${stage}) AND "id" NOT IN (SELECT "id" FROM ${diff} WHERE op = 'u')`;
  return { prepare, update, updatedCount, insert, remove, dedupe, dedupeCount, deletedCount, cleanup: [`DROP TABLE ${diff}`, `DROP TABLE IF EXISTS ${dupes}`] };
}

/**
 * The merge of a load that staged only the new and changed rows (the table
 * matched its kept state, TableLoader.stageChangesOnly), in the MergeSql
 * shape the loader runs: one join of the few staged ids and hashes against
 * the table's sorts them into a small `diff` table (`i` new, `u` changed or
 * coming back after a soft delete); the changed rows are updated in place
 * (`in-place`, PostgreSQL: staged rows fetched by ctid) or deleted and
 * inserted again with the new ones (`rewrite`, DuckDB: table rows by rowid,
 * staged rows by the Parquet file's row number; in place when the table keeps
 * columns this export does not write); then the rows whose ids are in `gone`
 * (the delta's deleted ids) are marked deleted. With `--hard-delete` they are
 * deleted, and so are rows an earlier night marked deleted that were not
 * staged, as the full merge deletes every row not staged (`keep` spares the
 * contacts the run could not export, as there). No step reads a row that was
 * not staged, except the one id-and-hash pass the join makes.
 */
export function changesMergeStatements(
  table: string,
  stage: string,
  names: { diff: string; gone: string; keep?: string },
  columns: readonly TypedColumn[],
  input: MergeInput,
  timestampType: string,
  plan: TablePlan,
  style: 'in-place' | 'rewrite',
): MergeSql {
  const t = table;
  const { diff, gone, keep } = names;
  const { at, run, insertInto, assignments } = mergeParts(table, stage, columns, input, timestampType, plan);
  const rowid = style === 'rewrite' ? 'rowid' : 'ctid';
  const changed = (x: string) => `(${x}."_row_hash" IS DISTINCT FROM s."_row_hash" OR ${x}."_deleted_at" IS NOT NULL)`;
  const prepare = [
    `CREATE TEMP TABLE ${diff} AS SELECT s.${rowid} AS srow, ${style === 'rewrite' ? 'x.rowid' : 'NULL'} AS trow, CASE WHEN x."id" IS NULL THEN 'i' ELSE 'u' END AS op ` +
      `FROM (SELECT ${rowid}, "id", "_row_hash" FROM ${stage}) s LEFT JOIN (SELECT ${style === 'rewrite' ? 'rowid, ' : ''}"id", "_row_hash", "_deleted_at" FROM ${t}) x ON x."id" = s."id" ` +
      `WHERE x."id" IS NULL OR ${changed('x')}`,
    // As in diffMergeStatements, one thread writes the rewritten rows (after the join, which keeps every thread), so a night where most rows changed stays within DuckDB's cap.
    ...(style === 'in-place' ? [`ANALYZE ${diff}`] : ['SET threads = 1']),
  ];
  const staged = (ops: string) => (style === 'rewrite' ? `s.rowid IN (SELECT srow FROM ${diff} WHERE op IN (${ops}))` : `s.ctid = ANY (ARRAY(SELECT srow FROM ${diff} WHERE op IN (${ops})))`);
  const goneIds = `"id" IN (SELECT "id" FROM ${gone})`;
  const notKept = keep ? ` AND NOT EXISTS (SELECT 1 FROM ${keep} k WHERE k."id" = ${t}."id")` : '';
  const remove = input.hardDelete
    ? `DELETE FROM ${t} WHERE ${goneIds} OR ("_deleted_at" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${stage} s WHERE s."id" = ${t}."id")${notKept})`
    : `UPDATE ${t} SET "_deleted_at" = ${at}, "_extracted_at" = ${at}, "_run_id" = ${run} WHERE "_deleted_at" IS NULL AND ${goneIds}`;
  const cleanup = [`DROP TABLE ${diff}`, ...(style === 'rewrite' ? ['RESET threads'] : [])];
  if (style === 'rewrite' && plan.kept.length === 0) {
    return { prepare, update: `DELETE FROM ${t} WHERE rowid IN (SELECT trow FROM ${diff} WHERE op = 'u')`, insert: `${insertInto} WHERE ${staged(`'i', 'u'`)}`, insertRewrites: true, remove, cleanup };
  }
  const update =
    `UPDATE ${t} SET ${assignments} ` +
    `FROM (SELECT * FROM ${stage} s WHERE ${staged(`'u'`)}) s WHERE ${t}."id" = s."id" AND ${changed(t)}`;
  return { prepare, update, insert: `${insertInto} WHERE ${staged(`'i'`)}`, remove, cleanup };
}

/**
 * Waits until `stream` drains or fails, then removes both listeners (a
 * `Promise.race` of two `once()` left one 'error' listener behind per wait:
 * MaxListenersExceededWarning above ~50,000 contacts).
 */
export function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', done);
  });
}
