/**
 * The id lists (`external_ids`, `account_external_ids`, `integration_user_ids`)
 * in every format: each exported value is compared with what the emulator
 * stores, read back by readers this project did not write (csv-parse,
 * hyparquet, DuckDB).
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects } from 'hyparquet';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { withEmulator } from '../helpers/with-emulator.js';
import { FAST_RATE, TOKEN, spawnCli } from '../helpers/cli.js';
import { selectList, valuesSha256 } from './warehouse/table-check.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../helpers/postgres.js';
import { FULL_CONTACT, exportFrom, readCsv, readManifest, storeContacts, tempDir } from './helpers.js';
import type { Emulator } from '../../src/emulator/index.js';
import { ON_REQUEST_COLUMNS } from '../../src/export/columns.js';
import { toTypedRow, typedColumns } from '../../src/export/schema.js';
import type { Contact } from '../../src/pylon/types.js';

const ID_COLUMNS = ['external_ids', 'account_external_ids', 'integration_user_ids'];
const COLUMNS = ['id', 'email', ...ID_COLUMNS];

/** The emulator's values, written out field by field: every entry with both fields, a missing label as null. */
function expected(contact: Contact) {
  return {
    external_ids: (contact.external_ids ?? []).map((e) => ({ external_id: e.external_id, label: e.label ?? null })),
    account_external_ids: (contact.account?.external_ids ?? []).map((e) => ({ external_id: e.external_id, label: e.label ?? null })),
    integration_user_ids: (contact.integration_user_ids ?? []).map((e) => ({ id: e.id, source: e.source })),
  };
}

function seed(emulator: Emulator): void {
  emulator.store.insert({
    ...FULL_CONTACT,
    external_ids: [
      { external_id: 'sf-003ABC', label: 'salesforce' },
      { external_id: 'hs;42:"x"', label: 'hubspot' },
      { external_id: 'no-label' },
    ],
    integration_user_ids: [{ id: 'U123', source: 'slack' }],
  });
  emulator.store.insert({ name: 'No Ids', email: 'noids@example.com' });
}

function byId(emulator: Emulator): Map<string, Contact> {
  return new Map(storeContacts(emulator).map((c) => [c.id, c]));
}

test('the id lists are not in the default column set, so the default CSV header is unchanged', async (t) => {
  await withEmulator({ seed: 1901, seedRandom: 3 }, async (emulator) => {
    seed(emulator);
    const out = join(await tempDir(), 'contacts.csv');
    t.like(await exportFrom(emulator, { output: out }), { complete: true });
    const header = Object.keys((await readCsv(out))[0]!);
    for (const name of ID_COLUMNS) t.false(header.includes(name), name);
  });
});

test('CSV: each id list is a JSON array of objects in one cell, empty when the contact has none', async (t) => {
  await withEmulator({ seed: 1902, seedRandom: 5 }, async (emulator) => {
    seed(emulator);
    const out = join(await tempDir(), 'contacts.csv');
    t.like(await exportFrom(emulator, { output: out, columns: COLUMNS }), { complete: true, rows: 7 });
    const rows = await readCsv(out);
    const stored = byId(emulator);
    t.is(rows.length, stored.size);
    let withIds = 0;
    for (const row of rows) {
      const want = expected(stored.get(row.id!)!);
      for (const name of ID_COLUMNS) {
        const list = want[name as keyof typeof want];
        if (list.length === 0) t.is(row[name], '', `${row.id} ${name}`);
        else t.deepEqual(JSON.parse(row[name]!), list, `${row.id} ${name}`);
      }
      if (want.external_ids.length > 0) withIds += 1;
    }
    t.true(withIds >= 1);
  });
});

