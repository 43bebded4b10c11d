import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, tempDir } from '../helpers.js';

pgTest(`postgres: #schema.table loads into that schema (its load log beside it); a missing schema is a clear error before any page${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 93, seedRandom: 15 }, async (emulator) => {
    const schema = uniqueTable('raw');
    const to = `${PG_URL}#${schema}.contacts`;
    const missing = await exportFrom(emulator, { to });
    t.is(missing.stoppedAt?.code, 'LOAD_TABLE_CONFLICT');
    t.regex(missing.stoppedAt!.message, new RegExp(`schema ${schema} does not exist; create it first`));
    t.is(missing.pages, 0);
    t.false(missing.stoppedAt!.message.includes('pylon-test-password'));

    await withPg((db) => db.query(`CREATE SCHEMA "${schema}"`));
    try {
      const loaded = await exportFrom(emulator, { to, runId: 'q1' });
      t.like(loaded, { complete: true });
      t.like(loaded.load, { table: `${schema}.contacts`, inserted: 15 });
      await withPg(async (db) => {
        t.is((await db.query(`SELECT count(*)::int AS n FROM "${schema}".contacts WHERE _deleted_at IS NULL`)).rows[0].n, 15);
        t.deepEqual((await db.query(`SELECT run_id, table_name, status FROM "${schema}"._pylon_loads`)).rows, [{ run_id: 'q1', table_name: `${schema}.contacts`, status: 'committed' }]);
      });
      const again = await exportFrom(emulator, { to, runId: 'q2' });
      t.like(again.load, { inserted: 0, unchanged: 15 });
    } finally {
      await withPg((db) => db.query(`DROP SCHEMA "${schema}" CASCADE`));
    }
  });
});

test('duckdb: #schema.table creates the schema and loads there; a staging file and DuckDB spill files left by a killed run are swept by the next run', async (t) => {
  await withEmulator({ seed: 94, seedRandom: 10 }, async (emulator) => {
    const dir = await tempDir();
    const db = join(dir, 'w.duckdb');
    // A process that has exited: its pid names a staging file nobody owns any more.
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    const stale = `.pylon-stage-${child.pid}-1700000000000.parquet`;
    await writeFile(join(dir, stale), 'names and emails');
    // What DuckDB spilled for a load killed mid-merge, in the database's temporary folder.
    await mkdir(`${db}.tmp`);
    await writeFile(join(`${db}.tmp`, 'duckdb_temp_storage_DEFAULT-0.tmp'), 'names and emails');
    const loaded = await exportFrom(emulator, { to: `duckdb:${db}#raw.people`, runId: 'r1' });
    t.like(loaded, { complete: true });
    t.like(loaded.load, { table: 'raw.people', inserted: 10 });
    t.deepEqual((await readdir(dir)).filter((f) => f.startsWith('.pylon-stage-')), [], 'the stale staging file and this run\'s are gone');
    t.deepEqual((await readdir(`${db}.tmp`).catch(() => [])).filter((f) => f.startsWith('duckdb_temp_')), [], 'the killed run\'s spill file is gone');
    const instance = await DuckDBInstance.create(db);
    const connection = await instance.connect();
    try {
      t.deepEqual((await connection.runAndReadAll(`SELECT count(*)::INT AS n FROM raw.people`)).getRowObjectsJS(), [{ n: 10 }]);
      t.deepEqual((await connection.runAndReadAll(`SELECT run_id, table_name FROM raw._pylon_loads`)).getRowObjectsJS(), [{ run_id: 'r1', table_name: 'raw.people' }]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
