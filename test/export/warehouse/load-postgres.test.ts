import test from 'ava';
import { join } from 'node:path';
import { resolveExportOptions } from '../../../src/export/options.js';
import { readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { client, withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { runCli } from '../../helpers/cli.js';
import { createFaultProxy } from '../fault-proxy.js';
import { FULL_CONTACT, exportFrom, readManifest, storeContacts, tempDir } from '../helpers.js';
import { selectList, stateIds, valuesSha256 } from './table-check.js';
import type { ExportManifest } from '../../../src/export/manifest.js';
import type pg from 'pg';

const url = (table: string) => `${PG_URL}#${table}`;

async function tableState(db: pg.Client, table: string, manifest: ExportManifest) {
  const columns = manifest.schema!.columns;
  const live = (await db.query(`SELECT ${selectList(columns, 'postgres')} FROM "${table}" WHERE _deleted_at IS NULL`)).rows as Array<Record<string, unknown>>;
  return { rows: live.length, ids: live.map((r) => String(r.id)).sort(), values: valuesSha256(columns, live) };
}

pgTest(`postgres round trip: export → load → row count, ids and values hash equal the manifest; a second run changes exactly the changed rows${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 41, seedRandom: 300 }, async (emulator) => {
    emulator.store.insert(FULL_CONTACT);
    const api = client(emulator);
    const dir = await tempDir();
    const table = uniqueTable('contacts');
    const manifestPath = join(dir, 'load.manifest.json');
    const first = await exportFrom(emulator, { to: url(table), manifest: manifestPath, pageSize: 50, runId: 'night-1' });
    t.like(first, { complete: true, contactsRead: 301, recordErrors: 0 });
    t.deepEqual(first.load && { ...first.load, mergeMs: 0 }, { target: `${PG_URL!.replace(/:[^:@/]*@/, ':***@')}#${table}`, table, inserted: 301, updated: 0, unchanged: 0, deleted: 0, mergeMs: 0, staged: 'all' });
    const manifest = await readManifest(manifestPath);
    t.is(manifest.file, null);
    t.false(JSON.stringify(manifest).includes('pylon-test-password'), 'no password in the manifest');

    await withPg(async (db) => {
      const state = await tableState(db, table, manifest);
      t.is(state.rows, manifest.values!.rows);
      t.deepEqual(state.ids, await stateIds(manifestPath, manifest));
      t.is(state.values, manifest.values!.sha256);
      const types = (await db.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1`, [table])).rows as Array<{ column_name: string; data_type: string }>;
      const typeOf = Object.fromEntries(types.map((r) => [r.column_name, r.data_type]));
      t.like(typeOf, { id: 'text', emails: 'ARRAY', custom_seats: 'bigint', custom_mrr: 'numeric', custom_vip: 'boolean', custom_renewal_date: 'date', custom_last_seen_at: 'timestamp with time zone', _row_hash: 'text', _deleted_at: 'timestamp with time zone' });
      const grace = (await db.query(`SELECT custom_mrr::text AS mrr, custom_interests, custom_last_seen_at = '2026-11-02T08:30:00Z'::timestamptz AS seen FROM "${table}" WHERE email = 'grace@acme.example'`)).rows;
      t.deepEqual(grace, [{ mrr: '1234.500000000', custom_interests: ['api', 'security'], seen: true }]);
    });

    // 1% of the org changes: 3 updates, 2 deletions, 1 new contact.
    const ids = (await api.get('/contacts?limit=999')).body.data.map((c: { id: string }) => c.id) as string[];
    for (const id of ids.slice(10, 13)) await api.patch(`/contacts/${id}`, { name: `Renamed ${id.slice(0, 6)}` });
    for (const id of ids.slice(20, 22)) await api.delete(`/contacts/${id}`);
    const added = (await api.post('/contacts', { name: 'New Person', email: 'new.person@load.example' })).body.data.id as string;
    const now = new Date('2026-11-30T02:00:00Z');
    const second = await exportFrom(emulator, { to: url(table), manifest: manifestPath, pageSize: 50, runId: 'night-2', now });
    t.deepEqual(second.load && { ...second.load, target: undefined, mergeMs: 0 }, { target: undefined, table, inserted: 1, updated: 3, unchanged: 296, deleted: 2, mergeMs: 0, staged: 'changes' });
    await withPg(async (db) => {
      const touched = (await db.query(`SELECT id FROM "${table}" WHERE _run_id = 'night-2' AND _deleted_at IS NULL ORDER BY id`)).rows.map((r) => r.id as string);
      t.deepEqual(touched, [...ids.slice(10, 13), added].sort(), 'only the changed and new rows were written');
      const gone = (await db.query(`SELECT id, _deleted_at = $1::timestamptz AS at_run FROM "${table}" WHERE _deleted_at IS NOT NULL ORDER BY id`, [now.toISOString()])).rows;
      t.deepEqual(gone, ids.slice(20, 22).sort().map((id) => ({ id, at_run: true })));
      const state = await tableState(db, table, await readManifest(manifestPath));
      t.is(state.values, (await readManifest(manifestPath)).values!.sha256);
      t.is(state.rows, 300);
    });

    // --hard-delete removes them instead.
    const third = await exportFrom(emulator, { to: url(table), manifest: manifestPath, pageSize: 50, hardDelete: true });
    t.like(third.load, { inserted: 0, updated: 0, unchanged: 300, deleted: 2 });
    await withPg(async (db) => t.is(Number((await db.query(`SELECT count(*) AS n FROM "${table}"`)).rows[0].n), 300));
  });
});

pgTest(`postgres: --columns id loads night after night (the merge's UPDATE sets only the bookkeeping columns); a deleted contact is marked, a new one inserted${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 44, seedRandom: 40 }, async (emulator) => {
    const api = client(emulator);
    const table = uniqueTable('ids_only');
    const first = await exportFrom(emulator, { to: url(table), columns: 'id', pageSize: 20, runId: 'ids-1' });
    t.like(first.load, { inserted: 40, updated: 0, deleted: 0 });
    const ids = (await api.get('/contacts?limit=999')).body.data.map((c: { id: string }) => c.id) as string[];
    await api.delete(`/contacts/${ids[0]}`);
    const added = (await api.post('/contacts', { name: 'Ids Only', email: 'ids.only@load.example' })).body.data.id as string;
    const second = await exportFrom(emulator, { to: url(table), columns: 'id', pageSize: 20, runId: 'ids-2' });
    t.true(second.complete, JSON.stringify(second.stoppedAt));
    t.like(second.load, { inserted: 1, updated: 0, unchanged: 39, deleted: 1 });
    await withPg(async (db) => {
      const columns = (await db.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [table])).rows.map((r) => r.column_name);
      t.deepEqual(columns, ['id', '_row_hash', '_run_id', '_extracted_at', '_deleted_at']);
      const rows = (await db.query(`SELECT id, _run_id, _deleted_at IS NOT NULL AS deleted FROM "${table}" WHERE id = ANY($1) ORDER BY id`, [[ids[0], added]])).rows;
      t.deepEqual(rows, [{ id: ids[0], _run_id: 'ids-2', deleted: true }, { id: added, _run_id: 'ids-2', deleted: false }].sort((a, b) => (a.id < b.id ? -1 : 1)));
    });
  });
});

pgTest(`postgres: a run that fails mid-walk leaves the table as it was${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 42, seedRandom: 120 }, async (emulator) => {
    const dir = await tempDir();
    const table = uniqueTable('contacts');
    const manifestPath = join(dir, 'm.json');
    await exportFrom(emulator, { to: url(table), manifest: manifestPath, pageSize: 20 });
    const manifest = await readManifest(manifestPath);
    const before = await withPg((db) => tableState(db, table, manifest));
    await client(emulator).post('/contacts', { name: 'Never Loaded', email: 'never@load.example' });
    const proxy = await createFaultProxy(emulator.url, { failFromPage: 3, fault: 'status=500' });
    try {
      const failed = await exportFrom(emulator, { to: url(table), manifest: manifestPath, pageSize: 20, baseUrl: proxy.url });
      t.false(failed.complete);
      t.is(failed.load, null);
    } finally {
      await proxy.close();
    }
    t.deepEqual(await withPg((db) => tableState(db, table, manifest)), before);
    t.like(await readManifest(manifestPath), { complete: true }, 'the complete manifest is untouched');
    t.like(await readManifest(`${manifestPath}.failed.json`), { complete: false, status: 'failed' });
    await withPg(async (db) => t.is((await db.query(`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE '_pylon_stage_%' AND relpersistence = 'p'`)).rows[0].n, 0));
  });
});

pgTest(`postgres: a wrong password, an unreachable server, a conflicting table: exit 1 with a clear message, nothing loaded, no password shown${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 43, seedRandom: 30 }, async (emulator) => {
    const dir = await tempDir();
    const wrong = PG_URL!.replace(/:([^:@/]*)@/, ':not-the-Secret-42@');
    const badLogin = await exportFrom(emulator, { to: wrong, output: join(dir, 'a.parquet') });
    t.like(badLogin, { complete: false, pages: 0 });
    t.is(badLogin.stoppedAt?.code, 'LOAD_AUTH');
    t.regex(badLogin.stoppedAt!.message, /^Cannot load into postgresql:\/\/pylon_test:\*\*\*@.*#contacts: the database refused the login/);
    t.false(JSON.stringify(badLogin).includes('not-the-Secret-42'));
    t.false((await readdir(dir)).includes('a.parquet'), 'no file published either');
    t.false((await readFile(join(dir, 'a.parquet.manifest.json'), 'utf8')).includes('not-the-Secret-42'));

    const closedPort = PG_URL!.replace(/@([^:/]+):\d+\//, '@$1:9/');
    const unreachable = await exportFrom(emulator, { to: closedPort });
    t.is(unreachable.stoppedAt?.code, 'LOAD_CONNECT');
    t.regex(unreachable.stoppedAt!.message, /the database is unreachable \(ECONNREFUSED\)/);

    const table = uniqueTable('conflict');
    await withPg((db) => db.query(`CREATE TABLE "${table}" (id integer PRIMARY KEY, name text); INSERT INTO "${table}" VALUES (1, 'kept')`));
    const conflict = await exportFrom(emulator, { to: url(table) });
    t.is(conflict.stoppedAt?.code, 'LOAD_TABLE_CONFLICT');
    t.regex(conflict.stoppedAt!.message, /column id is integer, the export's is text/);
    t.is(conflict.pages, 0, 'found before any page was read');
    await withPg(async (db) => t.deepEqual((await db.query(`SELECT * FROM "${table}"`)).rows, [{ id: 1, name: 'kept' }]));

    // The CLI: exit 1, the password nowhere in its output.
    const run = await runCli(['export', '--to', wrong, '--quiet'], { env: { PYLON_API_TOKEN: emulator.token, PYLON_BASE_URL: emulator.url } });
    t.is(run.code, 1, run.stderr);
    t.regex(run.stderr, /LOAD_AUTH|refused the login/);
    t.false((run.stdout + run.stderr).includes('not-the-Secret-42'));
  });
});

pgTest(`postgres: no password anywhere (URL, PGPASSWORD, ~/.pgpass) for a server that asks for one: LOAD_AUTH saying where to put it, not a driver error${PG_SKIP_NOTE}`, async (t) => {
  // A role of this test's own with a password; the URL names it without one.
  const role = uniqueTable('etl');
  const secret = `Etl-Secret-${process.pid}`;
  await withPg((db) => db.query(`CREATE ROLE "${role}" LOGIN PASSWORD '${secret}'`));
  t.teardown(() => withPg((db) => db.query(`DROP OWNED BY "${role}"; DROP ROLE "${role}"`)));
  const noPassword = new URL(PG_URL!);
  noPassword.username = role;
  noPassword.password = '';
  await withEmulator({ seed: 44, seedRandom: 5 }, async (emulator) => {
    const dir = await tempDir();
    // The CLI with a HOME of its own (no ~/.pgpass) and no PGPASSWORD: exit 1, LOAD_AUTH, the way out in the message.
    const run = await runCli(['export', '--to', `${noPassword}#contacts`, '--quiet', '--json', '--manifest', join(dir, 'm.json')], {
      env: { PYLON_API_TOKEN: emulator.token, PYLON_BASE_URL: emulator.url, HOME: dir, PGPASSWORD: undefined, PGPASSFILE: undefined },
    });
    t.is(run.code, 1, run.stderr);
    const stats = JSON.parse(run.stdout) as { stoppedAt?: { code: string; message: string } };
    t.is(stats.stoppedAt?.code, 'LOAD_AUTH', run.stderr);
    t.regex(stats.stoppedAt!.message, new RegExp(`: the server asked for a password for ${role} and none was given: set PGPASSWORD, ~/\\.pgpass or put it in the URL \\(user:password@host\\)$`));
    t.notRegex(run.stderr, /SASL|client password must be/);
    t.false((run.stdout + run.stderr).includes(secret));
    // The way out the message gives: the same run with the password in ~/.pgpass loads.
    await writeFile(join(dir, '.pgpass'), `${noPassword.hostname}:${noPassword.port}:${noPassword.pathname.slice(1)}:${role}:${secret}\n`, { mode: 0o600 });
    // A schema of the role's own: the public schema's load tables (_pylon_state, _pylon_loads) belong to the roles other tests load with.
    await withPg((db) => db.query(`CREATE SCHEMA "${role}" AUTHORIZATION "${role}"`));
    const withPgpass = await runCli(['export', '--to', `${noPassword}#${role}.contacts`, '--quiet', '--json', '--manifest', join(dir, 'm.json')], {
      env: { PYLON_API_TOKEN: emulator.token, PYLON_BASE_URL: emulator.url, HOME: dir, PGPASSWORD: undefined, PGPASSFILE: undefined },
    });
    t.is(withPgpass.code, 0, withPgpass.stderr);
    t.false((withPgpass.stdout + withPgpass.stderr).includes(secret));
    // pg 8.23 warns when it reads the password file itself ("pgpass support is deprecated"): the CLI reads it, so nothing is printed.
    t.notRegex(withPgpass.stderr, /Warning|deprecated/i);
    // The file PGPASSFILE names, with no ~/.pgpass: found the same way, as quietly.
    const elsewhere = join(dir, 'elsewhere.pgpass');
    await rename(join(dir, '.pgpass'), elsewhere);
    const withPgpassfile = await runCli(['export', '--to', `${noPassword}#${role}.contacts`, '--quiet', '--json', '--manifest', join(dir, 'm.json')], {
      env: { PYLON_API_TOKEN: emulator.token, PYLON_BASE_URL: emulator.url, HOME: dir, PGPASSWORD: undefined, PGPASSFILE: elsewhere },
    });
    t.is(withPgpassfile.code, 0, withPgpassfile.stderr);
    t.notRegex(withPgpassfile.stderr, /Warning|deprecated/i);
    t.false((withPgpassfile.stdout + withPgpassfile.stderr).includes(secret));
  });
});

test('--to: a URL without a database, an empty or bad table name, an unknown scheme are usage errors (exit 2); the password is not echoed', async (t) => {
  for (const [to, message] of [
    ['postgresql://u:Sekret-99@127.0.0.1:5432', /expected a database name in the URL/],
    ['postgresql://u:Sekret-99@127.0.0.1:5432/db#', /expected a table name after #/],
    ['postgresql://u:Sekret-99@127.0.0.1:5432/db#drop table x', /expected a table name after #/],
    ['mysql://u:Sekret-99@host/db', /expected duckdb:<file>\[#table\] or postgresql:\/\/…\[#table\], got "mysql:\/\/u:\*\*\*@host\/db"; e\.g\. duckdb:warehouse\.duckdb or postgresql:\/\/etl@db\.example\.com\/warehouse#contacts$/],
    // The usual slips get the spelling meant, the password hidden even where the URL is malformed.
    ['postgres//u:Sekret-99@host/db#contacts', /got "postgres\/\/u:\*\*\*@host\/db#contacts" \(did you mean postgresql:\/\/u:\*\*\*@host\/db#contacts\?\)$/],
    ['postgresql:/u:Sekret-99@host/db', /\(did you mean postgresql:\/\/u:\*\*\*@host\/db\?\)$/],
    ['warehouse.duckdb', /got "warehouse\.duckdb" \(did you mean duckdb:warehouse\.duckdb\?\)$/],
  ] as const) {
    const error = t.throws(() => resolveExportOptions({ token: 'tok-test-only', env: {}, to }));
    t.is(error?.name, 'ConfigError');
    t.regex(error!.message, message);
    t.false(error!.message.includes('Sekret-99'), error!.message);
  }
});

pgTest(`postgres: the .postgres.sql sidecar creates a table the Parquet schema describes${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 44, seedRandom: 5 }, async (emulator) => {
    const dir = await tempDir();
    const out = join(dir, 'c.parquet');
    await exportFrom(emulator, { output: out });
    const ddl = await readFile(`${out}.postgres.sql`, 'utf8');
    const table = uniqueTable('sidecar');
    await withPg(async (db) => {
      await db.query(ddl.replace('"contacts"', `"${table}"`));
      const columns = (await db.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [table])).rows.map((r) => r.column_name);
      t.deepEqual(columns, (await readManifest(`${out}.manifest.json`)).schema!.columns.map((c) => c.name));
    });
  });
});

pgTest(`postgres: a first load copies into the new table inside its transaction: a run that fails mid-walk leaves no table; a complete one leaves the same table as a merge (primary key, no column defaults)${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 47, seedRandom: 90 }, async (emulator) => {
    const table = uniqueTable('contacts');
    const exists = () => withPg(async (db) => (await db.query(`SELECT to_regclass($1) AS oid`, [`"${table}"`])).rows[0].oid !== null);
    const proxy = await createFaultProxy(emulator.url, { failFromPage: 3, fault: 'status=500' });
    try {
      const failed = await exportFrom(emulator, { to: url(table), pageSize: 20, baseUrl: proxy.url, runId: 'fails' });
      t.false(failed.complete);
      t.is(failed.load, null);
    } finally {
      await proxy.close();
    }
    t.false(await exists(), 'the table the failed run created was rolled back');

    const steps: unknown[] = [];
    const loaded = await exportFrom(emulator, { to: url(table), pageSize: 20, runId: 'first-night' }, { onMergeStep: (step, counts) => steps.push([step, counts]) });
    t.like(loaded.load, { inserted: 90, updated: 0, unchanged: 0, deleted: 0 });
    t.deepEqual(steps, [['staged', {}], ['updated', { updated: 0 }], ['inserted', { updated: 0, inserted: 90 }], ['deleted', { updated: 0, inserted: 90, deleted: 0 }]], 'the merge still reports its four steps');
    await withPg(async (db) => {
      const rows = (await db.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, min(_run_id) AS lo, max(_run_id) AS hi, count(DISTINCT _extracted_at)::int AS at, count(_deleted_at)::int AS deleted FROM "${table}"`)).rows[0];
      t.deepEqual(rows, { n: 90, ids: 90, lo: 'first-night', hi: 'first-night', at: 1, deleted: 0 });
      const key = (await db.query(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p'`, [`"${table}"`])).rows;
      t.deepEqual(key, [{ def: 'PRIMARY KEY (id)' }]);
      const defaults = (await db.query(`SELECT count(*)::int AS n FROM pg_attrdef WHERE adrelid = to_regclass($1)`, [`"${table}"`])).rows[0].n;
      t.is(defaults, 0, 'the run’s values were column defaults only while its rows were copied');
      const collations = (await db.query(`SELECT column_name, collation_name FROM information_schema.columns WHERE table_name = $1 AND column_name IN ('id', 'name') ORDER BY column_name`, [table])).rows;
      t.deepEqual(collations, [{ column_name: 'id', collation_name: 'C' }, { column_name: 'name', collation_name: null }], 'the key sorts bytewise; other text keeps the database default');
      // An id column of the database's default collation (another table) joins the key without naming a collation.
      await db.query(`CREATE TEMP TABLE other_ids AS SELECT id COLLATE "default" AS id FROM "${table}"`);
      t.is((await db.query(`SELECT collation_name FROM information_schema.columns WHERE table_name = 'other_ids'`)).rows[0].collation_name, null);
      const joined = (await db.query(`SELECT count(*)::int AS n FROM "${table}" c JOIN other_ids o ON o.id = c.id WHERE o.id >= c.id`)).rows[0].n;
      t.is(joined, 90);
    });
    await client(emulator).patch(`/contacts/${storeContacts(emulator)[0]!.id}`, { name: 'Second Night' });
    const second = await exportFrom(emulator, { to: url(table), pageSize: 20, runId: 'second-night' });
    t.like(second.load, { inserted: 0, updated: 1, unchanged: 89, deleted: 0 });
  });
});
