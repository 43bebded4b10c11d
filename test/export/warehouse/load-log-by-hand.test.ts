import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DEFAULT_CUSTOM_FIELDS } from '../../../src/emulator/index.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../../helpers/cli.js';
import { readManifest } from '../helpers.js';
import { selectList, valuesSha256 } from './table-check.js';

/**
 * The load log `_pylon_loads` changed by hand (a dbt user's column, a column
 * dropped and added back, a column dropped):
 * - before, a load wrote its row by position, so a column added by hand and
 *   one dropped and added back (now last) took each other's values (a
 *   committed load's schema change landed in `error`);
 * - a column dropped failed the run after (or before) the whole walk with the
 *   database's own words (`INSERT has more expressions than target columns`,
 *   `column "table_name" does not exist`); it is now refused before the first
 *   page, naming the columns and the way on, and the night after the way on
 *   loads the table equal to Pylon.
 */

interface Db {
  to: string;
  table: string;
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
  run(sql: string): Promise<void>;
  dialect: 'postgres' | 'duckdb';
  types: { text: string };
}

async function loadLogNights(t: ExecutionContext, db: Db) {
  const customFields = structuredClone(DEFAULT_CUSTOM_FIELDS);
  const emulator = await startEmulator(t, { seed: 61, seedRandom: 20, customFields });
  const dir = tempDir(t);
  const night = (runId: string, ...extra: string[]) =>
    runCli(['export', `${runId}.csv`, '--to', db.to, '--run-id', runId, '--rate', FAST_RATE, '--quiet', ...extra], { cwd: dir, env: envFor(emulator) });
  // The test's own schema or database file: every row of the log is this test's.
  const log = () => db.rows(`SELECT run_id, status, schema_changes, error, note FROM _pylon_loads ORDER BY started_at, run_id`);

  t.is((await night('n1')).code, 0);
  // A dbt user's column, and schema_changes dropped and added back: the log's columns are no longer in the tool's order.
  await db.run(`ALTER TABLE _pylon_loads ADD COLUMN note ${db.types.text}`);
  await db.run(`ALTER TABLE _pylon_loads DROP COLUMN schema_changes`);
  await db.run(`ALTER TABLE _pylon_loads ADD COLUMN schema_changes ${db.types.text}`);
  customFields.push({ ...customFields[0]!, id: 'cf-region', slug: 'region', label: 'Region', type: 'text', select_metadata: undefined });
  const second = await night('n2');
  t.is(second.code, 0, second.stderr);
  const n2 = (await log()).find((r) => r.run_id === 'n2');
  t.like(n2, { status: 'committed', error: null, note: null }, 'each value in its own column');
  t.regex(String(n2?.schema_changes), /^added column custom_region/);

  await db.run(`ALTER TABLE _pylon_loads DROP COLUMN status`);
  const listed = emulator.stats().requests.list ?? 0;
  const refused = await night('n3');
  t.is(refused.code, 1, refused.stderr);
  t.regex(refused.stderr, /LOAD_TABLE_CONFLICT/);
  t.regex(refused.stderr, /the load log ("\w+"\.)?"_pylon_loads" was changed by hand: it has no column status, which every load writes; add it back \(ALTER TABLE ("\w+"\.)?"_pylon_loads" ADD COLUMN status [a-zA-Z]+;\) or move the log aside/);
  t.notRegex(refused.stderr, /\n\s+at /, 'no stack trace');
  t.is(emulator.stats().requests.list ?? 0, listed, 'refused before the first page');
  t.false(existsSync(join(dir, 'n3.csv')), 'nothing published');

  // The way on: move the log aside; the next night loads (every row staged) and the table equals Pylon.
  await db.run(`ALTER TABLE _pylon_loads RENAME TO _pylon_loads_old`);
  const healed = await night('n4', '--json');
  t.is(healed.code, 0, healed.stderr);
  const manifest = await readManifest(join(dir, 'n4.csv.manifest.json'));
  t.like(manifest.load, { staged: 'all' });
  const columns = manifest.schema!.columns;
  t.is(valuesSha256(columns, await db.rows(`SELECT ${selectList(columns, db.dialect)} FROM "${db.table}" WHERE _deleted_at IS NULL`)), manifest.values!.sha256, 'the table equals Pylon');
}

