/**
 * The documented lake layout read by a reader this project did not write: polars (Rust, through
 * nodejs-polars). Two nights of the built CLI export Parquet partitions under one dataset root
 * against the emulator, with changes in between; polars then scans the whole root with hive
 * partitioning (so `dt` is a column) and reads each data file on its own. Every contact of each
 * night must be there with its values and types, and nothing but data files may be picked up.
 */
import test from 'ava';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { COLUMN_NAMES, twoLakeNights } from './lake-nights.js';

// nodejs-polars loads a native binary from a per-platform package; where npm found none for this
// platform (or Node), the test is reported as skipped with the reason, never as passed.
type Polars = typeof import('nodejs-polars').default;
let pl: Polars | undefined;
let unavailable = '';
try {
  pl = createRequire(import.meta.url)('nodejs-polars') as Polars;
} catch (error) {
  unavailable = (error as Error).message.split('\n')[0]!;
}
const polarsTest = pl ? test : test.skip;
const skipNote = pl ? '' : ` (skipped: nodejs-polars does not load here: ${unavailable})`;

/** A polars record made comparable: the types were checked on the schema; dates and times as ISO text. */
function comparable(record: Record<string, unknown>) {
  const out: Record<string, unknown> = { ...record };
  const day = (v: unknown) => (v instanceof Date ? v.toISOString().slice(0, 10) : v);
  out.custom_renewal_date = day(record.custom_renewal_date);
  out.custom_last_seen_at = record.custom_last_seen_at instanceof Date ? record.custom_last_seen_at.toISOString() : record.custom_last_seen_at;
  out.custom_mrr = record.custom_mrr === null ? null : Number(record.custom_mrr);
  out.custom_seats = record.custom_seats === null ? null : Number(record.custom_seats);
  if ('dt' in record) out.dt = day(record.dt);
  return out;
}

polarsTest(`lake layout read by polars: two CLI nights under one root; scanParquet(root, hive partitioning) gives dt as a column and every contact of each night with its values and types; readParquet of each file agrees; no sidecar, state or manifest is picked up${skipNote}`, async (t) => {
  const polars = pl!;
  const { root, files, expected, changed, removed } = await twoLakeNights(t, 'pylon-lake-polars-');

  const checkTypes = (schema: Record<string, unknown>, label: string) => {
    // polars prints a type as DataType(…), nested types included.
    const type = (name: string) => String(schema[name]);
    const string = 'DataType(String)';
    const entries = (a: string, b: string) => `DataType(List(DataType(Struct(Field("${a}", ${string}),Field("${b}", ${string})))))`;
    t.is(type('id'), string, label);
    t.is(type('emails'), `DataType(List(${string}))`, label);
    t.is(type('custom_interests'), `DataType(List(${string}))`, label);
    t.is(type('custom_seats'), 'DataType(Int64)', label);
    t.is(type('custom_mrr'), 'DataType(Decimal(38,9))', label);
    t.is(type('custom_vip'), 'DataType(Bool)', label);
    t.is(type('custom_renewal_date'), 'DataType(Date)', label);
    t.is(type('custom_last_seen_at'), 'DataType(Datetime(us,UTC))', label);
    t.is(type('external_ids'), entries('external_id', 'label'), label);
    t.is(type('account_external_ids'), entries('external_id', 'label'), label);
    t.is(type('integration_user_ids'), entries('id', 'source'), label);
  };
  const records = (frame: ReturnType<Polars['readParquet']>) =>
    frame
      .withColumns(polars.col('custom_mrr').cast(polars.Utf8))
      .toRecords()
      .map(comparable);

  // The whole dataset: a glob under the root with hive partitioning, so dt (a date) comes from the folder names.
  const lake = polars.scanParquet(join(root, '**/*.parquet'), { hivePartitioning: true }).collectSync();
  checkTypes(lake.schema as unknown as Record<string, unknown>, 'scanParquet');
  t.is(String(lake.schema.dt), 'DataType(Date)', 'dt is a column, typed as a date from dt=YYYY-MM-DD');
  t.deepEqual(lake.columns, [...COLUMN_NAMES, 'dt']);
  const read = records(lake).sort((a, b) => String(a.dt).localeCompare(String(b.dt)) || String(a.id).localeCompare(String(b.id)));
  t.deepEqual(read, expected);

  // The root folder itself, as pyarrow.dataset(root) or Athena would take it: the same rows, nothing else read.
  const folder = polars.scanParquet(root, { hivePartitioning: true }).collectSync();
  t.is(folder.height, expected.length);
  t.deepEqual(folder.getColumn('id').toArray().sort(), expected.map((r) => r.id).sort());

  // Each data file on its own.
  for (const file of files.filter((f) => f.endsWith('.parquet'))) {
    const dt = file.slice(3, 13);
    const frame = polars.readParquet(join(root, file));
    checkTypes(frame.schema as unknown as Record<string, unknown>, file);
    const rows = records(frame).sort((a, b) => String(a.id).localeCompare(String(b.id)));
    t.deepEqual(rows, expected.filter((r) => r.dt === dt).map(({ dt: _dt, ...row }) => row), file);
  }

  const changedRow = read.find((r) => r.id === changed.id && r.dt === '2026-12-02');
  t.like(changedRow, { name: 'Renamed Between Nights', custom_seats: 7, custom_vip: false, custom_last_seen_at: '2026-12-01T23:59:58.000Z' });
  t.false(read.some((r) => r.id === removed.id && r.dt === '2026-12-02'), 'a deleted contact is not a row of the delta (its id is in the _meta deleted list)');
});
