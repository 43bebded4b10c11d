import test from 'ava';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DEFAULT_CUSTOM_FIELDS } from '../../../src/emulator/index.js';
import { withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, readManifest, tempDir } from '../helpers.js';
import { selectList, valuesSha256 } from './table-check.js';
import type { ExportManifest } from '../../../src/export/manifest.js';

/** A private copy of the default custom fields, so a test can change one. */
const ownFields = () => structuredClone(DEFAULT_CUSTOM_FIELDS);

interface Db {
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
  dialect: 'postgres' | 'duckdb';
  to: string;
  table: string;
}

async function duckRows(file: string, sql: string) {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function liveValues(db: Db, manifest: ExportManifest) {
  const columns = manifest.schema!.columns;
  return valuesSha256(columns, await db.rows(`SELECT ${selectList(columns, db.dialect)} FROM "${db.table}" WHERE _deleted_at IS NULL`));
}

const typeOf = async (db: Db, column: string) =>
  (await db.rows(`SELECT data_type AS type FROM information_schema.columns WHERE table_name = '${db.table}' AND column_name = '${column}'`))[0]?.type;

/** number → text for custom.seats: refused without the flag (nothing changes), widened with it; then multiselect → text adds a variant column. */
async function typeChangeNights(t: import('ava').ExecutionContext, db: Db, types: { bigint: string; text: string }) {
  const customFields = ownFields();
  await withEmulator({ seed: 81, seedRandom: 30, customFields }, async (emulator) => {
    const dir = await tempDir();
    const first = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n1.json'), runId: 'n1' });
    t.like(first, { complete: true });
    t.like(first.load, { inserted: 30 });
    t.is(first.load!.schemaChanges, undefined);
    t.is(await typeOf(db, 'custom_seats'), types.bigint);
    const before = await liveValues(db, await readManifest(join(dir, 'n1.json')));

    customFields.find((f) => f.slug === 'seats')!.type = 'text';
    // A manifest path of its own: the table itself is checked (not only the previous manifest).
    const refused = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n2.json'), runId: 'n2' });
    t.false(refused.complete);
    t.is(refused.stoppedAt?.code, 'LOAD_TABLE_CONFLICT');
    t.regex(refused.stoppedAt!.message, new RegExp(`field custom\\.seats \\(column custom_seats\\): the table's type is ${types.bigint} \\(int64\\), the export's is ${types.text} \\(string\\); pass --allow-schema-change`));
    t.is(await typeOf(db, 'custom_seats'), types.bigint, 'the table is as it was');
    t.is(await liveValues(db, await readManifest(join(dir, 'n1.json'))), before);

    const widened = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n3.json'), runId: 'n3', allowSchemaChange: true });
    t.like(widened, { complete: true, recordErrors: 0 });
    t.deepEqual(widened.load!.schemaChanges, ['widened custom_seats (custom.seats) from int64 to string']);
    t.deepEqual((await readManifest(join(dir, 'n3.json'))).load?.schemaChanges, widened.load!.schemaChanges, 'the change is in the manifest');
    t.is(await typeOf(db, 'custom_seats'), types.text);
    const n3 = await readManifest(join(dir, 'n3.json'));
    t.is(await liveValues(db, n3), n3.values!.sha256, 'the table holds exactly the exported values, seats as text');

    // The next night with the same types changes nothing and needs no flag.
    const same = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n4.json'), runId: 'n4' });
    t.like(same, { complete: true });
    t.like(same.load, { inserted: 0, updated: 0, unchanged: 30 });
    t.is(same.load!.schemaChanges, undefined);

    // A list becoming text cannot be widened in place: a typed variant column takes the values.
    customFields.find((f) => f.slug === 'interests')!.type = 'text';
    const variant = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n5.json'), runId: 'n5', allowSchemaChange: true });
    t.like(variant, { complete: true, recordErrors: 0 }, variant.stoppedAt?.message);
    t.like(variant.load, { updated: 30 }, 'every row is written once to fill the variant column');
    t.deepEqual(variant.load!.schemaChanges, ['added variant column custom_interests__v_string (string) for custom.interests; custom_interests (list<string>) is NULL in rows loaded from now on']);
    t.is(await typeOf(db, 'custom_interests__v_string'), types.text);
    const n5 = await readManifest(join(dir, 'n5.json'));
    const withVariant = n5.schema!.columns.map((c) => (c.name === 'custom_interests' ? { ...c, name: 'custom_interests__v_string' } : c));
    const live = await db.rows(`SELECT ${selectList(withVariant, db.dialect)} FROM "${db.table}" WHERE _deleted_at IS NULL`);
    t.is(
      valuesSha256(n5.schema!.columns, live.map((r) => ({ ...r, custom_interests: r.custom_interests__v_string }))),
      n5.values!.sha256,
      'the variant column holds the exported values',
    );
    const again = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n6.json'), runId: 'n6' });
    t.like(again, { complete: true });
    t.like(again.load, { updated: 0, unchanged: 30 });
    t.is(again.load!.schemaChanges, undefined, 'an existing variant is used without the flag');

    // seats back to a number: the table's text column is wider, so the numbers are loaded into it as text, with the flag once and without it after.
    customFields.find((f) => f.slug === 'seats')!.type = 'number';
    const back = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n7.json'), runId: 'n7', allowSchemaChange: true });
    t.like(back, { complete: true }, back.stoppedAt?.message);
    t.deepEqual(back.load!.schemaChanges, ['loaded custom.seats (int64) into the wider string column custom_seats']);
    const later = await exportFrom(emulator, { to: db.to, manifest: join(dir, 'n8.json'), runId: 'n8' });
    t.like(later, { complete: true }, later.stoppedAt?.message);
    t.like(later.load, { updated: 0, unchanged: 30 });
    t.is(await typeOf(db, 'custom_seats'), types.text);
  });
}

pgTest(`postgres: a number → text field change is refused without --allow-schema-change and widens the column with it; an incompatible change adds a variant column${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('typechange');
  await typeChangeNights(t, { dialect: 'postgres', to: `${PG_URL}#${table}`, table, rows: (sql) => withPg(async (c) => (await c.query(sql)).rows) }, { bigint: 'bigint', text: 'text' });
});

test('duckdb: a number → text field change is refused without --allow-schema-change and widens the column with it; an incompatible change adds a variant column', async (t) => {
  const file = join(await tempDir(), 'w.duckdb');
  await typeChangeNights(t, { dialect: 'duckdb', to: `duckdb:${file}`, table: 'contacts', rows: (sql) => duckRows(file, sql) }, { bigint: 'BIGINT', text: 'VARCHAR' });
});
