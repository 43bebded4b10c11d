import test from 'ava';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects } from 'hyparquet';
import { DEFAULT_CUSTOM_FIELDS } from '../../src/emulator/index.js';
import { client, withEmulator } from '../helpers/with-emulator.js';
import { exportFrom, readManifest, storeContacts, tempDir } from './helpers.js';

/** Every file under `root`, relative, the way a directory reader lists a dataset. */
async function walk(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name))).sort();
}

/** Names directory readers (pyarrow, polars, Spark, Athena) skip: a segment starting with `_` or `.`. */
const skipped = (path: string) => path.split('/').some((part) => part.startsWith('_') || part.startsWith('.'));

test('lake layout: two nightly partitions hold data files only (and _SUCCESS); DuckDB read_parquet(root/**/*.parquet, hive_partitioning) and hyparquet read both nights; sidecars sit beside the root', async (t) => {
  await withEmulator({ seed: 98, seedRandom: 30 }, async (emulator) => {
    const dir = await tempDir();
    const root = join(dir, 'lake/contacts');
    const night = (date: string) => exportFrom(emulator, { output: join(dir, 'lake/contacts/dt={date}/contacts.parquet'), state: join(dir, 'lake/contacts.state'), runId: `r-${date}`, now: new Date(`${date}T02:00:00Z`) });
    t.true((await night('2026-12-01')).complete);
    await client(emulator).post('/contacts', { name: 'Second Night', email: 'second@lake.example' });
    t.true((await night('2026-12-02')).complete);

    const files = await walk(root);
    t.deepEqual(files, ['dt=2026-12-01/_SUCCESS', 'dt=2026-12-01/contacts.parquet', 'dt=2026-12-02/_SUCCESS', 'dt=2026-12-02/contacts.parquet']);
    t.true(files.every((f) => f.endsWith('.parquet') || skipped(f)), 'a partition holds data files, or names readers skip');
    t.deepEqual((await readdir(join(dir, 'lake/contacts._meta/dt=2026-12-02'))).sort(), [
      'contacts.parquet.bigquery.json',
      'contacts.parquet.deleted.csv',
      'contacts.parquet.manifest.json',
      'contacts.parquet.postgres.sql',
      'contacts.parquet.schema.json',
    ]);
    const manifest = await readManifest(join(dir, 'lake/contacts._meta/dt=2026-12-02/contacts.parquet.manifest.json'));
    t.is(manifest.file, '../../contacts/dt=2026-12-02/contacts.parquet');

    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const rows = (await connection.runAndReadAll(`SELECT dt::VARCHAR AS dt, count(*)::INTEGER AS n FROM read_parquet('${root}/**/*.parquet', hive_partitioning = true) GROUP BY dt ORDER BY dt`)).getRowObjectsJS();
      t.deepEqual(rows, [{ dt: '2026-12-01', n: 30 }, { dt: '2026-12-02', n: 1 }], 'the first night has every contact, the second (a delta) the new one');
    } finally {
      connection.closeSync();
      instance.closeSync();
    }

    const ids: string[] = [];
    for (const file of files.filter((f) => f.endsWith('.parquet'))) {
      const bytes = await readFile(join(root, file));
      const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, columns: ['id'] });
      ids.push(...rows.map((r) => String(r.id)));
    }
    t.deepEqual(ids.sort(), storeContacts(emulator).map((c) => c.id).sort(), 'hyparquet over both partitions: every contact once');
  });
});