test('NDJSON, plain and --typed: arrays of objects equal to the stored values', async (t) => {
  await withEmulator({ seed: 1903, seedRandom: 5 }, async (emulator) => {
    seed(emulator);
    const stored = byId(emulator);
    for (const typed of [false, true]) {
      const out = join(await tempDir(), 'contacts.ndjson');
      t.like(await exportFrom(emulator, { output: out, format: 'ndjson', typed, columns: COLUMNS }), { complete: true, rows: 7 });
      const records = (await readFile(out, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      t.is(records.length, stored.size);
      if (typed) {
        // Every typed row is valid against the run's own JSON Schema sidecar.
        const manifest = await readManifest(`${out}.manifest.json`);
        const schemaFile = join(out, '..', manifest.schemaFiles!.find((f) => f.endsWith('.schema.json'))!);
        const validate = new Ajv2020({ strict: false, formats: { date: true, 'date-time': true } }).compile(JSON.parse(await readFile(schemaFile, 'utf8')) as object);
        for (const record of records) t.true(validate(record), JSON.stringify(validate.errors));
      }
      for (const record of records) {
        const want = expected(stored.get(record.id as string)!);
        for (const name of ID_COLUMNS) t.deepEqual(record[name], want[name as keyof typeof want], `typed=${typed} ${record.id as string} ${name}`);
      }
    }
  });
});

test('Parquet: LIST<STRUCT> read back equal by hyparquet and by DuckDB; the sidecars describe the same shape', async (t) => {
  await withEmulator({ seed: 1904, seedRandom: 5 }, async (emulator) => {
    seed(emulator);
    const stored = byId(emulator);
    const dir = await tempDir();
    const out = join(dir, 'contacts.parquet');
    t.like(await exportFrom(emulator, { output: out, format: 'parquet', columns: COLUMNS }), { complete: true, rows: 7 });

    const buffer = await readFile(out);
    const file = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
    const rows = (await parquetReadObjects({ file })) as Array<Record<string, unknown>>;
    t.is(rows.length, stored.size);
    for (const row of rows) {
      const want = expected(stored.get(row.id as string)!);
      for (const name of ID_COLUMNS) t.deepEqual(row[name], want[name as keyof typeof want], `hyparquet ${row.id as string} ${name}`);
    }

    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const types = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${out}')`)).getRowObjectsJS() as Array<{ column_name: string; column_type: string }>;
      const typeOf = new Map(types.map((r) => [r.column_name, r.column_type]));
      t.is(typeOf.get('external_ids'), 'STRUCT(external_id VARCHAR, "label" VARCHAR)[]');
      t.is(typeOf.get('integration_user_ids'), 'STRUCT(id VARCHAR, "source" VARCHAR)[]');
      const duck = (await connection.runAndReadAll(`SELECT id, ${ID_COLUMNS.join(', ')} FROM read_parquet('${out}')`)).getRowObjectsJS() as Array<Record<string, unknown>>;
      t.is(duck.length, stored.size);
      for (const row of duck) {
        const want = expected(stored.get(row.id as string)!);
        for (const name of ID_COLUMNS) t.deepEqual(row[name], want[name as keyof typeof want], `duckdb ${row.id as string} ${name}`);
      }
    } finally {
      connection.closeSync();
      instance.closeSync();
    }

    const manifest = await readManifest(`${out}.manifest.json`);
    const schemaType = new Map(manifest.schema!.columns.map((c) => [c.name, c.type]));
    t.is(schemaType.get('external_ids'), 'list<struct<external_id:string,label:string>>');
    t.is(schemaType.get('integration_user_ids'), 'list<struct<id:string,source:string>>');
    const find = (suffix: string) => join(dir, manifest.schemaFiles!.find((f) => f.endsWith(suffix))!);
    const bigquery = JSON.parse(await readFile(find('.bigquery.json'), 'utf8')) as Array<Record<string, unknown>>;
    t.deepEqual(
      bigquery.find((c) => c.name === 'external_ids'),
      {
        name: 'external_ids',
        type: 'RECORD',
        mode: 'REPEATED',
        description: 'external_ids',
        fields: [
          { name: 'external_id', type: 'STRING', mode: 'REQUIRED' },
          { name: 'label', type: 'STRING', mode: 'NULLABLE' },
        ],
      },
    );
    const jsonSchema = JSON.parse(await readFile(find('.schema.json'), 'utf8')) as { properties: Record<string, { type: string; items: { required: string[] } }> };
    t.is(jsonSchema.properties.integration_user_ids!.type, 'array');
    t.deepEqual(jsonSchema.properties.integration_user_ids!.items.required, ['id', 'source']);
    const ddl = await readFile(find('.postgres.sql'), 'utf8');
    t.regex(ddl, /"external_ids" jsonb NOT NULL/);
    t.regex(ddl, /"account_external_ids" jsonb NOT NULL/);
  });
});

test('--to duckdb: the id lists load as STRUCT lists, a query joins on an external id, and a second run changes nothing', async (t) => {
  await withEmulator({ seed: 1905, seedRandom: 20 }, async (emulator) => {
    seed(emulator);
    const stored = byId(emulator);
    const dir = await tempDir();
    const db = join(dir, 'w.duckdb');
    const first = await exportFrom(emulator, { output: join(dir, 'contacts.parquet'), to: `duckdb:${db}`, columns: COLUMNS, runId: 'x1' });
    t.like(first, { complete: true, rows: 22 });
    t.like(first.load, { inserted: 22 });

    const instance = await DuckDBInstance.create(db);
    const connection = await instance.connect();
    try {
      await connection.run(`CREATE TABLE crm (crm_id VARCHAR, owner VARCHAR); INSERT INTO crm VALUES ('sf-003ABC', 'ada'), ('nobody', 'bob')`);
      const joined = (
        await connection.runAndReadAll(
          `SELECT c.email, crm.owner, e.label FROM contacts c, unnest(c.external_ids) AS u(e) JOIN crm ON crm.crm_id = e.external_id WHERE c._deleted_at IS NULL`,
        )
      ).getRowObjectsJS();
      t.deepEqual(joined, [{ email: FULL_CONTACT.email, owner: 'ada', label: 'salesforce' }]);
      const manifest = await readManifest(join(dir, 'contacts.parquet.manifest.json'));
      const all = (await connection.runAndReadAll(`SELECT ${selectList(manifest.schema!.columns, 'duckdb')} FROM contacts WHERE _deleted_at IS NULL`)).getRowObjectsJS() as Array<Record<string, unknown>>;
      t.is(valuesSha256(manifest.schema!.columns, all), manifest.values!.sha256, 'the table holds the values the manifest describes');
      const loaded = (await connection.runAndReadAll(`SELECT id, ${ID_COLUMNS.join(', ')} FROM contacts`)).getRowObjectsJS() as Array<Record<string, unknown>>;
      t.is(loaded.length, stored.size);
      for (const row of loaded) {
        const want = expected(stored.get(row.id as string)!);
        for (const name of ID_COLUMNS) t.deepEqual(row[name], want[name as keyof typeof want], `${row.id as string} ${name}`);
      }
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    const second = await exportFrom(emulator, { output: join(dir, 'contacts.parquet'), to: `duckdb:${db}`, columns: COLUMNS, runId: 'x2' });
    t.is(second.stoppedAt?.message, undefined);
    t.like(second.load, { inserted: 0, updated: 0, unchanged: 22, deleted: 0 });
  });
});

pgTest(`--to postgresql: the id lists load as jsonb equal to the stored values, a join on an external id finds the contact, and the DDL sidecar runs as shipped${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 1906, seedRandom: 20 }, async (emulator) => {
    seed(emulator);
    const stored = byId(emulator);
    const dir = await tempDir();
    const table = uniqueTable('ext_ids');
    const out = join(dir, 'contacts.parquet');
    const first = await exportFrom(emulator, { output: out, to: `${PG_URL}#${table}`, columns: COLUMNS, runId: 'p1' });
    t.is(first.stoppedAt?.message, undefined);
    t.like(first.load, { inserted: 22 });
    const manifest = await readManifest(`${out}.manifest.json`);
    const ddl = await readFile(join(dir, manifest.schemaFiles!.find((f) => f.endsWith('.postgres.sql'))!), 'utf8');
    await withPg(async (db) => {
      const types = (await db.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1`, [table])).rows as Array<{ column_name: string; data_type: string }>;
      for (const name of ID_COLUMNS) t.is(types.find((r) => r.column_name === name)?.data_type, 'jsonb', name);
      const all = (await db.query(`SELECT ${selectList(manifest.schema!.columns, 'postgres')} FROM "${table}" WHERE _deleted_at IS NULL`)).rows as Array<Record<string, unknown>>;
      t.is(valuesSha256(manifest.schema!.columns, all), manifest.values!.sha256, 'the table holds the values the manifest describes');
      const loaded = (await db.query(`SELECT id, ${ID_COLUMNS.join(', ')} FROM "${table}"`)).rows as Array<Record<string, unknown>>;
      t.is(loaded.length, stored.size);
      for (const row of loaded) {
        const want = expected(stored.get(row.id as string)!);
        for (const name of ID_COLUMNS) t.deepEqual(row[name], want[name as keyof typeof want], `${row.id as string} ${name}`);
      }
      const joined = (
        await db.query(`SELECT c.email, e->>'label' AS label FROM "${table}" c CROSS JOIN jsonb_array_elements(c.external_ids) e WHERE e->>'external_id' = $1`, ['hs;42:"x"'])
      ).rows;
      t.deepEqual(joined, [{ email: FULL_CONTACT.email, label: 'hubspot' }]);
      const schema = `ddl_${table}`;
      await db.query(`CREATE SCHEMA "${schema}"`);
      try {
        await db.query(`SET search_path TO "${schema}"`);
        await db.query(ddl);
        const created = (await db.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND column_name = ANY($2)`, [schema, ID_COLUMNS])).rows;
        t.is(created.length, 3);
        t.true(created.every((r: { data_type: string }) => r.data_type === 'jsonb'));
      } finally {
        await db.query('RESET search_path');
        await db.query(`DROP SCHEMA "${schema}" CASCADE`);
        await db.query(`DROP TABLE "${table}"`);
      }
    });
  });
});

