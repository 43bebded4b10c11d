import test from 'ava';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { DuckDBInstance } from '@duckdb/node-api';
import { withEmulator } from '../../helpers/with-emulator.js';
import { FULL_CONTACT, exportFrom, readManifest, storeContacts, tempDir } from '../helpers.js';
import type { Contact } from '../../../src/pylon/types.js';

/** The typed row a contact should become, written out by hand from the emulator's default org (independent of src/export/schema.ts). */
function expectedTyped(c: Contact): Record<string, unknown> {
  const cf = (slug: string) => c.custom_fields?.[slug];
  const value = (slug: string) => cf(slug)?.value ?? null;
  return {
    id: c.id,
    name: c.name ?? null,
    email: c.email ?? null,
    emails: c.emails ?? [],
    account_id: c.account?.id ?? null,
    avatar_url: c.avatar_url ?? null,
    portal_role: c.portal_role ?? null,
    portal_role_id: c.portal_role_id ?? null,
    phone_numbers: c.phone_numbers ?? [],
    primary_phone_number: c.primary_phone_number ?? null,
    custom_tier: value('tier'),
    custom_interests: cf('interests')?.values ?? [],
    custom_seats: value('seats') === null ? null : BigInt(value('seats')!),
    custom_mrr: value('mrr') === null ? null : Number(value('mrr')),
    custom_vip: value('vip') === null ? null : value('vip') === 'true',
    custom_renewal_date: value('renewal_date') === null ? null : new Date(`${value('renewal_date')}T00:00:00Z`),
    custom_last_seen_at: value('last_seen_at') === null ? null : new Date(value('last_seen_at')!),
    custom_linkedin: value('linkedin'),
    custom_owner: value('owner'),
    custom_notes: value('notes'),
    custom_contact_salesforce_Contact_ID_for_Pylon__c: value('contact.salesforce.Contact_ID_for_Pylon__c'),
  };
}

