/**
 * The documented lake layout read the way pyarrow.dataset(root, partitioning="hive") reads it, by an
 * Arrow implementation nobody here wrote. pyarrow cannot be installed on this machine (no PyPI, no
 * Debian package), so the reader is arrow-rs's Parquet reader compiled to WebAssembly (parquet-wasm)
 * with the Arrow JavaScript library (apache-arrow) to read the Arrow IPC it returns. The dataset walk
 * is pyarrow's discovery: every file under the root except names starting with "." or "_"
 * (ignore_prefixes) is a Parquet fragment, every key=value folder on its path a hive partition
 * value; the fragments must share one schema. Two nights of the built CLI under one root must give
 * every contact of each night with its values and Arrow types, and `dt` from the folder names.
 */
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { createRequire } from 'node:module';
import { COLUMN_NAMES, twoLakeNights, type LakeRow } from './lake-nights.js';
import { FAST_RATE, TOKEN, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';

type ParquetWasm = typeof import('parquet-wasm');
type Arrow = typeof import('apache-arrow');
const require = createRequire(import.meta.url);
const parquet = require('parquet-wasm') as ParquetWasm;
const arrow = require('apache-arrow') as Arrow;

/** pyarrow.dataset's discovery: files under root, skipping any path part that starts with "." or "_". */
function fragments(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name.startsWith('_')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else found.push(path);
    }
  };
  walk(root);
  return found.sort();
}

/** The hive partition values of a fragment: each key=value folder between the root and the file. */
function partitionValues(root: string, file: string): Record<string, string> {
  const folders = relative(root, file).split(sep).slice(0, -1);
  return Object.fromEntries(folders.map((folder) => {
    const at = folder.indexOf('=');
    return [folder.slice(0, at), decodeURIComponent(folder.slice(at + 1))];
  }));
}

/** A fragment read by arrow-rs (a reader error fails the test, as it fails pyarrow's dataset). */
function readFragment(file: string) {
  const wasmTable = parquet.readParquet(new Uint8Array(readFileSync(file)));
  return arrow.tableFromIPC(wasmTable.intoIPCStream());
}

/** An Arrow value made comparable with expectedRow: lists as arrays, structs as objects, times as ISO text. */
function plain(value: unknown, type: import('apache-arrow').DataType): unknown {
  if (value === null || value === undefined) return null;
  if (arrow.DataType.isList(type)) {
    const child = (type as import('apache-arrow').List).children[0]!.type;
    return [...(value as Iterable<unknown>)].map((item) => plain(item, child));
  }
  if (arrow.DataType.isStruct(type)) {
    const fields = (type as import('apache-arrow').Struct).children;
    const row = value as Record<string, unknown>;
    return Object.fromEntries(fields.map((f) => [f.name, plain(row[f.name], f.type)]));
  }
  // Decimal(38,9): the unscaled integer as text, scaled here (the test values have few digits).
  if (arrow.DataType.isDecimal(type)) return Number(String(value)) / 10 ** (type as import('apache-arrow').Decimal).scale;
  if (arrow.DataType.isDate(type)) return new Date(value as number).toISOString().slice(0, 10);
  if (arrow.DataType.isTimestamp(type)) return new Date(value as number).toISOString();
  if (typeof value === 'bigint') return Number(value);
  return value;
}