test('CLI: an export with the id lists re-imports with no writes; the import says the id lists are read-only', async (t) => {
  await withEmulator({ seed: 1907, seedRandom: 10, tokens: [TOKEN] }, async (emulator) => {
    seed(emulator);
    const dir = await tempDir();
    const env = { PYLON_API_TOKEN: TOKEN, PYLON_BASE_URL: emulator.url };
    const plain = join(dir, 'plain.csv');
    const first = await spawnCli(['export', plain, '--rate', FAST_RATE], { env }).result;
    t.is(first.code, 0, first.stderr);
    const defaults = Object.keys((await readCsv(plain))[0]!);
    const out = join(dir, 'with-ids.csv');
    const exported = await spawnCli(['export', out, '--rate', FAST_RATE, '--columns', [...defaults, ...ID_COLUMNS].join(',')], { env }).result;
    t.is(exported.code, 0, exported.stderr);
    t.deepEqual(Object.keys((await readCsv(out))[0]!), [...defaults, ...ID_COLUMNS]);
    emulator.resetStats();
    const imported = await spawnCli(['import', out, '--rate', FAST_RATE, '--errors', join(dir, 'errors.csv')], { env }).result;
    t.is(imported.code, 0, imported.stderr);
    t.regex(imported.stderr, /created 0, updated 0, unchanged 12/);
    for (const name of ID_COLUMNS) t.true(imported.stderr.includes(`Column "${name}" is written by export and read-only here; it is ignored`), name);
    const requests = emulator.stats().requests;
    t.is((requests.create ?? 0) + (requests.patch ?? 0) + (requests.delete ?? 0), 0, 'the import sent no create, patch or delete');
  });
});

test('typed outputs: an entry without its id (a server that sends one) is a record error naming the column, not a crash; missing labels are null', (t) => {
  const typed = typedColumns(ON_REQUEST_COLUMNS);
  const good = toTypedRow({ id: 'c1', external_ids: [{ external_id: 'e1' }], integration_user_ids: [{ id: 'u1', source: 'slack' }] }, typed, ON_REQUEST_COLUMNS);
  t.deepEqual(good, [[{ external_id: 'e1', label: null }], [], [{ id: 'u1', source: 'slack' }]]);
  const bad = toTypedRow({ id: 'c2', external_ids: [{ label: 'crm' } as never] }, typed, ON_REQUEST_COLUMNS);
  t.is(bad, 'external_ids = [{"external_id":null,"label":"crm"}] is an entry without external_id (column type list<struct<external_id:string,label:string>>)');
  const notAList = toTypedRow({ id: 'c3', external_ids: 'e1' as never, account: { id: 'a', external_ids: null as never } }, typed, ON_REQUEST_COLUMNS);
  t.deepEqual(notAList, [[], [], []]);
});
