import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_CUSTOM_FIELDS } from '../../../src/emulator/index.js';
import type { ExportColumn } from '../../../src/export/columns.js';
import { typedColumns } from '../../../src/export/schema.js';
import { client, withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, readManifest, tempDir } from '../helpers.js';
import { selectList, valuesSha256 } from './table-check.js';

/** Two Salesforce-synced fields whose slugs share far more than 63 bytes. */
const LONG = 'contact.salesforce.Customer_Success_Qualified_Expansion_Opportunity_Owner_Region';
const FIELD_A = `${LONG}_Primary__c`;
const FIELD_B = `${LONG}_Secondary__c`;

function fieldsWithLongSlugs() {
  const fields = structuredClone(DEFAULT_CUSTOM_FIELDS);
  fields.push({ ...fields[0]!, id: 'cf-long-a', slug: FIELD_A, label: 'Owner region (primary)', type: 'text', select_metadata: undefined });
  fields.push({ ...fields[0]!, id: 'cf-long-b', slug: FIELD_B, label: 'Owner region (secondary)', type: 'text', select_metadata: undefined });
  return fields;
}

test('column names fit 63 bytes: long names are cut with a hash of the slug, stable across runs and distinct when their first 63 bytes agree', (t) => {
  const columns: ExportColumn[] = [
    { name: 'id', multi: false },
    { name: `custom.${FIELD_A}`, slug: FIELD_A, fieldType: 'text', multi: false },
    { name: `custom.${FIELD_B}`, slug: FIELD_B, fieldType: 'text', multi: false },
    { name: 'custom.seats', slug: 'seats', fieldType: 'number', multi: false },
  ];
  const names = typedColumns(columns).map((c) => c.name);
  t.is(names[0], 'id');
  t.is(names[3], 'custom_seats', 'short names are unchanged');
  for (const name of names) t.true(Buffer.byteLength(name) <= 63, name);
  t.not(names[1], names[2]);
  t.regex(names[1]!, /^custom_contact_salesforce_Customer_Success_Qualified_E[A-Za-z_]*_[0-9a-f]{8}$/);
  t.is(names[1]!.length, 63);
  t.deepEqual(typedColumns(columns).map((c) => c.name), names, 'the same names on every run');
  // A field's name does not depend on which other long fields exist.
  t.is(typedColumns([columns[0]!, columns[2]!]).map((c) => c.name)[1], names[2]);
});

pgTest(`postgres: two nights with two custom fields whose names pass 63 bytes and share their first 63; the sidecar DDL runs as shipped${PG_SKIP_NOTE}`, async (t) => {
  const customFields = fieldsWithLongSlugs();
  await withEmulator({ seed: 71, seedRandom: 40, customFields }, async (emulator) => {
    const api = client(emulator);
    const ids = (await api.get('/contacts?limit=999')).body.data.map((c: { id: string }) => c.id) as string[];
    for (const [i, id] of ids.slice(0, 5).entries()) {
      await api.patch(`/contacts/${id}`, { custom_fields: [{ slug: FIELD_A, value: `north-${i}` }, { slug: FIELD_B, value: `south-${i}` }] });
    }
    const dir = await tempDir();
    const out = join(dir, 'contacts.parquet');
    const table = uniqueTable('long_names');
    const to = `${PG_URL}#${table}`;

    const first = await exportFrom(emulator, { output: out, to, runId: 'n1' });
    t.like(first, { complete: true, recordErrors: 0 });
    t.like(first.load, { inserted: 40, updated: 0 });
    const manifest = await readManifest(`${out}.manifest.json`);
    const bySource = new Map(manifest.schema!.columns.map((c) => [c.source, c.name]));
    const a = bySource.get(`custom.${FIELD_A}`)!;
    const b = bySource.get(`custom.${FIELD_B}`)!;
    t.truthy(a);
    t.truthy(b);
    t.not(a, b);
    for (const c of manifest.schema!.columns) t.true(Buffer.byteLength(c.name) <= 63, c.name);

    const tableColumns = async () =>
      withPg(async (db) => (await db.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND column_name NOT LIKE '\\_%' ORDER BY ordinal_position`, [table])).rows.map((r) => r.column_name as string));
    t.deepEqual(await tableColumns(), manifest.schema!.columns.map((c) => c.name), 'the table has the manifest\'s names, none cut by PostgreSQL');

    // Night 2: one value of each field changes; the load merges into the same columns.
    await api.patch(`/contacts/${ids[0]}`, { custom_fields: [{ slug: FIELD_A, value: 'east' }, { slug: FIELD_B, value: 'west' }] });
    const second = await exportFrom(emulator, { output: out, to, runId: 'n2' });
    t.like(second, { complete: true, recordErrors: 0 });
    t.like(second.load, { inserted: 0, updated: 1, unchanged: 39, deleted: 0 });
    const manifest2 = await readManifest(`${out}.manifest.json`);
    t.deepEqual(manifest2.schema, manifest.schema, 'the same names on the second night');
    t.deepEqual(await tableColumns(), manifest.schema!.columns.map((c) => c.name));
    await withPg(async (db) => {
      const row = (await db.query(`SELECT "${a}" AS a, "${b}" AS b FROM "${table}" WHERE id = $1`, [ids[0]])).rows[0];
      t.deepEqual(row, { a: 'east', b: 'west' });
      const columns = manifest2.schema!.columns;
      const live = (await db.query(`SELECT ${selectList(columns, 'postgres')} FROM "${table}" WHERE _deleted_at IS NULL`)).rows as Array<Record<string, unknown>>;
      t.is(valuesSha256(columns, live), manifest2.values!.sha256, 'the table holds exactly the exported values');
    });

    // The DDL sidecar, run exactly as shipped (in a schema of its own), creates the same columns.
    const ddl = await readFile(`${out}.postgres.sql`, 'utf8');
    const schema = uniqueTable('ddl');
    await withPg(async (db) => {
      await db.query(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}"`);
      try {
        await db.query(ddl);
        const created = (await db.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'contacts' ORDER BY ordinal_position`, [schema])).rows.map((r) => r.column_name);
        t.deepEqual(created, manifest.schema!.columns.map((c) => c.name));
      } finally {
        await db.query(`DROP SCHEMA "${schema}" CASCADE`);
      }
    });
  });
});
