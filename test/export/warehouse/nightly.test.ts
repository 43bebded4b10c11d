import test from 'ava';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DEFAULT_CUSTOM_FIELDS } from '../../../src/emulator/index.js';
import { exportExitCode } from '../../../src/cli/commands/export.js';
import { client, withEmulator } from '../../helpers/with-emulator.js';
import { createFaultProxy } from '../fault-proxy.js';
import { exportFrom, readManifest, tempDir } from '../helpers.js';

/** A private copy of the default custom fields, so a test can change one. */
const ownFields = () => structuredClone(DEFAULT_CUSTOM_FIELDS);

test('a custom field that changes type stops the next typed run before anything is published; --allow-schema-change goes on', async (t) => {
  const customFields = ownFields();
  await withEmulator({ seed: 61, seedRandom: 30, customFields }, async (emulator) => {
    const dir = await tempDir();
    const out = join(dir, 'contacts.parquet');
    await exportFrom(emulator, { output: out });
    const before = { data: await readFile(out), manifest: await readFile(`${out}.manifest.json`) };

    customFields.find((f) => f.slug === 'seats')!.type = 'text';
    const stopped = await exportFrom(emulator, { output: out });
    t.like(stopped, { complete: false, rows: 0, pages: 0 });
    t.is(stopped.stoppedAt?.code, 'SCHEMA_CHANGED');
    t.is(stopped.stoppedAt?.message, 'The schema changed against the previous run: changed custom_seats (int64 → string). Nothing was published; pass --allow-schema-change to accept it');
    t.is(exportExitCode(stopped), 1);
    t.deepEqual(await readFile(out), before.data, 'the previous data file is untouched');
    t.deepEqual(await readFile(`${out}.manifest.json`), before.manifest, 'and so is its manifest');
    t.like(await readManifest(`${out}.manifest.json.failed.json`), { complete: false, status: 'failed' });

    // Dropping a column is a change too.
    customFields.find((f) => f.slug === 'seats')!.type = 'number';
    const dropped = await exportFrom(emulator, { output: out, columns: 'id,email' });
    t.regex(dropped.stoppedAt!.message, /dropped name, emails, account_id, .*custom_seats/);

    customFields.find((f) => f.slug === 'seats')!.type = 'text';
    const allowed = await exportFrom(emulator, { output: out, allowSchemaChange: true });
    t.true(allowed.complete);
    t.deepEqual(allowed.warnings, ['schema changed against the previous run (changed custom_seats (int64 → string)); going on because of --allow-schema-change']);
    t.not(allowed.schemaHash, JSON.parse(before.manifest.toString()).schema.hash);
    t.false((await readdir(dir)).includes('contacts.parquet.manifest.json.failed.json'), 'a complete run clears the failed record');
  });
});

test('a new custom field only adds a column: no stop', async (t) => {
  const customFields = ownFields();
  await withEmulator({ seed: 62, seedRandom: 10, customFields }, async (emulator) => {
    const dir = await tempDir();
    const out = join(dir, 'c.ndjson');
    await exportFrom(emulator, { output: out, typed: true });
    customFields.push({ ...customFields[0]!, id: 'cf-new', slug: 'region', label: 'Region', type: 'text', select_metadata: undefined });
    const next = await exportFrom(emulator, { output: out, typed: true });
    t.true(next.complete);
    t.deepEqual(next.warnings, []);
    t.is(next.columns.at(-1), 'custom.region');
  });
});

