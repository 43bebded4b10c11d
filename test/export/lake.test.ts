import test from 'ava';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects } from 'hyparquet';
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