pgTest(`postgres: a load log changed by hand: its rows keep their columns, and a column dropped is refused before the walk with the way on${PG_SKIP_NOTE}`, async (t) => {
  // The load log is one per schema: a schema of this test's own keeps other test files' loads out of it.
  const schema = uniqueTable('loglog');
  await withPg((c) => c.query(`CREATE SCHEMA "${schema}"`));
  t.teardown(() => withPg((c) => c.query(`DROP SCHEMA "${schema}" CASCADE`)));
  const inSchema = (sql: string) => `SET search_path TO "${schema}"; ${sql}`;
  await loadLogNights(t, {
    to: `${PG_URL}#${schema}.contacts`,
    table: 'contacts',
    dialect: 'postgres',
    types: { text: 'text' },
    rows: (sql) => withPg(async (c) => {
      await c.query(`SET search_path TO "${schema}"`);
      return (await c.query(sql)).rows;
    }),
    run: (sql) => withPg(async (c) => void (await c.query(inSchema(sql)))),
  });
});

test('duckdb: a load log changed by hand: its rows keep their columns, and a column dropped is refused before the walk with the way on', async (t) => {
  const file = join(tempDir(t), 'w.duckdb');
  const open = async <T>(fn: (c: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>) => {
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    try {
      return await fn(connection);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  };
  await loadLogNights(t, {
    to: `duckdb:${file}`,
    table: 'contacts',
    dialect: 'duckdb',
    types: { text: 'VARCHAR' },
    rows: (sql) => open(async (c) => (await c.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>),
    run: (sql) => open(async (c) => void (await c.run(sql))),
  });
});

/** `_pylon_columns` and the kept state with a column dropped by hand: refused before the walk with the way on, then healed. */
async function bookkeepingNights(t: ExecutionContext, db: Db) {
  const emulator = await startEmulator(t, { seed: 62, seedRandom: 20 });
  const dir = tempDir(t);
  const night = (runId: string) => runCli(['export', `${runId}.csv`, '--to', db.to, '--run-id', runId, '--rate', FAST_RATE, '--quiet', '--json'], { cwd: dir, env: envFor(emulator) });
  t.is((await night('n1')).code, 0);
  const cases = [
    { table: '_pylon_columns', column: 'source', noun: 'the record of which field each column holds', aside: 'ALTER TABLE _pylon_columns RENAME TO _pylon_columns_old' },
    { table: '_pylon_state', column: 'run_id', noun: 'the kept state', aside: `ALTER TABLE _pylon_state RENAME TO _pylon_state_old; ALTER TABLE ${db.dialect === 'postgres' ? '_pylon_state_parts' : '_pylon_state_blobs'} RENAME TO parts_old` },
  ];
  for (const [i, c] of cases.entries()) {
    await db.run(`ALTER TABLE ${c.table} DROP COLUMN ${c.column}`);
    const listed = emulator.stats().requests.list ?? 0;
    const refused = await night(`r${i}`);
    t.is(refused.code, 1, refused.stderr);
    t.regex(refused.stderr, /LOAD_TABLE_CONFLICT/);
    t.true(refused.stderr.includes(`${c.noun} `) && refused.stderr.includes(`"${c.table}" was changed by hand: it has no column ${c.column}, which every load reads and writes; the values it held went with it, so adding it back empty does not bring them back: rename it back if it was renamed (ALTER TABLE `), refused.stderr);
    t.notRegex(refused.stderr, /ADD COLUMN/, 'adding it back empty is no way on');
    t.notRegex(refused.stderr, /\n\s+at /, 'no stack trace');
    t.is(emulator.stats().requests.list ?? 0, listed, 'refused before the first page');
    for (const statement of c.aside.split('; ')) await db.run(statement);
    const healed = await night(`h${i}`);
    t.is(healed.code, 0, healed.stderr);
    const manifest = await readManifest(join(dir, `h${i}.csv.manifest.json`));
    const columns = manifest.schema!.columns;
    t.is(valuesSha256(columns, await db.rows(`SELECT ${selectList(columns, db.dialect)} FROM "${db.table}" WHERE _deleted_at IS NULL`)), manifest.values!.sha256, 'the table equals Pylon');
  }
}

pgTest(`postgres: _pylon_columns or the kept state with a column dropped by hand is refused before the walk with the way on, and heals${PG_SKIP_NOTE}`, async (t) => {
  const schema = uniqueTable('bookkeeping');
  await withPg((c) => c.query(`CREATE SCHEMA "${schema}"`));
  t.teardown(() => withPg((c) => c.query(`DROP SCHEMA "${schema}" CASCADE`)));
  await bookkeepingNights(t, {
    to: `${PG_URL}#${schema}.contacts`,
    table: 'contacts',
    dialect: 'postgres',
    types: { text: 'text' },
    rows: (sql) => withPg(async (c) => {
      await c.query(`SET search_path TO "${schema}"`);
      return (await c.query(sql)).rows;
    }),
    run: (sql) => withPg(async (c) => void (await c.query(`SET search_path TO "${schema}"; ${sql}`))),
  });
});

test('duckdb: _pylon_columns or the kept state with a column dropped by hand is refused before the walk with the way on, and heals', async (t) => {
  const file = join(tempDir(t), 'w.duckdb');
  const open = async <T>(fn: (c: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>) => {
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    try {
      return await fn(connection);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  };
  await bookkeepingNights(t, {
    to: `duckdb:${file}`,
    table: 'contacts',
    dialect: 'duckdb',
    types: { text: 'VARCHAR' },
    rows: (sql) => open(async (c) => (await c.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>),
    run: (sql) => open(async (c) => void (await c.run(sql))),
  });
});

/**
 * A column of `_pylon_columns` or of the kept state dropped and then added back (empty), as the refusal above used to
 * advise: the values it held are gone, and every night after failed with words that led nowhere (SCHEMA_CHANGED `null is
 * the column of custom.tier`, `it has column custom_… that this export does not`, exit 2 `not a pylon-contacts state
 * file`). Such a table is refused as the run opens, with the way that works: move it aside.
 */
async function addedBackNights(t: ExecutionContext, db: Db, parts: { table: string; type: string }) {
  const emulator = await startEmulator(t, { seed: 63, seedRandom: 20 });
  const dir = tempDir(t);
  const night = (runId: string) => runCli(['export', `${runId}.csv`, '--to', db.to, '--run-id', runId, '--rate', FAST_RATE, '--quiet', '--json'], { cwd: dir, env: envFor(emulator) });
  t.is((await night('n1')).code, 0);
  const cases = [
    { table: '_pylon_columns', column: 'name', type: db.types.text, aside: ['_pylon_columns'] },
    { table: '_pylon_columns', column: 'source', type: db.types.text, aside: ['_pylon_columns'] },
    { table: parts.table, column: 'data', type: parts.type, aside: ['_pylon_state', parts.table] },
  ];
  for (const [i, c] of cases.entries()) {
    await db.run(`ALTER TABLE ${c.table} DROP COLUMN ${c.column}`);
    const dropped = await night(`d${i}`);
    t.is(dropped.code, 1, dropped.stderr);
    t.true(dropped.stderr.includes(`it has no column ${c.column}, which every load reads and writes; the values it held went with it, so adding it back empty does not bring them back: rename it back if it was renamed (ALTER TABLE `), dropped.stderr);
    t.notRegex(dropped.stderr, /ADD COLUMN/);
    await db.run(`ALTER TABLE ${c.table} ADD COLUMN ${c.column} ${c.type}`);
    const listed = emulator.stats().requests.list ?? 0;
    const refused = await night(`r${i}`);
    t.is(refused.code, 1, refused.stderr);
    t.regex(refused.stderr, /LOAD_TABLE_CONFLICT/);
    t.regex(refused.stderr, new RegExp(`"${c.table}" was changed by hand: its column ${c.column} holds no value in the rows of (\\w+\\.)?contacts \\(dropped and added back\\?\\), which every load reads; move (it|those tables) aside \\(ALTER TABLE `));
    t.notRegex(refused.stderr, /\n\s+at /, 'no stack trace');
    t.is(emulator.stats().requests.list ?? 0, listed, 'refused before the first page');
    t.false(existsSync(join(dir, `r${i}.csv`)), 'nothing published');
    for (const table of c.aside) await db.run(`ALTER TABLE ${table} RENAME TO ${table}_old${i}`);
    const healed = await night(`h${i}`);
    t.is(healed.code, 0, healed.stderr);
    const manifest = await readManifest(join(dir, `h${i}.csv.manifest.json`));
    const columns = manifest.schema!.columns;
    t.is(valuesSha256(columns, await db.rows(`SELECT ${selectList(columns, db.dialect)} FROM "${db.table}" WHERE _deleted_at IS NULL`)), manifest.values!.sha256, 'the table equals Pylon');
    const quiet = await night(`q${i}`);
    t.is(quiet.code, 0, quiet.stderr);
    t.like((await readManifest(join(dir, `q${i}.csv.manifest.json`))).load, { inserted: 0, updated: 0, deleted: 0, staged: 'changes' }, 'the night after writes nothing');
  }
}

pgTest(`postgres: a column of _pylon_columns or the kept state dropped and added back empty is refused before the walk with the way that works, and heals${PG_SKIP_NOTE}`, async (t) => {
  const schema = uniqueTable('addedback');
  await withPg((c) => c.query(`CREATE SCHEMA "${schema}"`));
  t.teardown(() => withPg((c) => c.query(`DROP SCHEMA "${schema}" CASCADE`)));
  await addedBackNights(
    t,
    {
      to: `${PG_URL}#${schema}.contacts`,
      table: 'contacts',
      dialect: 'postgres',
      types: { text: 'text' },
      rows: (sql) => withPg(async (c) => {
        await c.query(`SET search_path TO "${schema}"`);
        return (await c.query(sql)).rows;
      }),
      run: (sql) => withPg(async (c) => void (await c.query(`SET search_path TO "${schema}"; ${sql}`))),
    },
    { table: '_pylon_state_parts', type: 'text' },
  );
});

test('duckdb: a column of _pylon_columns or the kept state dropped and added back empty is refused before the walk with the way that works, and heals', async (t) => {
  const file = join(tempDir(t), 'w.duckdb');
  const open = async <T>(fn: (c: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>) => {
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    try {
      return await fn(connection);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  };
  await addedBackNights(
    t,
    {
      to: `duckdb:${file}`,
      table: 'contacts',
      dialect: 'duckdb',
      types: { text: 'VARCHAR' },
      rows: (sql) => open(async (c) => (await c.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>),
      run: (sql) => open(async (c) => void (await c.run(sql))),
    },
    { table: '_pylon_state_blobs', type: 'BLOB' },
  );
});

/**
 * DuckDB writes the kept state's parts (`_pylon_state_blobs`) with its appender, by position: a column a dbt user added
 * to that table stopped every night after the whole walk with the appender's words (`Call to EndRow before all columns
 * have been appended to!`, LOAD_FAILED). It is refused as the run opens, naming the column and the DROP COLUMN; once
 * dropped, the next night loads and the one after writes nothing.
 */
test('duckdb: a column added by hand to the kept state parts (written by position) is refused before the walk with the way on, and heals', async (t) => {
  const emulator = await startEmulator(t, { seed: 64, seedRandom: 20 });
  const dir = tempDir(t);
  const file = join(dir, 'w.duckdb');
  const open = async <T>(fn: (c: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>) => {
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    try {
      return await fn(connection);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  };
  const night = (runId: string) => runCli(['export', `${runId}.csv`, '--to', `duckdb:${file}`, '--run-id', runId, '--rate', FAST_RATE, '--quiet', '--json'], { cwd: dir, env: envFor(emulator) });
  t.is((await night('n1')).code, 0);
  await open((c) => c.run(`ALTER TABLE _pylon_state_blobs ADD COLUMN note VARCHAR`));
  const changed = [...emulator.store.all()][0]!;
  emulator.store.update(changed.id, { name: 'Changed With A Note Column' });

  const listed = emulator.stats().requests.list ?? 0;
  const refused = await night('n2');
  t.is(refused.code, 1, refused.stderr);
  t.regex(refused.stderr, /LOAD_TABLE_CONFLICT/);
  t.true(
    refused.stderr.includes(`the kept state "_pylon_state_blobs" was changed by hand: it has column note, and a load writes its rows by position (table_name, part, data: DuckDB's appender), so it cannot write them; drop it (ALTER TABLE "_pylon_state_blobs" DROP COLUMN "note";) or move those tables aside (`),
    refused.stderr,
  );
  t.notRegex(refused.stderr, /EndRow/, 'not the appender\'s words');
  t.notRegex(refused.stderr, /\n\s+at /, 'no stack trace');
  t.is(emulator.stats().requests.list ?? 0, listed, 'refused before the first page');
  t.false(existsSync(join(dir, 'n2.csv')), 'nothing published');

  await open((c) => c.run(`ALTER TABLE "_pylon_state_blobs" DROP COLUMN "note"`));
  const healed = await night('n3');
  t.is(healed.code, 0, healed.stderr);
  const manifest = await readManifest(join(dir, 'n3.csv.manifest.json'));
  t.like(manifest.load, { updated: 1, staged: 'changes' });
  const columns = manifest.schema!.columns;
  const rows = await open(async (c) => (await c.runAndReadAll(`SELECT ${selectList(columns, 'duckdb')} FROM contacts WHERE _deleted_at IS NULL`)).getRowObjectsJS() as Array<Record<string, unknown>>);
  t.is(valuesSha256(columns, rows), manifest.values!.sha256, 'the table equals Pylon');
  const quiet = await night('n4');
  t.is(quiet.code, 0, quiet.stderr);
  t.like((await readManifest(join(dir, 'n4.csv.manifest.json'))).load, { inserted: 0, updated: 0, deleted: 0, staged: 'changes' }, 'the night after writes nothing');
});