test('change log: inserts on the first night; then insert, update and delete rows with hash, valid-from and run id, in a stable order', async (t) => {
  await withEmulator({ seed: 63, seedRandom: 25 }, async (emulator) => {
    const api = client(emulator);
    const dir = await tempDir();
    const day1 = join(dir, 'day1.parquet');
    const first = await exportFrom(emulator, { output: day1, changes: join(dir, 'day1.changes.csv'), runId: 'r1', now: new Date('2026-11-29T01:00:00Z') });
    t.deepEqual(first.changes, { path: join(dir, 'day1.changes.csv'), insert: 25, update: 0, delete: 0 });
    const day1Rows = parse(await readFile(join(dir, 'day1.changes.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    t.is(day1Rows.length, 25);
    t.deepEqual(Object.keys(day1Rows[0]!), ['op', 'id', 'row_hash', 'valid_from', 'run_id']);
    t.true(day1Rows.every((r) => r.op === 'insert' && /^[0-9a-f]{16}$/.test(r.row_hash!) && r.valid_from === '2026-11-29T01:00:00.000Z' && r.run_id === 'r1'));

    const ids = day1Rows.map((r) => r.id!);
    await api.patch(`/contacts/${ids[3]}`, { name: 'Updated Name' });
    await api.delete(`/contacts/${ids[4]}`);
    const added = (await api.post('/contacts', { name: 'Brand New', email: 'brand.new@changes.example' })).body.data.id as string;
    const night2 = { output: join(dir, 'day2.parquet'), since: `${day1}.manifest.json`, changes: join(dir, 'day2.changes.csv'), runId: 'r2', now: new Date('2026-11-30T01:00:00Z') };
    const second = await exportFrom(emulator, night2);
    t.like(second.changes, { insert: 1, update: 1, delete: 1 });
    const rows = parse(await readFile(night2.changes, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    t.deepEqual(rows.map((r) => [r.op, r.id]), [['update', ids[3]], ['insert', added], ['delete', ids[4]]]);
    t.is(rows[2]!.row_hash, day1Rows[4]!.row_hash, 'a delete carries the last hash seen');
    t.not(rows[0]!.row_hash, day1Rows[3]!.row_hash);
    t.true(rows.every((r) => r.valid_from === '2026-11-30T01:00:00.000Z' && r.run_id === 'r2'));
    t.like((await readManifest(`${night2.output}.manifest.json`)).changes, { path: 'day2.changes.csv', insert: 1, update: 1, delete: 1 });

    // The same night again, from the same baseline: the same bytes.
    const again = await readFile(night2.changes);
    await exportFrom(emulator, night2);
    t.deepEqual(await readFile(night2.changes), again);
  });
});

test('path templates: {date}, {time} and {run_id} make a partition holding the data file and _SUCCESS (written last, not on failure); manifest and sidecars beside the dataset root', async (t) => {
  await withEmulator({ seed: 64, seedRandom: 12 }, async (emulator) => {
    const dir = await tempDir();
    const now = new Date('2026-11-30T03:04:05Z');
    const stats = await exportFrom(emulator, { output: join(dir, 'contacts/dt={date}/t={time}/{run_id}.parquet'), runId: 'nightly-7', now });
    const part = join(dir, 'contacts/dt=2026-11-30/t=030405');
    t.is(stats.output, join(part, 'nightly-7.parquet'));
    // Issue 19 (lake layout): the partition holds the data file and _SUCCESS only; the sidecars go beside the dataset root.
    t.deepEqual((await readdir(part)).sort(), ['_SUCCESS', 'nightly-7.parquet']);
    const meta = join(dir, 'contacts._meta/dt=2026-11-30/t=030405');
    t.deepEqual((await readdir(meta)).sort(), ['nightly-7.parquet.bigquery.json', 'nightly-7.parquet.manifest.json', 'nightly-7.parquet.postgres.sql', 'nightly-7.parquet.schema.json', 'nightly-7.parquet.state']);
    t.is((await stat(join(part, '_SUCCESS'))).size, 0);
    t.true((await stat(join(part, '_SUCCESS'))).mtimeMs >= (await stat(join(meta, 'nightly-7.parquet.manifest.json'))).mtimeMs);
    t.like(await readManifest(join(meta, 'nightly-7.parquet.manifest.json')), { runId: 'nightly-7', startedAt: now.toISOString(), file: '../../../contacts/dt=2026-11-30/t=030405/nightly-7.parquet' });

    const proxy = await createFaultProxy(emulator.url, { failFromPage: 1, fault: 'status=500' });
    try {
      const failed = await exportFrom(emulator, { output: join(dir, 'x/dt={date}/c.parquet'), baseUrl: proxy.url, now });
      t.false(failed.complete);
    } finally {
      await proxy.close();
    }
    // No _SUCCESS, and (since the run takes back the partition folders it made and left empty) no folder either.
    t.false(await readdir(join(dir, 'x/dt=2026-11-30')).then((names) => names.includes('_SUCCESS'), () => false));
    await t.throwsAsync(stat(join(dir, 'x/dt=2026-11-30')), { code: 'ENOENT' });
    await t.throwsAsync(exportFrom(emulator, { output: join(dir, '{day}/c.csv') }), { message: /placeholders are \{date\}, \{time\} or \{run_id\}/ });
  });
});
