/**
 * A load refused as it opens, before any merge (LOAD_TABLE_CONFLICT: here a
 * list column renamed by hand, without --allow-schema-change), wrote no
 * `_pylon_loads` row, while a load that failed in its merge did: the load log
 * skipped that night. Now the refused night is logged `failed`, with the
 * refusal as its error (password hidden) and the schema hash, and the table
 * itself is not touched: its columns and rows are as they were.
 */
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, tempDir } from '../helpers.js';
import { duckRows } from './table-check.js';

interface Db {
  to: string;
  table: string;
  loads: string;
  run(sql: string): Promise<Array<Record<string, unknown>>>;
}

/** Rows as text, to compare (DuckDB gives BIGINT values as bigint). */
const text = (rows: unknown) => JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));

async function refusedNight(t: ExecutionContext, db: Db) {
  await withEmulator({ seed: 94, seedRandom: 10 }, async (emulator) => {
    const dir = await tempDir();
    const first = await exportFrom(emulator, { output: join(dir, 'c.parquet'), to: db.to, runId: 'r1' });
    t.like(first, { complete: true }, first.stoppedAt?.message);
    await db.run(`ALTER TABLE ${db.table} RENAME COLUMN emails TO emails_old`);
    const before = text(await db.run(`SELECT * FROM ${db.table} ORDER BY id`));

    const refused = await exportFrom(emulator, { output: join(dir, 'c.parquet'), to: db.to, runId: 'r2' });
    t.false(refused.complete);
    t.is(refused.stoppedAt?.code, 'LOAD_TABLE_CONFLICT');
    t.regex(refused.stoppedAt!.message, /emails/);
    t.is(text(await db.run(`SELECT * FROM ${db.table} ORDER BY id`)), before, 'the table is as it was (the renamed column too)');

    const log = await db.run(`SELECT run_id, status, inserted, error, schema_hash FROM ${db.loads} ORDER BY finished_at, run_id`);
    t.deepEqual(log.map((r) => [r.run_id, r.status]), [['r1', 'committed'], ['r2', 'failed']], 'the refused night is in the load log');
    t.like(log[1], { inserted: null, error: refused.stoppedAt!.message, schema_hash: refused.schemaHash });
    t.false(text(log).includes('pylon-test-password'), 'no password in the log');

    // With the flag the next night loads, and the log goes on.
    const allowed = await exportFrom(emulator, { output: join(dir, 'c.parquet'), to: db.to, runId: 'r3', allowSchemaChange: true });
    t.like(allowed, { complete: true }, allowed.stoppedAt?.message);
    t.deepEqual((await db.run(`SELECT run_id, status FROM ${db.loads} ORDER BY finished_at, run_id`)).map((r) => [r.run_id, r.status]), [['r1', 'committed'], ['r2', 'failed'], ['r3', 'committed']]);
  });
}

pgTest(`postgres: a load refused as it opens (a column renamed by hand) is logged failed in _pylon_loads, the table untouched${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('refused');
  await refusedNight(t, { to: `${PG_URL}#${table}`, table: `"${table}"`, loads: `"_pylon_loads" WHERE table_name = '${table}'`, run: (sql) => withPg(async (c) => (await c.query(sql)).rows) });
});

test('duckdb: a load refused as it opens (a column renamed by hand) is logged failed in _pylon_loads, the table untouched', async (t) => {
  const file = join(await tempDir(), 'w.duckdb');
  await refusedNight(t, { to: `duckdb:${file}`, table: 'contacts', loads: '_pylon_loads', run: (sql) => duckRows(file, sql) });
});

pgTest(`postgres: a role that may read the table but not write _pylon_loads is refused as before (LOAD_TABLE_CONFLICT), and no row is logged${PG_SKIP_NOTE}`, async (t) => {
  const table = uniqueTable('refusedro');
  const role = `reader_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  await withEmulator({ seed: 95, seedRandom: 5 }, async (emulator) => {
    const dir = await tempDir();
    const first = await exportFrom(emulator, { output: join(dir, 'c.parquet'), to: `${PG_URL}#${table}`, runId: 'o1' });
    t.like(first, { complete: true }, first.stoppedAt?.message);
    await withPg((c) => c.query(`ALTER TABLE "${table}" RENAME COLUMN emails TO emails_old; CREATE ROLE ${role} LOGIN PASSWORD 'reader-password'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`));
    try {
      const url = new URL(PG_URL!);
      url.username = role;
      url.password = 'reader-password';
      const refused = await exportFrom(emulator, { output: join(dir, 'c.parquet'), to: `${url.toString()}#${table}`, runId: 'o2' });
      t.is(refused.stoppedAt?.code, 'LOAD_TABLE_CONFLICT', refused.stoppedAt?.message);
      const log = await withPg(async (c) => (await c.query(`SELECT run_id, status FROM "_pylon_loads" WHERE table_name = $1 ORDER BY finished_at`, [table])).rows);
      t.deepEqual(log, [{ run_id: 'o1', status: 'committed' }]);
    } finally {
      await withPg((c) => c.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}; DROP ROLE ${role}`));
    }
  });
});
