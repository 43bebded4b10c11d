import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../../helpers/cli.js';
import type { ExportStats } from '../../../src/export/run-export.js';

/**
 * The kept state `_pylon_state` made again by hand without its primary key
 * (CREATE TABLE … AS SELECT, a restore that keeps no constraints): its row was
 * written with `ON CONFLICT (table_name)`, which then failed the whole load
 * after the walk with the database's own words (PostgreSQL: `there is no
 * unique or exclusion constraint matching the ON CONFLICT specification`;
 * DuckDB: `There are no UNIQUE/PRIMARY KEY Indexes …`). The row is now
 * replaced (deleted, then inserted) in the load's transaction: the load goes
 * on, the table keeps one state row, and the next night stages only changes.
 */

interface Db {
  to: string;
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
  run(sql: string): Promise<void>;
}

async function nights(t: ExecutionContext, db: Db) {
  const emulator = await startEmulator(t, { seed: 63, seedRandom: 20 });
  const dir = tempDir(t);
  const night = async (runId: string) => {
    const result = await runCli(['export', `${runId}.csv`, '--to', db.to, '--run-id', runId, '--rate', FAST_RATE, '--quiet', '--json'], { cwd: dir, env: envFor(emulator) });
    t.is(result.code, 0, result.stderr);
    t.notRegex(result.stderr, /ON CONFLICT|\n\s+at /);
    return statsOf<ExportStats>(result);
  };
  t.like((await night('n1')).load, { inserted: 20 });
  // The kept state made again without its key.
  await db.run(`CREATE TABLE _pylon_state_copy AS SELECT * FROM _pylon_state`);
  await db.run(`DROP TABLE _pylon_state`);
  await db.run(`ALTER TABLE _pylon_state_copy RENAME TO _pylon_state`);
  t.like((await night('n2')).load, { inserted: 0, updated: 0, unchanged: 20, deleted: 0 });
  // The test's own schema or database file: every state row is this table's.
  t.deepEqual((await db.rows(`SELECT run_id FROM _pylon_state`)).map((r) => String(r.run_id)), ['n2'], "one state row, the last load's");
  t.like((await night('n3')).load, { unchanged: 20, staged: 'changes' });
  t.deepEqual((await db.rows(`SELECT run_id FROM _pylon_state`)).map((r) => String(r.run_id)), ['n3']);
}

pgTest(`postgres: a kept state whose primary key was dropped by hand is replaced, not a raw ON CONFLICT error${PG_SKIP_NOTE}`, async (t) => {
  const schema = uniqueTable('statekey');
  await withPg((c) => c.query(`CREATE SCHEMA "${schema}"`));
  t.teardown(() => withPg((c) => c.query(`DROP SCHEMA "${schema}" CASCADE`)));
  await nights(t, {
    to: `${PG_URL}#${schema}.contacts`,
    rows: (sql) =>
      withPg(async (c) => {
        await c.query(`SET search_path TO "${schema}"`);
        return (await c.query(sql)).rows;
      }),
    run: (sql) => withPg(async (c) => void (await c.query(`SET search_path TO "${schema}"; ${sql}`))),
  });
});

test('duckdb: a kept state whose primary key was dropped by hand is replaced, not a raw ON CONFLICT error', async (t) => {
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
  await nights(t, {
    to: `duckdb:${file}`,
    rows: (sql) => open(async (c) => (await c.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>),
    run: (sql) => open(async (c) => void (await c.run(sql))),
  });
});