test('lake layout read as a hive dataset by arrow-rs (parquet-wasm, standing in for pyarrow.dataset): two CLI nights under one root; only data files are fragments; dt comes from the folders; every contact of each night with its values and Arrow types', async (t) => {
  const { root, expected, changed, removed } = await twoLakeNights(t, 'pylon-lake-arrow-');

  // _SUCCESS is skipped by its prefix; every other file must be a Parquet file arrow-rs reads.
  const files = fragments(root);
  t.deepEqual(files.map((f) => relative(root, f).split(sep).join('/')), ['dt=2026-12-01/contacts.parquet', 'dt=2026-12-02/contacts.parquet']);

  const tables = files.map((file) => ({ file, table: readFragment(file), partition: partitionValues(root, file) }));
  const [first] = tables;
  const describe = (table: import('apache-arrow').Table) => table.schema.fields.map((f) => `${f.name}: ${String(f.type)}${f.nullable ? '' : ' not null'}`);
  // One dataset schema: every fragment's is the same, so no reader has to unify (or fails to).
  for (const { file, table } of tables) t.deepEqual(describe(table), describe(first!.table), relative(root, file));

  const schema = first!.table.schema;
  t.deepEqual(schema.fields.map((f) => f.name), COLUMN_NAMES);
  const type = (name: string) => schema.fields.find((f) => f.name === name)!.type;
  t.is(String(type('id')), 'Utf8');
  t.is(String(type('emails')), 'List<Utf8>');
  t.is(String(type('custom_interests')), 'List<Utf8>');
  t.is(String(type('custom_seats')), 'Int64');
  t.true(arrow.DataType.isDecimal(type('custom_mrr')));
  t.like(type('custom_mrr'), { precision: 38, scale: 9 });
  t.is(String(type('custom_vip')), 'Bool');
  t.true(arrow.DataType.isDate(type('custom_renewal_date')));
  t.like(type('custom_renewal_date'), { unit: arrow.DateUnit.DAY });
  t.true(arrow.DataType.isTimestamp(type('custom_last_seen_at')));
  t.like(type('custom_last_seen_at'), { unit: arrow.TimeUnit.MICROSECOND, timezone: 'UTC' });
  t.is(String(type('external_ids')), 'List<Struct<{external_id:Utf8, label:Utf8}>>');
  t.is(String(type('account_external_ids')), 'List<Struct<{external_id:Utf8, label:Utf8}>>');
  t.is(String(type('integration_user_ids')), 'List<Struct<{id:Utf8, source:Utf8}>>');

  // The dataset's rows: each fragment's rows with its partition value, as dataset.to_table() gives them.
  const rows: Array<Record<string, unknown>> = [];
  for (const { table, partition } of tables) {
    t.regex(partition.dt ?? '', /^\d{4}-\d{2}-\d{2}$/);
    for (const row of table) {
      const record: Record<string, unknown> = {};
      for (const field of table.schema.fields) record[field.name] = plain(row![field.name], field.type);
      rows.push({ ...record, dt: partition.dt });
    }
  }
  rows.sort((a, b) => String(a.dt).localeCompare(String(b.dt)) || String(a.id).localeCompare(String(b.id)));
  t.deepEqual(rows as unknown as LakeRow[], expected);

  const changedRow = rows.find((r) => r.id === changed.id && r.dt === '2026-12-02');
  t.like(changedRow, { name: 'Renamed Between Nights', custom_seats: 7, custom_vip: false, custom_last_seen_at: '2026-12-01T23:59:58.000Z' });
  t.false(rows.some((r) => r.id === removed.id && r.dt === '2026-12-02'), 'a deleted contact is not a row of the delta');
  t.true(rows.some((r) => (r.external_ids as unknown[]).length > 0), 'some id lists hold entries');
});

test('a night with nothing to write (0 rows, no row group) is read by arrow-rs with its schema: the footer’s empty row group list is typed as a list of structs', async (t) => {
  const emulator = await startEmulator(t, { tokens: [TOKEN], seedRandom: 5 });
  const dir = tempDir(t, 'pylon-lake-arrow-empty-');
  const run = (runId: string) =>
    runCli(['export', 'lake/dt={run_id}/c.parquet', '--run-id', runId, '--state', 'lake.state', '--columns', 'id,emails,custom.seats,custom.mrr,external_ids', '--rate', FAST_RATE, '--quiet'], { cwd: dir, env: envFor(emulator) });
  t.is((await run('n1')).code, 0);
  const quiet = await run('n2'); // nothing changed: a delta of 0 rows
  t.is(quiet.code, 0, quiet.stderr);
  const [one, empty] = ['n1', 'n2'].map((night) => readFragment(join(dir, 'lake', `dt=${night}`, 'c.parquet')));
  t.is(one!.numRows, 5);
  t.is(empty!.numRows, 0);
  const describe = (table: import('apache-arrow').Table) => table.schema.fields.map((f) => `${f.name}: ${String(f.type)}`);
  t.deepEqual(describe(empty!), describe(one!));
  t.deepEqual(describe(empty!), ['id: Utf8', 'emails: List<Utf8>', 'custom_seats: Int64', 'custom_mrr: Decimal[38e+9]', 'external_ids: List<Struct<{external_id:Utf8, label:Utf8}>>']);
});