test('parquet: typed columns read back by hyparquet and by DuckDB, several row groups, every value', async (t) => {
  await withEmulator({ seed: 31, seedRandom: 250 }, async (emulator) => {
    emulator.store.insert(FULL_CONTACT);
    emulator.store.insert({ name: 'Bare Minimum' });
    const dir = await tempDir();
    const out = join(dir, 'contacts.parquet');
    const stats = await exportFrom(emulator, { output: out, pageSize: 37, rowGroupSize: 100 });
    t.like(stats, { complete: true, format: 'parquet', rows: 252, recordErrors: 0 });

    const bytes = await readFile(out);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    t.is(stats.sha256, createHash('sha256').update(bytes).digest('hex'));
    const metadata = parquetMetadata(buffer);
    t.is(Number(metadata.num_rows), 252);
    t.is(metadata.row_groups.length, 3, '252 rows in groups of 100');
    t.is(metadata.row_groups[0]!.columns[0]!.meta_data?.codec, 'SNAPPY');
    const leaves = Object.fromEntries(metadata.schema.filter((e) => e.type !== undefined).map((e) => [e.name, e]));
    t.like(leaves.id, { type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' });
    t.like(leaves.custom_seats, { type: 'INT64', repetition_type: 'OPTIONAL' });
    t.like(leaves.custom_mrr, { type: 'FIXED_LEN_BYTE_ARRAY', converted_type: 'DECIMAL', precision: 38, scale: 9 });
    t.like(leaves.custom_vip, { type: 'BOOLEAN' });
    t.like(leaves.custom_renewal_date, { type: 'INT32', converted_type: 'DATE' });
    t.deepEqual(leaves.custom_last_seen_at!.logical_type, { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' });
    t.is(leaves.custom_last_seen_at!.converted_type, 'TIMESTAMP_MICROS', 'the ConvertedType beside the logical type');
    const byPath = (name: string) => metadata.row_groups[0]!.columns.find((c) => c.meta_data?.path_in_schema.join('.') === name)!.meta_data!;
    t.truthy(byPath('email').statistics?.min_value, 'string columns have min/max statistics');
    t.truthy(byPath('email').statistics?.max_value);
    const tree = parquetSchema(metadata);
    const emails = tree.children.find((c) => c.element.name === 'emails')!;
    t.is(emails.element.converted_type, 'LIST');

    const rows = await parquetReadObjects({ file: buffer });
    t.deepEqual(rows, storeContacts(emulator).map(expectedTyped));

    // A second, independent reader: DuckDB's own Parquet reader, with exact decimals.
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const described = (await duck.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${out}')`)).getRowObjects();
    const types = Object.fromEntries(described.map((r) => [String(r.column_name), String(r.column_type)]));
    t.like(types, {
      id: 'VARCHAR',
      emails: 'VARCHAR[]',
      custom_interests: 'VARCHAR[]',
      custom_seats: 'BIGINT',
      custom_mrr: 'DECIMAL(38,9)',
      custom_vip: 'BOOLEAN',
      custom_renewal_date: 'DATE',
      custom_last_seen_at: 'TIMESTAMP WITH TIME ZONE',
    });
    // DuckDB's view of the same footer: converted types and string statistics.
    const converted = (await duck.runAndReadAll(`SELECT name, converted_type AS ct FROM parquet_schema('${out}')`)).getRowObjectsJS();
    const ctOf = (name: string) => converted.find((r) => r.name === name)!.ct;
    t.is(ctOf('custom_last_seen_at'), 'TIMESTAMP_MICROS');
    t.is(ctOf('custom_renewal_date'), 'DATE');
    t.is(ctOf('id'), 'UTF8');
    const meta = (await duck.runAndReadAll(`SELECT path_in_schema AS p, stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata('${out}') WHERE row_group_id = 0`)).getRowObjectsJS();
    const metaOf = (name: string) => meta.find((r) => r.p === name)!;
    t.true(typeof metaOf('email').lo === 'string' && typeof metaOf('email').hi === 'string' && String(metaOf('email').lo) <= String(metaOf('email').hi), JSON.stringify(metaOf('email')));
    const grace = (
      await duck.runAndReadAll(
        `SELECT custom_mrr::VARCHAR AS mrr, custom_seats, custom_renewal_date::VARCHAR AS d, epoch_ms(custom_last_seen_at) AS ms, emails FROM read_parquet('${out}') WHERE email = 'grace@acme.example'`,
      )
    ).getRowObjectsJson();
    t.deepEqual(grace, [{ mrr: '1234.500000000', custom_seats: '42', d: '2027-01-31', ms: String(Date.parse('2026-11-02T08:30:00Z')), emails: ['grace@acme.example', 'g.hopper@navy.example'] }]);
    duck.closeSync();

    const manifest = await readManifest(`${out}.manifest.json`);
    t.like(manifest, { format: 'parquet', gzip: false, typed: true, rows: 252 });
    t.is(manifest.schema?.hash ?? null, stats.schemaHash);
    t.deepEqual(
      manifest.schema?.columns.filter((c) => c.source.startsWith('custom.')).map((c) => [c.name, c.type]),
      [
        ['custom_tier', 'string'],
        ['custom_interests', 'list<string>'],
        ['custom_seats', 'int64'],
        ['custom_mrr', 'decimal(38,9)'],
        ['custom_vip', 'boolean'],
        ['custom_renewal_date', 'date'],
        ['custom_last_seen_at', 'timestamp'],
        ['custom_linkedin', 'string'],
        ['custom_owner', 'string'],
        ['custom_notes', 'string'],
        ['custom_contact_salesforce_Contact_ID_for_Pylon__c', 'string'],
      ],
    );
  });
});

test('parquet with --columns and --filter: only those columns and contacts; an unchanged org gives the same bytes the next night', async (t) => {
  await withEmulator({ seed: 32, seedRandom: 60 }, async (emulator) => {
    emulator.store.insert(FULL_CONTACT);
    const dir = await tempDir();
    const out = join(dir, 'acme.parquet');
    const input = { output: out, columns: 'id,email,custom.mrr,custom.interests', filter: 'email~@acme.example' };
    const first = await exportFrom(emulator, input);
    const rows = await parquetReadObjects({ file: (await readFile(out)).buffer as ArrayBuffer });
    const expected = storeContacts(emulator).filter((c) => c.email?.includes('@acme.example'));
    t.true(expected.length >= 1);
    t.deepEqual(
      rows,
      expected.map((c) => ({ id: c.id, email: c.email, custom_mrr: c.custom_fields?.mrr?.value ? Number(c.custom_fields.mrr.value) : null, custom_interests: c.custom_fields?.interests?.values ?? [] })),
    );
    const second = await exportFrom(emulator, input);
    t.is(second.sha256, first.sha256);
  });
});

test('typed NDJSON: JSON types, warehouse names, every line valid against the JSON Schema sidecar; BigQuery and Postgres sidecars', async (t) => {
  await withEmulator({ seed: 33, seedRandom: 80 }, async (emulator) => {
    emulator.store.insert(FULL_CONTACT);
    const dir = await tempDir();
    const out = join(dir, 'contacts.ndjson');
    const stats = await exportFrom(emulator, { output: out, typed: true });
    t.like(stats, { complete: true, format: 'ndjson', rows: 81 });
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const grace = lines.find((l) => l.email === 'grace@acme.example')!;
    t.like(grace, { custom_seats: 42, custom_mrr: 1234.5, custom_vip: true, custom_renewal_date: '2027-01-31', custom_last_seen_at: '2026-11-02T08:30:00.000000Z' });
    t.deepEqual(grace.custom_interests, ['api', 'security']);
    t.deepEqual(grace.phone_numbers, ['15551230001', '15551230002']);

    const schema = JSON.parse(await readFile(`${out}.schema.json`, 'utf8')) as Record<string, unknown>;
    const validate = new Ajv2020({ strict: false, formats: { date: /^\d{4}-\d{2}-\d{2}$/, 'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/ } }).compile(schema);
    for (const line of lines) t.true(validate(line), JSON.stringify(validate.errors));
    t.false(validate({ ...grace, custom_seats: '42' }), 'a string where the schema says integer is refused');

    const bigquery = JSON.parse(await readFile(`${out}.bigquery.json`, 'utf8')) as Array<Record<string, string>>;
    t.deepEqual(bigquery.find((f) => f.name === 'emails'), { name: 'emails', type: 'STRING', mode: 'REPEATED', description: 'emails' });
    t.deepEqual(bigquery.find((f) => f.name === 'id'), { name: 'id', type: 'STRING', mode: 'REQUIRED', description: 'id' });
    t.like(bigquery.find((f) => f.name === 'custom_mrr'), { type: 'NUMERIC', mode: 'NULLABLE' });
    t.like(bigquery.find((f) => f.name === 'custom_last_seen_at'), { type: 'TIMESTAMP' });
    const ddl = await readFile(`${out}.postgres.sql`, 'utf8');
    t.regex(ddl, /"custom_mrr" numeric\(38,9\)/);
    t.regex(ddl, /"emails" text\[\] NOT NULL/);
    t.regex(ddl, /"id" text COLLATE "C" NOT NULL PRIMARY KEY/);
    t.deepEqual((await readManifest(`${out}.manifest.json`)).schemaFiles, ['contacts.ndjson.schema.json', 'contacts.ndjson.bigquery.json', 'contacts.ndjson.postgres.sql']);
  });
});

test('a value that does not fit its column type is reported, not written as something else', async (t) => {
  await withEmulator({ seed: 34, seedRandom: 5 }, async (emulator) => {
    // Straight into the store (no validation), as a server could return it: a number field holding a fraction.
    const bad = emulator.store.append({ id: emulator.store.nextId(), name: 'Odd Seats', email: 'odd@seats.example', custom_fields: { seats: { slug: 'seats', value: '2.5' } } });
    const dir = await tempDir();
    const out = join(dir, 'c.parquet');
    const stats = await exportFrom(emulator, { output: out });
    t.like(stats, { complete: true, rows: 5, recordErrors: 1 });
    const report = await readFile(`${out}.errors.csv`, 'utf8');
    t.regex(report, new RegExp(`${bad.id}.*custom\\.seats = ""2\\.5"" is not an integer \\(column type int64\\)`));
  });
});

test('usage: --gzip, --bom with parquet; --typed with CSV', async (t) => {
  const dir = await tempDir();
  for (const [input, message] of [
    [{ output: join(dir, 'a.parquet'), gzip: true }, /--gzip`: expected CSV or NDJSON output \(Parquet compresses/],
    [{ output: join(dir, 'a.parquet'), bom: true }, /--bom`: expected CSV output/],
    [{ output: join(dir, 'a.csv'), typed: true }, /--typed`: expected NDJSON output/],
  ] as const) {
    const error = await t.throwsAsync(exportFrom({ url: 'http://127.0.0.1:9', token: 'tok-test-only' }, input));
    t.is(error?.name, 'ConfigError');
    t.regex(error!.message, message);
  }
});
