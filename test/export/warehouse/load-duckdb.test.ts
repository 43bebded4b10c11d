import test from 'ava';
import { join } from 'node:path';
import { client, withEmulator } from '../../helpers/with-emulator.js';
import { FULL_CONTACT, exportFrom, readManifest, tempDir } from '../helpers.js';
import { duckRows as query, selectList, stateIds, valuesSha256 } from './table-check.js';
import type { ExportManifest } from '../../../src/export/manifest.js';

async function tableState(file: string, table: string, manifest: ExportManifest) {
  const columns = manifest.schema!.columns;
  const live = await query(file, `SELECT ${selectList(columns, 'duckdb')} FROM "${table}" WHERE _deleted_at IS NULL`);
  return { rows: live.length, ids: live.map((r) => String(r.id)).sort(), values: valuesSha256(columns, live) };
}

test('duckdb round trip: a Parquet file and a DuckDB table from one run agree with the manifest; the next run merges only the changes', async (t) => {
  await withEmulator({ seed: 51, seedRandom: 200 }, async (emulator) => {
    emulator.store.insert(FULL_CONTACT);
    const api = client(emulator);
    const dir = await tempDir();
    const db = join(dir, 'warehouse.duckdb');
    const out = join(dir, 'contacts.parquet');
    const first = await exportFrom(emulator, { output: out, to: `duckdb:${db}`, pageSize: 40, runId: 'd1' });
    t.like(first, { complete: true, rows: 201 });
    t.like(first.load, { table: 'contacts', inserted: 201, updated: 0, unchanged: 0, deleted: 0 });
    const manifestPath = `${out}.manifest.json`;
    const manifest = await readManifest(manifestPath);
    t.like(manifest.load, { table: 'contacts', inserted: 201 });

    const state = await tableState(db, 'contacts', manifest);
    t.is(state.rows, manifest.values!.rows);
    t.deepEqual(state.ids, await stateIds(manifestPath, manifest));
    t.is(state.values, manifest.values!.sha256);
    // The file and the table hold the same values.
    const fromFile = await query(':memory:', `SELECT ${selectList(manifest.schema!.columns, 'duckdb')} FROM read_parquet('${out}')`);
    t.is(valuesSha256(manifest.schema!.columns, fromFile), manifest.values!.sha256);

    const ids = (await api.get('/contacts?limit=999')).body.data.map((c: { id: string }) => c.id) as string[];
    await api.patch(`/contacts/${ids[5]}`, { name: 'Changed Once' });
    await api.patch(`/contacts/${ids[6]}`, { custom_fields: [{ slug: 'interests', values: ['mobile'] }] });
    await api.delete(`/contacts/${ids[7]}`);
    const second = await exportFrom(emulator, { output: out, to: `duckdb:${db}`, pageSize: 40, runId: 'd2' });
    t.like(second.load, { inserted: 0, updated: 2, unchanged: 198, deleted: 1 });
    const touched = await query<{ id: string }>(db, `SELECT id FROM contacts WHERE _run_id = 'd2' AND _deleted_at IS NULL ORDER BY id`);
    t.deepEqual(touched.map((r) => r.id), [ids[5]!, ids[6]!].sort());
    const interests = await query<{ custom_interests: string[] }>(db, `SELECT custom_interests FROM contacts WHERE id = '${ids[6]}'`);
    t.deepEqual(interests, [{ custom_interests: ['mobile'] }]);
    t.is((await tableState(db, 'contacts', await readManifest(manifestPath))).values, (await readManifest(manifestPath)).values!.sha256);
  });
});

test('duckdb: a named table, a conflicting table, and a bad table name', async (t) => {
  await withEmulator({ seed: 52, seedRandom: 20 }, async (emulator) => {
    const dir = await tempDir();
    const db = join(dir, 'w.duckdb');
    const named = await exportFrom(emulator, { to: `duckdb:${db}#people` });
    t.like(named.load, { table: 'people', inserted: 20 });
    await query(db, `CREATE TABLE other (id INTEGER, name VARCHAR); INSERT INTO other VALUES (1, 'kept')`);
    const conflict = await exportFrom(emulator, { to: `duckdb:${db}#other` });
    t.false(conflict.complete);
    t.is(conflict.stoppedAt?.code, 'LOAD_TABLE_CONFLICT');
    t.regex(conflict.stoppedAt!.message, /column id is INTEGER, the export's is VARCHAR/);
    t.deepEqual(await query(db, 'SELECT * FROM other'), [{ id: 1, name: 'kept' }]);
    const error = await t.throwsAsync(exportFrom(emulator, { to: `duckdb:${db}#1bad` }));
    t.is(error?.name, 'ConfigError');
    t.regex(error!.message, /Invalid option `--to`: expected a table name after #/);
    const filtered = await t.throwsAsync(exportFrom(emulator, { to: `duckdb:${db}`, filter: 'email~@x' }));
    t.regex(filtered!.message, /a load marks contacts missing from the export as deleted/);
  });
});