/** The DuckDB query docs/warehouse.md gives for the lake (its *Lake layout* list), as a reader would copy it. */
async function documentedDuckdbQuery(): Promise<string> {
  const docs = await readFile(new URL('../../docs/warehouse.md', import.meta.url), 'utf8');
  const query = /^- DuckDB: `(SELECT \* FROM read_parquet\('lake\/contacts\/\*\*\/\*\.parquet'[^`]*\))`/m.exec(docs)?.[1];
  if (query === undefined) throw new Error('docs/warehouse.md gives no DuckDB query for the lake');
  return query;
}

test('the documented DuckDB lake query, and the polars concat, read a column a later night added, and a column whose type a later night changed (--allow-schema-change)', async (t) => {
  // A text field the emulator knows from the start (so a contact can hold a value for it), left out of GET /custom-fields until night 2.
  const region = { ...structuredClone(DEFAULT_CUSTOM_FIELDS.find((f) => f.slug === 'notes')!), id: 'c0ffee00-0000-4000-8000-0000000000r1', slug: 'region', label: 'Region' };
  const customFields = [...structuredClone(DEFAULT_CUSTOM_FIELDS), region];
  await withEmulator({ seed: 99, seedRandom: 12, customFields }, async (emulator) => {
    const dir = await tempDir();
    const api = client(emulator);
    const night = (date: string, more: { allowSchemaChange?: boolean } = {}) =>
      exportFrom(emulator, { output: join(dir, 'lake/contacts/dt={date}/contacts.parquet'), state: join(dir, 'lake/contacts.state'), runId: `r-${date}`, now: new Date(`${date}T02:00:00Z`), ...more });
    const [first, second] = storeContacts(emulator);
    const patched = await api.patch(`/contacts/${first!.id}`, { custom_fields: [{ slug: 'region', value: 'EMEA' }] });
    t.is(patched.status, 200, patched.text);
    customFields.splice(customFields.indexOf(region), 1);
    t.true((await night('2026-12-01')).complete);

    // Night 2: the field is listed: a column the first night's file lacks.
    customFields.push(region);
    t.true((await night('2026-12-02')).complete);

    // Night 3: seats becomes a text field, allowed; one contact's seats now holds text.
    customFields.find((f) => f.slug === 'seats')!.type = 'text';
    t.is((await api.patch(`/contacts/${second!.id}`, { custom_fields: [{ slug: 'seats', value: 'twelve' }] })).status, 200);
    const third = await night('2026-12-03', { allowSchemaChange: true });
    t.true(third.complete, JSON.stringify(third.stoppedAt));

    const query = (await documentedDuckdbQuery()).replace('lake/contacts', join(dir, 'lake/contacts'));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const rows = (await connection.runAndReadAll(`SELECT dt::VARCHAR AS dt, id, custom_region, custom_seats::VARCHAR AS seats FROM (${query}) ORDER BY dt, id`)).getRowObjectsJS() as Array<{ dt: string; id: string; custom_region: string | null; seats: string | null }>;
      const at = (dt: string, id: string) => rows.find((r) => r.dt === dt && r.id === id);
      t.is(at('2026-12-01', first!.id)?.custom_region, null, 'the first night had no such column');
      t.is(at('2026-12-02', first!.id)?.custom_region, 'EMEA', 'the column the second night added is read');
      t.is(at('2026-12-03', second!.id)?.seats, 'twelve', 'the third night\'s text value is read');
      const numbers = rows.filter((r) => r.dt === '2026-12-01' && r.seats !== null).map((r) => r.seats!);
      t.true(numbers.length > 0 && numbers.every((n) => /^\d+$/.test(n)), 'the first night\'s numbers are read too');
    } finally {
      connection.closeSync();
      instance.closeSync();
    }

    // polars (docs/warehouse.md): one scan per file (dt from its folder), concatenated by name with types relaxed to a common one.
    const polars = (await import('nodejs-polars')).default;
    const root = join(dir, 'lake/contacts');
    t.throws(() => polars.scanParquet(join(root, '**/*.parquet'), { hivePartitioning: true }).collectSync(), { message: /extra column/ }, 'one scan of the glob refuses the added column');
    const files = (await walk(root)).filter((f) => f.endsWith('.parquet'));
    const lake = polars.concat(files.map((f) => polars.scanParquet(join(root, f), { hivePartitioning: true })), { how: 'diagonalRelaxed' }).collectSync();
    t.is(String(lake.schema.dt), 'DataType(Date)');
    t.is(String(lake.schema.custom_seats), 'DataType(String)');
    const read = lake.select('dt', 'id', 'custom_region', 'custom_seats').withColumns(polars.col('dt').cast(polars.Utf8)).toRecords() as Array<{ dt: string; id: string; custom_region: string | null; custom_seats: string | null }>;
    t.is(read.find((r) => r.dt === '2026-12-01' && r.id === first!.id)?.custom_region, null);
    t.is(read.find((r) => r.dt === '2026-12-02' && r.id === first!.id)?.custom_region, 'EMEA');
    t.is(read.find((r) => r.dt === '2026-12-03' && r.id === second!.id)?.custom_seats, 'twelve');
  });
});
